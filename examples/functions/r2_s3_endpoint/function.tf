# The S3 endpoint of the account's R2 storage in a jurisdiction.
output "eu_endpoint" {
  value = provider::cfai::r2_s3_endpoint("0123456789abcdef0123456789abcdef", "eu")
}
