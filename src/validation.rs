//! Small value checks shared by the provider block, resources and functions.

//! Pure checks and parsers shared by the provider configuration, the
//! framework's validators and the resources.

use std::time::Duration;

pub fn is_account_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Go's `time.ParseDuration` grammar: `300ms`, `1m30s`, `2h`, `1.5s`.
pub fn parse_go_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!(
                "{input:?} is not a duration like \"30s\" or \"1m30s\""
            ));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("{input:?}: bad number"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("{input:?}: missing unit (ns, us, ms, s, m, h)")),
            other => {
                return Err(format!(
                    "{input:?}: unknown unit {other:?} (ns, us, ms, s, m, h)"
                ))
            }
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e9 {
        return Err(format!("{input:?} is too long"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// A CIDR or bare IP as a network (a bare IP is its /32 or /128); host
/// bits are kept, as Cloudflare keeps them. `None` when invalid.
pub fn parse_cidr(raw: &str) -> Option<ipnet::IpNet> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| raw.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// A CIDR or bare IP in the form Cloudflare stores: a bare IP is `/32`
/// (`/128` for IPv6). `None` when invalid.
pub fn normalize_cidr(raw: &str) -> Option<String> {
    parse_cidr(raw).map(|net| net.to_string())
}

/// RFC 3339, as an instant (any offset).
pub fn parse_rfc3339(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_go_duration("250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            parse_go_duration("1.5h").unwrap(),
            Duration::from_secs(5400)
        );
        assert!(parse_go_duration("30").is_err());
        assert!(parse_go_duration("thirty seconds").is_err());
        assert!(parse_go_duration("5d").is_err());
    }

    #[test]
    fn names() {
        assert!(is_account_id("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_account_id("0123"));
        assert_eq!(normalize_cidr("192.0.2.1").as_deref(), Some("192.0.2.1/32"));
        assert_eq!(
            normalize_cidr("2001:db8::/32").as_deref(),
            Some("2001:db8::/32")
        );
        assert_eq!(normalize_cidr("10.0.0.1/33"), None);
    }
}
