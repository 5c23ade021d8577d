# Every active account token whose name contains "deploy", with the
# object itself, so that `terraform query -generate-config-out=tokens.tf`
# can write import and resource blocks for them.
list "cfai_account_api_token" "deploy" {
  provider         = cfai
  include_resource = true

  config {
    name   = "deploy"
    status = "active"
  }
}
