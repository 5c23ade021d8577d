# A namespace groups AI Search instances (cfai_ai_search_instance.namespace).
resource "cfai_ai_search_namespace" "docs" {
  name        = "docs"
  description = "Product documentation indexes"
}
