terraform {
  required_version = ">= 1.14"
  required_providers {
    cfai = {
      source = "seed/cfai"
    }
  }
}
