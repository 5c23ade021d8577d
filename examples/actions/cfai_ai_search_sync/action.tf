resource "cfai_ai_search_service_token" "search" {
  name = "docs-search"
}

# Re-index the instance right after it is created, and on demand with
#   terraform apply -invoke=action.cfai_ai_search_sync.reindex
# (for example after uploading documents to the bucket).
action "cfai_ai_search_sync" "reindex" {
  config {
    instance_id = "docs-search"
    timeout     = "15m"
  }
}

resource "cfai_ai_search_instance" "docs" {
  id       = "docs-search"
  type     = "r2"
  source   = "docs-bucket"
  token_id = cfai_ai_search_service_token.search.id

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.cfai_ai_search_sync.reindex]
    }
  }
}
