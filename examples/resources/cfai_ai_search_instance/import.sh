#!/bin/sh
# An instance in the default namespace, by account and id:
terraform import cfai_ai_search_instance.docs 0123456789abcdef0123456789abcdef/docs-search

# An instance in another namespace:
terraform import cfai_ai_search_instance.site 0123456789abcdef0123456789abcdef/docs/site-search
