# Reuse the service token registered in the dashboard, as Cloudflare
# recommends, instead of registering another.
data "cfai_ai_search_service_tokens" "dashboard" {
  name = "docs-indexer"
}

output "dashboard_token_ids" {
  value = [for t in data.cfai_ai_search_service_tokens.dashboard.tokens : t.id]
}
