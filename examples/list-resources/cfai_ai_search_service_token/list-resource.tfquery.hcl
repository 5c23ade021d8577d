# Every AI Search service token registered in the provider's account.
list "cfai_ai_search_service_token" "all" {
  provider = cfai
}
