//! R2 facts that are pure functions of their inputs: the S3 credentials
//! derived from an API token, endpoints and bucket names.

use sha2::{Digest, Sha256};

pub mod presign;

pub fn s3_secret_access_key(token_value: &str) -> String {
    hex::encode(Sha256::digest(token_value.as_bytes()))
}

pub fn r2_s3_endpoint(account_id: &str, jurisdiction: &str) -> String {
    format!("https://{}", r2_s3_host(account_id, jurisdiction))
}

/// `<account>[.<jurisdiction>].r2.cloudflarestorage.com`.
pub fn r2_s3_host(account_id: &str, jurisdiction: &str) -> String {
    if jurisdiction == "default" {
        format!("{account_id}.r2.cloudflarestorage.com")
    } else {
        format!("{account_id}.{jurisdiction}.r2.cloudflarestorage.com")
    }
}

pub const R2_JURISDICTIONS: [&str; 4] = ["default", "eu", "fedramp", "us"];

/// R2 bucket names: 3-63 characters, lowercase letters, digits and hyphens,
/// starting and ending with a letter or digit.
pub fn is_r2_bucket_name(s: &str) -> bool {
    let ok_len = (3..=63).contains(&s.len());
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !s.starts_with('-') && !s.ends_with('-');
    ok_len && ok_chars && ok_ends
}
