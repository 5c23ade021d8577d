#!/bin/sh
# Import an existing account token by <account_id>/<token_id> ...
terraform import cfai_account_api_token.app 0123456789abcdef0123456789abcdef/ed17574386854bf78a67040be0a770b0

# ... or by <token_id>, with the provider's account_id.
terraform import cfai_account_api_token.app ed17574386854bf78a67040be0a770b0

# Cloudflare never returns a token's value after creation, so value and
# secret_access_key are null after import. Set (or change) rotation_triggers
# to roll the token and obtain a fresh value.
