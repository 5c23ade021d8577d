# An R2-capable token (see cfai_account_api_token).
resource "cfai_account_api_token" "app" {
  name = "app-r2-writer"
  policies = [{
    permission_groups = ["Workers R2 Storage Write"]
    resources         = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
  }]
}

# The S3 secret access key R2 derives from a token value (its SHA-256).
output "derived_secret" {
  value     = provider::cfai::s3_secret_access_key(cfai_account_api_token.app.value)
  sensitive = true
}
