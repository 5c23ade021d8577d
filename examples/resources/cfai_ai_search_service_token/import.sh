#!/bin/sh
# A registration, by account and registration id (a token this provider
# minted is recognised as managed again):
terraform import cfai_ai_search_service_token.managed 0123456789abcdef0123456789abcdef/5e0d2f0a-7e2b-4c39-9a43-2f3c3cf9b6a1
