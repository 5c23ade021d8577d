variable "account_id" {
  description = "The account whose namespaces to list."
  type        = string
}
