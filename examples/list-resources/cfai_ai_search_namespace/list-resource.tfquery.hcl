# The namespaces of an account (`default` is left out: it cannot be
# managed).
list "cfai_ai_search_namespace" "all" {
  provider = cfai

  config {
    account_id = var.account_id
  }
}
