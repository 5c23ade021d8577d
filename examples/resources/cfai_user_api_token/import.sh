#!/bin/sh
# Import an existing user token by its id (it belongs to the user the
# provider authenticates as).
terraform import cfai_user_api_token.app ed17574386854bf78a67040be0a770b0

# Cloudflare never returns a token's value after creation, so value and
# secret_access_key are null after import. Set (or change) rotation_triggers
# to roll the token and obtain a fresh value.
