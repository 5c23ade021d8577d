#!/bin/sh
# An existing namespace, by account and name:
terraform import cfai_ai_search_namespace.docs 0123456789abcdef0123456789abcdef/docs

# or by name alone, in the provider's account:
terraform import cfai_ai_search_namespace.docs docs
