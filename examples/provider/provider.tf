terraform {
  required_providers {
    cfai = {
      source = "seed/cfai"
    }
  }
}

# Credentials come from CLOUDFLARE_API_TOKEN (recommended) or api_token.
provider "cfai" {
  account_id = "0123456789abcdef0123456789abcdef" # or CLOUDFLARE_ACCOUNT_ID
  # base_url = "http://127.0.0.1:8787/client/v4" # the local emulator
}
