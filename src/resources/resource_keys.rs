//! The resource keys of a token policy, checked against the families
//! Cloudflare defines, so that a misspelled key fails at plan instead of
//! becoming a token that grants nothing:
//!
//! - `com.cloudflare.api.account.<account_id>` or `com.cloudflare.api.account.*`
//! - `com.cloudflare.api.account.zone.<zone_id>` or `com.cloudflare.api.account.zone.*`
//! - `com.cloudflare.api.user.<user_id>` or `com.cloudflare.api.user.*`
//! - `com.cloudflare.edge.r2.bucket.<account_id>_<jurisdiction>_<bucket>`, or
//!   `com.cloudflare.edge.r2.bucket.*` (every bucket, nested under an account)
//!
//! Ids are 32 hexadecimal characters; a jurisdiction is `default`, `eu` or
//! `fedramp`; a bucket name is 3 to 63 lowercase letters, digits and
//! hyphens.

use super::permission_groups::levenshtein;
use super::token_model::StringMap;
use crate::framework::{AttrPath, Diagnostics};

/// Each resource key is a Cloudflare resource name; each value is `"*"` or
/// the nested form, a JSON object of resource keys to `"*"`.
pub(crate) fn validate(resources: &StringMap, policy: AttrPath, diags: &mut Diagnostics) {
    let Some(resources) = resources.known() else {
        return;
    };
    for (key, value) in resources {
        let path = policy.clone().attr("resources").key(key);
        if let Err(problem) = check(key) {
            diags.error_at(path, "Invalid resource key", problem);
            continue;
        }
        let Some(text) = value.as_str() else { continue };
        let nested = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok();
        if let Some(inner) = &nested {
            // A nested key is one of the same families (zones, mostly).
            if let Some(problem) = inner.keys().find_map(|k| check(k).err()) {
                diags.error_at(path, "Invalid resource key", problem);
                continue;
            }
        }
        let nested = nested.is_some_and(|m| !m.is_empty() && m.values().all(|v| v == "*"));
        if text != "*" && !nested {
            diags.error_at(
                path,
                "Invalid resource value",
                format!("Use \"*\", or jsonencode() of an object mapping com.cloudflare.* resource keys to \"*\" for the nested form, not {text:?}."),
            );
        }
    }
}

struct Family {
    prefix: &'static str,
    shape: &'static str,
    fits: fn(&str) -> bool,
}

const FAMILIES: [Family; 4] = [
    Family {
        prefix: "com.cloudflare.api.account.zone",
        shape: "com.cloudflare.api.account.zone.<zone_id> or com.cloudflare.api.account.zone.*",
        fits: id_or_any,
    },
    Family {
        prefix: "com.cloudflare.api.account",
        shape: "com.cloudflare.api.account.<account_id> or com.cloudflare.api.account.*",
        fits: id_or_any,
    },
    Family {
        prefix: "com.cloudflare.api.user",
        shape: "com.cloudflare.api.user.<user_id> or com.cloudflare.api.user.*",
        fits: id_or_any,
    },
    Family {
        prefix: "com.cloudflare.edge.r2.bucket",
        shape: "com.cloudflare.edge.r2.bucket.<account_id>_<jurisdiction>_<bucket> or com.cloudflare.edge.r2.bucket.*",
        fits: bucket,
    },
];

/// `Err` says what is wrong with `key` and, for a near miss, what was
/// probably meant.
pub(crate) fn check(key: &str) -> Result<(), String> {
    let Some((prefix, last)) = key.rsplit_once('.') else {
        return Err(not_a_key(key));
    };
    if let Some(family) = FAMILIES.iter().find(|f| f.prefix == prefix) {
        return match (family.fits)(last) {
            true => Ok(()),
            false => Err(format!(
                "{key:?} is not a valid resource key of its kind: expected {}, with ids of 32 hexadecimal characters.",
                family.shape
            )),
        };
    }
    let nearest = FAMILIES
        .iter()
        .map(|f| (levenshtein(prefix, f.prefix), f))
        .min_by_key(|(distance, _)| *distance);
    match nearest {
        Some((distance, family)) if distance <= 3 => Err(format!(
            "{key:?} is not a Cloudflare resource key. Did you mean {:?}?",
            format!("{}.{last}", family.prefix)
        )),
        _ => Err(not_a_key(key)),
    }
}

fn not_a_key(key: &str) -> String {
    let shapes: Vec<&str> = FAMILIES.iter().map(|f| f.shape).collect();
    format!(
        "{key:?} is not a Cloudflare resource key; they are {}.",
        shapes.join("; ")
    )
}

fn hex32(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn id_or_any(s: &str) -> bool {
    s == "*" || hex32(s)
}

fn bucket(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let mut parts = s.splitn(3, '_');
    let (Some(account), Some(jurisdiction), Some(name)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let name_ok = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    hex32(account) && ["default", "eu", "fedramp"].contains(&jurisdiction) && name_ok
}

#[cfg(test)]
mod tests {
    use super::check;

    const A: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn every_family_and_its_wildcard() {
        for key in [
            format!("com.cloudflare.api.account.{A}"),
            "com.cloudflare.api.account.*".into(),
            format!("com.cloudflare.api.account.zone.{A}"),
            "com.cloudflare.api.account.zone.*".into(),
            format!("com.cloudflare.api.user.{A}"),
            format!("com.cloudflare.edge.r2.bucket.{A}_default_logs"),
            format!("com.cloudflare.edge.r2.bucket.{A}_eu_my-bucket-2"),
            "com.cloudflare.edge.r2.bucket.*".into(),
        ] {
            assert_eq!(check(&key), Ok(()), "{key}");
        }
    }

    #[test]
    fn near_misses_say_what_was_meant() {
        let err = check(&format!("com.cloudflare.api.acount.{A}")).unwrap_err();
        assert!(
            err.contains(&format!("Did you mean \"com.cloudflare.api.account.{A}\"")),
            "{err}"
        );
        let err = check(&format!("com.cloudflare.edge.r2.buckets.{A}_default_logs")).unwrap_err();
        assert!(err.contains("com.cloudflare.edge.r2.bucket."), "{err}");
    }

    #[test]
    fn wrong_ids_and_unknown_families_are_refused() {
        for key in [
            "com.cloudflare.api.account.0123".to_string(),
            format!("com.cloudflare.edge.r2.bucket.{A}_mars_logs"),
            format!("com.cloudflare.edge.r2.bucket.{A}_default_Logs"),
            format!("com.cloudflare.edge.r2.bucket.{A}_default"),
            "com.cloudflare.api.account".to_string(),
            "something.else.entirely".to_string(),
            "nodots".to_string(),
        ] {
            assert!(check(&key).is_err(), "{key}");
        }
    }
}
