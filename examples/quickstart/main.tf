# The quickstart: an R2-scoped token by permission-group names with its S3
# credentials, an AI Search service token the provider mints and manages,
# and an R2-backed AI Search instance that reads with it.
terraform {
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
  description = "The Cloudflare account (the quickstart passes CLOUDFLARE_ACCOUNT_ID)."
}

resource "cfai_account_api_token" "uploader" {
  name = "quickstart-r2-uploader"
  policies = [{
    permission_groups = ["Workers R2 Storage Bucket Item Write"]
    resources = {
      (provider::cfai::r2_bucket_resource(var.account_id, "quickstart-docs", "default")) = "*"
    }
  }]
}

resource "cfai_ai_search_service_token" "indexer" {
  name = "quickstart-indexer"
}

resource "cfai_ai_search_instance" "docs" {
  id       = "quickstart-docs"
  type     = "r2"
  source   = "quickstart-docs"
  token_id = cfai_ai_search_service_token.indexer.id
}

output "s3_endpoint" {
  value = cfai_account_api_token.uploader.s3_endpoint
}

output "access_key_id" {
  value = cfai_account_api_token.uploader.access_key_id
}

output "secret_access_key" {
  value     = cfai_account_api_token.uploader.secret_access_key
  sensitive = true
}

output "ai_search_instance" {
  value = cfai_ai_search_instance.docs.id
}
