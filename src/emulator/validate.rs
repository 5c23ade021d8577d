//! Checks the emulator applies the way the real API does.

use chrono::{DateTime, SecondsFormat, Utc};

/// A CIDR or bare IP, normalised as Cloudflare stores it: a bare IP gets
/// `/32` (`/128` for IPv6). `None` when invalid.
pub(crate) fn normalize_cidr(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let net = raw
        .parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| raw.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))?;
    Some(net.to_string())
}

pub(crate) fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Cloudflare answers timestamps in UTC with a `Z`, whatever offset was sent.
pub(crate) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn now() -> String {
    format_timestamp(Utc::now())
}

/// `^[a-z0-9_]+(?:-[a-z0-9_]+)*$`, 1..64.
pub(crate) fn is_instance_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// `^[a-z0-9]([a-z0-9-]{0,26}[a-z0-9])?$`
pub(crate) fn is_namespace_name(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    (1..=28).contains(&bytes.len())
        && ok(bytes[0])
        && ok(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| ok(b) || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(normalize_cidr("10.0.0.1").as_deref(), Some("10.0.0.1/32"));
        assert_eq!(
            normalize_cidr("2606:4700::/32").as_deref(),
            Some("2606:4700::/32")
        );
        assert_eq!(
            normalize_cidr("2606:4700::1").as_deref(),
            Some("2606:4700::1/128")
        );
        assert_eq!(normalize_cidr("10.0.0.0/33"), None);
        assert_eq!(normalize_cidr("10.0.0/24"), None);
    }

    #[test]
    fn timestamps_become_utc() {
        let t = parse_timestamp("2030-01-01T02:00:00+02:00").unwrap();
        assert_eq!(format_timestamp(t), "2030-01-01T00:00:00Z");
        assert!(parse_timestamp("tomorrow").is_none());
    }

    #[test]
    fn ids() {
        assert!(is_instance_id("docs-search_1"));
        assert!(!is_instance_id("Docs"));
        assert!(!is_instance_id("a--b"));
        assert!(is_namespace_name("team-a"));
        assert!(!is_namespace_name("-a"));
    }
}
