# An R2-capable token (see cfai_account_api_token).
resource "cfai_account_api_token" "app" {
  name = "app-r2-writer"
  policies = [{
    permission_groups = ["Workers R2 Storage Write"]
    resources         = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
  }]
}

# Credentials for one bucket, valid 15 minutes, never stored: here handed
# to a script through a provisioner. They can be given to any provider or
# tool that takes S3 credentials in its configuration, too.
ephemeral "cfai_r2_temporary_credentials" "upload" {
  bucket               = "logs"
  parent_access_key_id = cfai_account_api_token.app.access_key_id
  permission           = "object-read-write"
  ttl_seconds          = 900
  prefixes             = ["incoming/"]
}

resource "terraform_data" "upload" {
  provisioner "local-exec" {
    command = "echo \"uploading with key $AWS_ACCESS_KEY_ID to $ENDPOINT\""
    environment = {
      AWS_ACCESS_KEY_ID     = ephemeral.cfai_r2_temporary_credentials.upload.access_key_id
      AWS_SECRET_ACCESS_KEY = ephemeral.cfai_r2_temporary_credentials.upload.secret_access_key
      AWS_SESSION_TOKEN     = ephemeral.cfai_r2_temporary_credentials.upload.session_token
      ENDPOINT              = ephemeral.cfai_r2_temporary_credentials.upload.s3_endpoint
    }
  }
}
