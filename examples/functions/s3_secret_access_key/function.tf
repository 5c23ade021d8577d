# The S3 secret access key R2 derives from a token value (its SHA-256).
output "derived_secret" {
  value     = provider::cfai::s3_secret_access_key(cfai_account_api_token.app.value)
  sensitive = true
}
