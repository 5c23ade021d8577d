# Cloudflare's AI Search guide, step by step, as one configuration:
#   1. create the service API token with POST /user/tokens, with the
#      "AI Search Index Engine" and "Workers R2 Storage Write" groups;
#   2. register it with AI Search;
#   3. create an R2-backed AI Search instance that reads with it.
# The provider's credentials need "User > API Tokens > Edit" (step 1) and
# AI Search edit rights (steps 2 and 3); no account token is created.
terraform {
  required_version = ">= 1.11"
  required_providers {
    cfai = {
      source = "seed/cfai"
    }
  }
}

# Credentials, account and (for the local emulator) base URL come from
# CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_BASE_URL.
provider "cfai" {}

variable "account_id" {
  type        = string
  description = "The Cloudflare account whose R2 buckets AI Search indexes."
}

# 1. The service API token, owned by the user.
resource "cfai_user_api_token" "ai_search" {
  name = "ai-search-service-token"
  policies = [{
    permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"]
    resources         = { "com.cloudflare.api.account.${var.account_id}" = "*" }
  }]
}

# 2. Registered with AI Search. The key is write-only: sent, never stored
#    by this resource (bump the version to send it again).
resource "cfai_ai_search_service_token" "ai_search" {
  name                  = "ai-search-service-token"
  cf_api_id             = cfai_user_api_token.ai_search.id
  cf_api_key_wo         = cfai_user_api_token.ai_search.value
  cf_api_key_wo_version = 1
}

# 3. The R2-backed instance, reading the bucket with that token.
resource "cfai_ai_search_instance" "docs" {
  id       = "docs-search"
  type     = "r2"
  source   = "docs-bucket"
  token_id = cfai_ai_search_service_token.ai_search.id
}

# The same three steps in one resource: managed mode mints the user token
# itself (POST /user/tokens), registers it, and deletes both on destroy.
resource "cfai_ai_search_service_token" "managed" {
  name        = "ai-search-managed"
  token_owner = "user"
}

output "instance" {
  value = cfai_ai_search_instance.docs.id
}
