# A token for an application that writes to R2, by permission-group name,
# and the S3 credentials R2 derives from it.
resource "cfai_account_api_token" "app" {
  name = "app-r2-writer"

  policies = [
    {
      permission_groups = ["Workers R2 Storage Write"]
      resources = {
        "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*"
      }
    },
  ]

  condition = {
    request_ip = {
      in = ["192.0.2.0/24", "198.51.100.7"] # a bare IP means /32
    }
  }

  expires_on = "2030-01-01T00:00:00Z"

  # Change any value to roll the token: same id, new value and secret.
  rotation_triggers = {
    rotated = "2026-11"
  }
}

# A token that can only touch one bucket, in the EU jurisdiction.
resource "cfai_account_api_token" "logs_bucket" {
  name = "logs-bucket-writer"

  policies = [
    {
      permission_groups = ["Workers R2 Storage Bucket Item Write"]
      resources = {
        (provider::cfai::r2_bucket_resource("0123456789abcdef0123456789abcdef", "logs", "eu")) = "*"
      }
    },
  ]
}

# Every bucket of the account, in the nested form.
resource "cfai_account_api_token" "all_buckets_read" {
  name = "all-buckets-reader"

  policies = [
    {
      permission_groups = ["Workers R2 Storage Bucket Item Read"]
      resources = {
        "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = jsonencode({
          "com.cloudflare.edge.r2.bucket.*" = "*"
        })
      }
    },
  ]
}

output "s3_access_key_id" {
  value = cfai_account_api_token.app.access_key_id
}

output "s3_secret_access_key" {
  value     = cfai_account_api_token.app.secret_access_key
  sensitive = true
}

output "s3_endpoint" {
  value = cfai_account_api_token.app.s3_endpoint
}
