//! Declarative attribute rules: what a resource states about an attribute
//! instead of coding it. Validators run in ValidateResourceConfig on every
//! known value, at every depth, and report on the exact path; semantic
//! equality keeps the configured (or prior) spelling of a value that means
//! the same, in plans, apply results and refreshes alike.

use super::schema::{Attribute, Block, Nesting};
use super::{AttrPath, Diagnostics};
use crate::cty::Value;
use crate::validation::parse_cidr;

/// What the client (Terraform or OpenTofu) announced it supports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    pub write_only_attributes: bool,
    pub deferral: bool,
}

/// A check on a configured value. On a collection of primitives, `Length`
/// counts its items and every other value rule applies to each item.
#[derive(Clone)]
pub enum Validator {
    OneOf(&'static [&'static str]),
    /// Characters of a string, items of a collection.
    Length {
        min: usize,
        max: usize,
    },
    /// A pattern and, for the error, what it means in words.
    Regex(&'static str, &'static str),
    Range {
        min: f64,
        max: f64,
    },
    Rfc3339,
    Cidr,
    JsonObject,
    /// Sibling attributes (same object) that may not be set together with this one.
    ConflictsWith(&'static [&'static str]),
    /// Exactly one of this attribute and the named siblings is set.
    ExactlyOneOf(&'static [&'static str]),
    /// At least one of this attribute and the named siblings is set.
    AtLeastOneOf(&'static [&'static str]),
    /// Setting the attribute at all (known or not yet known) needs a client
    /// that supports write-only arguments; the argument is the attribute to
    /// use instead on older clients, named in the error.
    NeedsWriteOnlyClient(&'static str),
    /// Anything else; an `Err` is the detail of the diagnostic.
    Custom(fn(&Value) -> Result<(), String>),
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Validator::Custom(_) => write!(f, "Custom"),
            Validator::OneOf(v) => write!(f, "OneOf({v:?})"),
            Validator::Length { min, max } => write!(f, "Length({min}..={max})"),
            Validator::Regex(r, _) => write!(f, "Regex({r})"),
            Validator::Range { min, max } => write!(f, "Range({min}..={max})"),
            other => write!(f, "{}", other.name()),
        }
    }
}

impl Validator {
    fn name(&self) -> &'static str {
        match self {
            Validator::Rfc3339 => "Rfc3339",
            Validator::Cidr => "Cidr",
            Validator::JsonObject => "JsonObject",
            Validator::ConflictsWith(_) => "ConflictsWith",
            Validator::ExactlyOneOf(_) => "ExactlyOneOf",
            Validator::AtLeastOneOf(_) => "AtLeastOneOf",
            Validator::NeedsWriteOnlyClient(_) => "NeedsWriteOnlyClient",
            _ => "Validator",
        }
    }

    fn is_sibling_rule(&self) -> bool {
        matches!(
            self,
            Validator::ConflictsWith(_) | Validator::ExactlyOneOf(_) | Validator::AtLeastOneOf(_)
        )
    }
}

/// How two spellings of a value can mean the same thing to the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantic {
    /// RFC 3339 instants, any offset, compared to the whole second (the
    /// precision Cloudflare keeps).
    Instant,
    /// An address or network; a bare address is its /32 or /128.
    Cidr,
    /// JSON documents compared by content; a non-JSON string by its text.
    Json,
}

impl Semantic {
    pub fn equivalent(self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        match self {
            Semantic::Instant => match (parse_instant(a), parse_instant(b)) {
                (Some(x), Some(y)) => x.timestamp() == y.timestamp(),
                _ => false,
            },
            Semantic::Cidr => match (parse_cidr(a), parse_cidr(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
            Semantic::Json => match (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ) {
                (Ok(x), Ok(y)) => x == y,
                _ => false,
            },
        }
    }

    /// Whether two values of the attribute (string, or collection of
    /// strings) are equivalent element by element.
    pub fn equivalent_values(self, a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) => self.equivalent(x, y),
            (Value::Set(x), Value::Set(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|e| y.iter().any(|f| self.equivalent_values(e, f)))
                    && y.iter()
                        .all(|f| x.iter().any(|e| self.equivalent_values(e, f)))
            }
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(e, f)| self.equivalent_values(e, f))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, e)| y.get(k).is_some_and(|f| self.equivalent_values(e, f)))
            }
            _ => a == b,
        }
    }
}

