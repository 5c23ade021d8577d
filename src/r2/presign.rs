//! AWS Signature Version 4 query-string signing ("presigned URLs"), as R2's
//! S3 API accepts them: computed locally, no network. Region `auto`,
//! service `s3`, `UNSIGNED-PAYLOAD`, only `host` signed.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

pub struct Presign<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// The raw, unencoded path, e.g. `/bucket/dir/my file.txt`.
    pub path: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a Secret,
    pub session_token: Option<&'a Secret>,
    pub at: DateTime<Utc>,
    pub expires_in: u64,
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and
/// `/` when `keep_slash`), uppercase hex, as SigV4 requires.
pub fn uri_encode(raw: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The presigned URL (a secret: it grants access until it expires).
pub fn presign(p: &Presign<'_>) -> Secret {
    let amz_date = p.at.format("%Y%m%dT%H%M%SZ").to_string();
    let date = p.at.format("%Y%m%d").to_string();
    let scope = format!("{date}/{}/s3/aws4_request", p.region);
    let mut query = vec![
        (
            "X-Amz-Algorithm".to_string(),
            "AWS4-HMAC-SHA256".to_string(),
        ),
        (
            "X-Amz-Credential".to_string(),
            format!("{}/{scope}", p.access_key_id),
        ),
        ("X-Amz-Date".to_string(), amz_date.clone()),
        ("X-Amz-Expires".to_string(), p.expires_in.to_string()),
        ("X-Amz-SignedHeaders".to_string(), "host".to_string()),
    ];
    if let Some(token) = p.session_token {
        query.push((
            "X-Amz-Security-Token".to_string(),
            token.expose().to_string(),
        ));
    }
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_uri = uri_encode(p.path, true);
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
        p.method, p.host
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("AWS4{}", p.secret_access_key.expose()).as_bytes(),
        &date,
    );
    let k_region = hmac(&k_date, p.region);
    let k_service = hmac(&k_region, "s3");
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));
    Secret::new(format!(
        "https://{}{canonical_uri}?{canonical_query}&X-Amz-Signature={signature}",
        p.host
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// AWS's published example ("Authenticating Requests: Using Query
    /// Parameters", Signature Version 4): region us-east-1 there, `auto` on R2.
    #[test]
    fn matches_the_aws_published_example_byte_for_byte() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let url = presign(&Presign {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            region: "us-east-1",
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: &secret,
            session_token: None,
            at: Utc.with_ymd_and_hms(2013, 5, 24, 0, 0, 0).unwrap(),
            expires_in: 86400,
        });
        assert_eq!(
            url.expose(),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn keys_are_encoded_once_with_slashes_kept() {
        assert_eq!(
            uri_encode("/b/dir/my file+1 é~.txt", true),
            "/b/dir/my%20file%2B1%20%C3%A9~.txt"
        );
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(
            uri_encode("%41", true),
            "%2541",
            "no double decoding: a % is encoded"
        );
    }

    #[test]
    fn a_session_token_is_signed_into_the_query() {
        let secret = Secret::new("s");
        let token = Secret::new("tok/en+=");
        let base = Presign {
            method: "GET",
            host: "h",
            path: "/b/k",
            region: "auto",
            access_key_id: "AK",
            secret_access_key: &secret,
            session_token: Some(&token),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            expires_in: 60,
        };
        let with = presign(&base);
        assert!(
            with.expose()
                .contains("X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host"),
            "{}",
            with.expose()
        );
        let without = presign(&Presign {
            session_token: None,
            ..base
        });
        let sig = |u: &Secret| u.expose().rsplit('=').next().unwrap().to_string();
        assert_ne!(
            sig(&with),
            sig(&without),
            "the token is part of what is signed"
        );
    }
}
