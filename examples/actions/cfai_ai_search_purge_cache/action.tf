resource "cfai_ai_search_service_token" "search" {
  name = "docs-search"
}

resource "cfai_ai_search_instance" "docs" {
  id       = "docs-search"
  type     = "r2"
  source   = "docs-bucket"
  token_id = cfai_ai_search_service_token.search.id

  # A change of the instance's settings purges answers cached under the
  # old ones.
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.cfai_ai_search_purge_cache.docs]
    }
  }
}

# Also on demand:
#   terraform apply -invoke=action.cfai_ai_search_purge_cache.docs
action "cfai_ai_search_purge_cache" "docs" {
  config {
    instance_id = "docs-search"
  }
}
