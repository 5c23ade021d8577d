# The token AI Search reads the bucket with (minted and managed here).
resource "cfai_ai_search_service_token" "managed" {
  name = "docs-indexer"
}

resource "cfai_ai_search_namespace" "docs" {
  name = "docs"
}

# An R2-backed instance. Settings left out take Cloudflare's defaults and
# never show a diff.
resource "cfai_ai_search_instance" "docs" {
  id       = "docs-search"
  type     = "r2"
  source   = "docs-bucket"
  token_id = cfai_ai_search_service_token.managed.id

  max_num_results = 20
  chunk_size      = 512
  index_method    = { keyword = true, vector = true }
  source_params   = { prefix = "public/", include_items = ["**/*.md"] }

  # Applied right after the create, in the same apply.
  system_prompt_ai_search = "Answer from the documentation only."

  # Any change starts a sync job, e.g. after new uploads.
  sync_triggers = { release = "2026.11" }
}

# A web-crawler instance in a namespace.
resource "cfai_ai_search_instance" "site" {
  id        = "site-search"
  namespace = cfai_ai_search_namespace.docs.name
  type      = "web-crawler"
  source    = "example.com"
  source_params = {
    web_crawler = { parse_type = "sitemap" }
  }
}
