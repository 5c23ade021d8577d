# An instance and its indexing progress.
data "cfai_ai_search_instance" "docs" {
  id = "docs-search"
}

output "docs_indexed" {
  value = data.cfai_ai_search_instance.docs.stats.completed
}
