# The policy resource key of one bucket, for a bucket-scoped token.
output "logs_bucket_key" {
  value = provider::cfai::r2_bucket_resource("0123456789abcdef0123456789abcdef", "logs", "eu")
}
