# Managed mode: the provider mints an account token with "AI Search Index
# Engine" and "Workers R2 Storage Write", registers it, and keeps no secret
# in the state.
resource "cfai_ai_search_service_token" "managed" {
  name = "docs-indexer"
}

# Managed mode for credentials that may only create user tokens: the minted
# token is the user's (POST /user/tokens), as in Cloudflare's AI Search guide.
resource "cfai_ai_search_service_token" "managed_by_user" {
  name        = "docs-indexer-user"
  token_owner = "user"
}

# Bring your own token: typically one this configuration also manages. The
# key is write-only (Terraform >= 1.11): sent at create, and again whenever
# cf_api_key_wo_version changes, never stored.
resource "cfai_account_api_token" "indexer" {
  name = "ai-search-indexer"
  policies = [{
    permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"]
    resources         = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
  }]
}

resource "cfai_ai_search_service_token" "own" {
  name                  = "docs-indexer-own"
  cf_api_id             = cfai_account_api_token.indexer.id
  cf_api_key_wo         = cfai_account_api_token.indexer.value
  cf_api_key_wo_version = 1
}

output "service_token_id" {
  value = cfai_ai_search_service_token.managed.id
}