pub fn parse_instant(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

// ------------------------------------------------------------ validation

/// Runs every attribute's validators over a configuration (unknown values
/// are skipped: they are checked again once known, at apply).
pub fn validate(
    attrs: &[Attribute],
    blocks: &[Block],
    config: &Value,
    caps: ClientCapabilities,
    diags: &mut Diagnostics,
) {
    validate_object(attrs, config, &AttrPath::default(), caps, diags);
    for b in blocks {
        let v = config.get(&b.name);
        let path = AttrPath::default().attr(&b.name);
        match b.nesting {
            Nesting::List => {
                for (i, e) in v.elements().iter().enumerate() {
                    validate_object(&b.attributes, e, &path.clone().index(i), caps, diags);
                }
            }
            _ => validate_object(&b.attributes, v, &path, caps, diags),
        }
    }
}

fn validate_object(
    attrs: &[Attribute],
    object: &Value,
    path: &AttrPath,
    caps: ClientCapabilities,
    diags: &mut Diagnostics,
) {
    if !matches!(object, Value::Object(_)) {
        return;
    }
    for attr in attrs {
        let value = object.get(&attr.name);
        let here = path.clone().attr(&attr.name);
        for rule in attr.validators.iter().filter(|r| r.is_sibling_rule()) {
            sibling_rule(attr, rule, object, &here, diags);
        }
        if !value.is_null() {
            // A capability is about the argument being set, not its value:
            // an unknown one would reach the plan on a client that cannot
            // handle it (it would see the null plan as a provider bug).
            for rule in &attr.validators {
                if let Validator::NeedsWriteOnlyClient(alternative) = rule {
                    needs_write_only(alternative, &here, caps, diags);
                }
            }
        }
        if value.is_null() || value.is_unknown() {
            continue;
        }
        for rule in attr.validators.iter().filter(|r| !r.is_sibling_rule()) {
            let mut own = Diagnostics::new();
            value_rule(rule, value, &here, &mut own);
            let broken = own.has_errors();
            for mut d in own.into_vec() {
                if attr.sensitive || attr.write_only {
                    // The message may quote the value: never a secret's.
                    d.summary = without_value(&d.summary, value);
                    d.detail = without_value(&d.detail, value);
                }
                diags.push(d);
            }
            // One problem, one message: an empty name is too short, and
            // saying that it also breaks the name's pattern adds nothing.
            if broken {
                break;
            }
        }
        if let Some((_, inner)) = attr.nested_attributes() {
            match value {
                Value::Object(_) => validate_object(inner, value, &here, caps, diags),
                Value::Map(m) => {
                    for (k, e) in m {
                        validate_object(inner, e, &here.clone().key(k), caps, diags);
                    }
                }
                other => {
                    for (i, e) in other.elements().iter().enumerate() {
                        validate_object(inner, e, &here.clone().index(i), caps, diags);
                    }
                }
            }
        }
    }
}

/// `text` with every string in `value`, quoted or bare, replaced.
fn without_value(text: &str, value: &Value) -> String {
    let mut strings = Vec::new();
    collect_strings(value, &mut strings);
    // Longest first: a value containing another is replaced whole.
    strings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in strings.iter().filter(|s| !s.is_empty()) {
        out = out
            .replace(&format!("{s:?}"), "(sensitive value)")
            .replace(s.as_str(), "(sensitive value)");
    }
    out
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::List(items) | Value::Set(items) => {
            items.iter().for_each(|i| collect_strings(i, out));
        }
        Value::Map(m) => m.values().for_each(|v| collect_strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn sibling_rule(
    attr: &Attribute,
    rule: &Validator,
    object: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    let set = |v: &Value| !v.is_null();
    let undecided = |v: &Value| v.is_unknown();
    let this = object.get(&attr.name);
    let (names, exactly, at_least) = match rule {
        Validator::ConflictsWith(n) => (*n, false, false),
        Validator::ExactlyOneOf(n) => (*n, true, false),
        Validator::AtLeastOneOf(n) => (*n, false, true),
        _ => return,
    };
    let all: Vec<&str> = std::iter::once(attr.name.as_str())
        .chain(names.iter().copied())
        .collect();
    let values: Vec<&Value> = all.iter().map(|n| object.get(n)).collect();
    if values.iter().any(|v| undecided(v)) && !matches!(rule, Validator::ConflictsWith(_)) {
        // Decided once every value is known (validation runs again then).
        return;
    }
    let listed = all
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if matches!(rule, Validator::ConflictsWith(_)) {
        if !set(this) || undecided(this) {
            return;
        }
        for (n, v) in names.iter().zip(values.iter().skip(1)) {
            if set(v) && !undecided(v) {
                diags.error_at(
                    path.clone(),
                    "Conflicting attributes",
                    format!(
                        "`{}` and `{n}` cannot both be set; remove one of them.",
                        attr.name
                    ),
                );
            }
        }
        return;
    }
    let count = values.iter().filter(|v| set(v)).count();
    if exactly && count != 1 {
        diags.error_at(
            path.clone(),
            "Invalid attribute combination",
            format!("Exactly one of {listed} must be set ({count} are)."),
        );
    }
    if at_least && count == 0 {
        diags.error_at(
            path.clone(),
            "Missing attribute",
            format!("At least one of {listed} must be set."),
        );
    }
}

fn needs_write_only(
    alternative: &str,
    path: &AttrPath,
    caps: ClientCapabilities,
    diags: &mut Diagnostics,
) {
    if !caps.write_only_attributes {
        diags.error_at(
            path.clone(),
            "Write-only attribute not supported by this client",
            format!("{path} is a write-only argument, and this client did not announce support for write-only arguments (Terraform >= 1.11 does; OpenTofu does not yet). Use `{alternative}` instead (stored in the state), or upgrade the client."),
        );
    }
}

fn value_rule(rule: &Validator, value: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    match rule {
        Validator::Length { min, max } => {
            let n = match value {
                Value::String(s) => s.chars().count(),
                Value::Map(m) => m.len(),
                other => other.elements().len(),
            };
            if n < *min || n > *max {
                let unit = if matches!(value, Value::String(_)) {
                    "characters"
                } else {
                    "items"
                };
                let bound = if *max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                };
                diags.error_at(
                    path.clone(),
                    "Invalid length",
                    format!("{path} must have {bound} {unit}, not {n}."),
                );
            }
        }
        Validator::NeedsWriteOnlyClient(_) => {}
        Validator::Custom(f) => {
            if let Err(detail) = f(value) {
                diags.error_at(path.clone(), "Invalid value", detail);
            }
        }
        _ => match value {
            Value::List(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = if matches!(value, Value::List(_)) {
                        path.clone().index(i)
                    } else {
                        path.clone()
                    };
                    primitive_rule(rule, item, &p, diags);
                }
            }
            Value::Map(m) => {
                for (k, item) in m {
                    primitive_rule(rule, item, &path.clone().key(k), diags);
                }
            }
            _ => primitive_rule(rule, value, path, diags),
        },
    }
}

fn primitive_rule(rule: &Validator, value: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let (Validator::Range { min, max }, Value::Number(n)) = (rule, value) {
        let x = n.to_f64();
        if x < *min || x > *max {
            diags.error_at(
                path.clone(),
                "Value out of range",
                format!("{path} must be between {min} and {max}, not {x}."),
            );
        }
        return;
    }
    let Some(s) = value.as_str() else { return };
    let problem = match rule {
        Validator::OneOf(allowed) if !allowed.contains(&s) => Some((
            "Invalid value",
            format!(
                "{path} must be one of {}, not {s:?}.",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Validator::Regex(pattern, meaning) => match regex::Regex::new(pattern) {
            Ok(re) if !re.is_match(s) => Some((
                "Invalid value",
                format!("{path} must be {meaning}, not {s:?}."),
            )),
            Ok(_) => None,
            // The schema lint catches this in tests; never pass every value.
            Err(_) => Some((
                "Unchecked value",
                format!("{path} could not be checked: the provider's pattern for it does not compile. This is a bug in the cfai provider."),
            )),
        },
        Validator::Rfc3339 if parse_instant(s).is_none() => Some((
            "Invalid timestamp",
            format!("{s:?} is not an RFC 3339 timestamp such as 2030-01-01T00:00:00Z."),
        )),
        Validator::Cidr if parse_cidr(s).is_none() => Some((
            "Invalid CIDR",
            format!("{s:?} is not an IPv4/IPv6 address or CIDR such as 192.0.2.0/24 ."),
        )),
        Validator::JsonObject
            if !matches!(
                serde_json::from_str::<serde_json::Value>(s),
                Ok(serde_json::Value::Object(_))
            ) =>
        {
            Some((
                "Invalid JSON object",
                format!("{path} must be a JSON object (use jsonencode({{...}})), not {s:?}."),
            ))
        }
        _ => None,
    };
    if let Some((summary, detail)) = problem {
        diags.error_at(path.clone(), summary, detail);
    }
}

// ------------------------------------------------------ semantic equality

/// Where `new` says what `kept` says in other words, `new` takes `kept`'s
/// words: after apply (kept = planned) and after read (kept = prior).
pub fn keep_equivalent(attrs: &[Attribute], kept: &Value, new: &mut Value) {
    let Value::Object(fields) = new else { return };
    for attr in attrs {
        let Some(slot) = fields.get_mut(&attr.name) else {
            continue;
        };
        let old = kept.get(&attr.name);
        if old.is_null() || old.is_unknown() || slot.is_null() {
            continue;
        }
        if let Some(sem) = attr.semantic {
            if sem.equivalent_values(old, slot) {
                *slot = old.clone();
            }
            continue;
        }
        match attr.nested_attributes() {
            Some((Nesting::Single, inner)) => keep_equivalent(inner, old, slot),
            Some((Nesting::List, inner)) => {
                if let Value::List(items) = slot {
                    for (i, item) in items.iter_mut().enumerate() {
                        if let Some(o) = old.elements().get(i) {
                            keep_equivalent(inner, o, item);
                        }
                    }
                }
            }
            Some((Nesting::Map, inner)) => {
                if let Value::Map(items) = slot {
                    for (k, item) in items.iter_mut() {
                        if let Some(o) = old.as_map().and_then(|m| m.get(k)) {
                            keep_equivalent(inner, o, item);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Diagnostics;

    fn check(attr: Attribute, config: Value) -> Vec<String> {
        let attrs = vec![attr, Attribute::string("other").optional().describe("o")];
        let mut d = Diagnostics::new();
        validate(&attrs, &[], &config, ClientCapabilities::default(), &mut d);
        d.iter()
            .map(|x| format!("{}: {}", x.path.clone().unwrap_or_default(), x.detail))
            .collect()
    }

    fn obj(v: Value, other: Value) -> Value {
        Value::object([("a", v), ("other", other)])
    }

    #[test]
    fn each_validator_can_fail_and_pass() {
        let s = |r: Validator| Attribute::string("a").optional().describe("a").validate(r);
        let cases: Vec<(Attribute, Value, bool)> = vec![
            (s(Validator::OneOf(&["x", "y"])), "z".into(), false),
            (s(Validator::OneOf(&["x", "y"])), "x".into(), true),
            (
                s(Validator::Length { min: 1, max: 3 }),
                "abcd".into(),
                false,
            ),
            (s(Validator::Length { min: 1, max: 3 }), "abc".into(), true),
            (
                s(Validator::Regex("^[a-z]+$", "lowercase letters")),
                "A".into(),
                false,
            ),
            (
                s(Validator::Regex("^[a-z]+$", "lowercase letters")),
                "a".into(),
                true,
            ),
            (s(Validator::Rfc3339), "2030-01-01".into(), false),
            (
                s(Validator::Rfc3339),
                "2030-01-01T00:00:00.5+01:00".into(),
                true,
            ),
            (s(Validator::Cidr), "10.0.0.1/33".into(), false),
            (s(Validator::Cidr), "2001:db8::1".into(), true),
            (s(Validator::JsonObject), "[1]".into(), false),
            (s(Validator::JsonObject), "{\"a\":1}".into(), true),
            (
                s(Validator::Custom(|v| {
                    if v.as_str() == Some("bad") {
                        Err("no".into())
                    } else {
                        Ok(())
                    }
                })),
                "bad".into(),
                false,
            ),
            (
                Attribute::number("a")
                    .optional()
                    .describe("a")
                    .validate(Validator::Range { min: 1.0, max: 5.0 }),
                Value::number(6),
                false,
            ),
            (
                Attribute::number("a")
                    .optional()
                    .describe("a")
                    .validate(Validator::Range { min: 1.0, max: 5.0 }),
                Value::number(5),
                true,
            ),
        ];
        for (attr, v, ok) in cases {
            let rules = format!("{:?}", attr.validators);
            let errs = check(attr, obj(v.clone(), Value::Null));
            assert_eq!(errs.is_empty(), ok, "{rules} on {v:?}: {errs:?}");
            if !ok {
                assert!(errs[0].starts_with("a: "), "{errs:?}");
            }
        }
    }

    #[test]
    fn collection_items_are_checked_on_their_path() {
        let attr = Attribute::new("a", crate::cty::Type::list(crate::cty::Type::String))
            .optional()
            .describe("a")
            .validate(Validator::Cidr);
        let errs = check(
            attr,
            obj(
                Value::List(vec!["10.0.0.0/8".into(), "nope".into()]),
                Value::Null,
            ),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("a[1]: "), "{errs:?}");
    }

    #[test]
    fn a_sensitive_value_is_never_quoted() {
        let secret = "hunter2-very-secret";
        for sensitive in [false, true] {
            let mut attr = Attribute::string("a")
                .optional()
                .describe("a")
                .validate(Validator::Regex("^[0-9]+$", "digits"));
            attr.sensitive = sensitive;
            let errs = check(attr, obj(secret.into(), Value::Null));
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].contains(secret), !sensitive, "{errs:?}");
        }
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let attr = Attribute::string("a")
            .optional()
            .describe("a")
            .validate(Validator::OneOf(&["x"]));
        assert!(check(attr, obj(Value::Unknown, Value::Null)).is_empty());
    }

    #[test]
    fn sibling_rules() {
        let a = || Attribute::string("a").optional().describe("a");
        let conflicts = a().validate(Validator::ConflictsWith(&["other"]));
        assert_eq!(
            check(conflicts.clone(), obj("1".into(), "2".into())).len(),
            1
        );
        assert!(check(conflicts, obj("1".into(), Value::Null)).is_empty());
        let exactly = a().validate(Validator::ExactlyOneOf(&["other"]));
        assert_eq!(
            check(exactly.clone(), obj(Value::Null, Value::Null)).len(),
            1
        );
        assert_eq!(check(exactly.clone(), obj("1".into(), "2".into())).len(), 1);
        assert!(check(exactly, obj(Value::Null, "2".into())).is_empty());
        let at_least = a().validate(Validator::AtLeastOneOf(&["other"]));
        assert_eq!(
            check(at_least.clone(), obj(Value::Null, Value::Null)).len(),
            1
        );
        assert!(check(at_least, obj(Value::Unknown, Value::Null)).is_empty());
    }

    #[test]
    fn write_only_needs_a_capable_client_even_when_unknown() {
        let attrs = vec![Attribute::string("a")
            .optional()
            .write_only()
            .describe("a")
            .validate(Validator::NeedsWriteOnlyClient("b"))];
        let caps = ClientCapabilities {
            write_only_attributes: true,
            deferral: false,
        };
        for value in [Value::string("s"), Value::Unknown] {
            let config = Value::object([("a", value.clone())]);
            let mut d = Diagnostics::new();
            validate(&attrs, &[], &config, ClientCapabilities::default(), &mut d);
            let errors: Vec<_> = d.iter().collect();
            assert_eq!(errors.len(), 1, "{value:?}: {errors:?}");
            assert_eq!(errors[0].path, Some(AttrPath::root("a")));
            assert!(errors[0].detail.contains("`b`"), "names the alternative");
            let mut d = Diagnostics::new();
            validate(&attrs, &[], &config, caps, &mut d);
            assert!(!d.has_errors());
        }
        let unset = Value::object([("a", Value::Null)]);
        let mut d = Diagnostics::new();
        validate(&attrs, &[], &unset, ClientCapabilities::default(), &mut d);
        assert!(!d.has_errors(), "unset is fine on any client");
    }

    #[test]
    fn semantic_equality() {
        assert!(Semantic::Instant.equivalent("2031-01-01T00:00:00.5Z", "2031-01-01T00:00:00Z"));
        assert!(Semantic::Instant.equivalent("2031-01-01T01:00:00+01:00", "2031-01-01T00:00:00Z"));
        assert!(!Semantic::Instant.equivalent("2031-01-01T00:00:01Z", "2031-01-01T00:00:00Z"));
        assert!(Semantic::Cidr.equivalent("192.0.2.1", "192.0.2.1/32"));
        assert!(!Semantic::Cidr.equivalent("192.0.2.0/24", "192.0.2.0/25"));
        assert!(Semantic::Json.equivalent("{\"a\": 1, \"b\": 2}", "{\"b\":2,\"a\":1}"));
        assert!(Semantic::Cidr.equivalent_values(
            &Value::string_set(["10.0.0.1", "::1"]),
            &Value::string_set(["::1/128", "10.0.0.1/32"])
        ));
    }

    #[test]
    fn keep_equivalent_keeps_the_old_words() {
        let attrs = vec![
            Attribute::string("t")
                .optional()
                .describe("t")
                .semantic(Semantic::Instant),
            Attribute::string("n").optional().describe("n"),
        ];
        let kept = Value::object([("t", "2031-01-01T00:00:00.5Z".into()), ("n", "a".into())]);
        let mut new = Value::object([("t", "2031-01-01T00:00:00Z".into()), ("n", "b".into())]);
        keep_equivalent(&attrs, &kept, &mut new);
        assert_eq!(new.get("t"), &Value::string("2031-01-01T00:00:00.5Z"));
        assert_eq!(new.get("n"), &Value::string("b"));
    }
}
