# Every permission group that applies to single R2 buckets.
data "cfai_permission_groups" "bucket_scoped" {
  scope = "com.cloudflare.edge.r2.bucket"
}

# Groups whose name contains "R2 Storage" (case-insensitive).
data "cfai_permission_groups" "r2_storage" {
  name = "R2 Storage"
}

output "bucket_groups" {
  value = data.cfai_permission_groups.bucket_scoped.groups
}

# name => id, for names that are unique among the matches.
output "r2_storage_ids" {
  value = data.cfai_permission_groups.r2_storage.ids
}
