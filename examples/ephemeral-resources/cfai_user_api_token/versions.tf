terraform {
  required_version = ">= 1.11"
  required_providers {
    cfai = {
      source = "seed/cfai"
    }
  }
}
