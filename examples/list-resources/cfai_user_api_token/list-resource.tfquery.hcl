# The first 20 API tokens of the user the provider authenticates as.
list "cfai_user_api_token" "mine" {
  provider = cfai
  limit    = 20
}
