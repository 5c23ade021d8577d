# The instances of every namespace, `default` included.
list "cfai_ai_search_instance" "all" {
  provider = cfai
}

# Only those of one namespace.
list "cfai_ai_search_instance" "docs" {
  provider = cfai

  config {
    namespace = "docs"
  }
}
