# A user token that lives for one Terraform run (deleted when the run ends,
# and expiring after 30 minutes even if the run crashes), for credentials
# that may only create user tokens. It configures a second provider without
# a long-lived secret in the state.
ephemeral "cfai_user_api_token" "run" {
  name = "terraform-run"
  policies = [{
    permission_groups = ["Account API Tokens Read"]
    resources         = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
  }]
  ttl = "30m"
}

provider "cfai" {
  alias     = "run"
  api_token = ephemeral.cfai_user_api_token.run.value
}

# Listing permission groups needs "Account API Tokens Read", which is all
# the run token may do.
data "cfai_permission_groups" "seen_by_run_token" {
  provider = cfai.run
  name     = "Account Settings"
}
