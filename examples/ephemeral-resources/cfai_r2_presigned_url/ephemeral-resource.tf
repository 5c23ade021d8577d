# An R2-capable token (see cfai_account_api_token).
resource "cfai_account_api_token" "app" {
  name = "app-r2-writer"
  policies = [{
    permission_groups = ["Workers R2 Storage Write"]
    resources         = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
  }]
}

# A presigned GET URL for one object, signed locally with the token's S3
# key pair, valid one hour and never stored: handed to a provisioner.
ephemeral "cfai_r2_presigned_url" "report" {
  bucket            = "logs"
  key               = "reports/2026-11 summary.pdf"
  expires_in        = 3600
  access_key_id     = cfai_account_api_token.app.access_key_id
  secret_access_key = cfai_account_api_token.app.secret_access_key
}

resource "terraform_data" "notify" {
  provisioner "local-exec" {
    command = "test -n \"$REPORT_URL\" && echo 'report link ready'"
    environment = {
      REPORT_URL = ephemeral.cfai_r2_presigned_url.report.url
    }
  }
}
