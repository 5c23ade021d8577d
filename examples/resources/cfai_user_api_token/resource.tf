# A token owned by the user the provider authenticates as (POST /user/tokens):
# what credentials with only "User > API Tokens > Edit" can create. Cloudflare
# allows 50 user tokens per user.
resource "cfai_user_api_token" "app" {
  name = "app-r2-writer"

  policies = [
    {
      permission_groups = ["Workers R2 Storage Write"]
      resources = {
        "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*"
      }
    },
  ]

  expires_on = "2030-01-01T00:00:00Z"

  # Change any value to roll the token: same id, new value and secret.
  rotation_triggers = {
    rotated = "2026-12"
  }
}

# The S3 credentials R2 derives from the token. The endpoint is the one of
# the provider's account_id (null when the provider has none).
output "s3_access_key_id" {
  value = cfai_user_api_token.app.access_key_id
}

output "s3_secret_access_key" {
  value     = cfai_user_api_token.app.secret_access_key
  sensitive = true
}

output "s3_endpoint" {
  value = cfai_user_api_token.app.s3_endpoint
}
