//! `tracing` events as hclog JSON lines on stderr, which Terraform parses
//! and re-logs at their level under `provider.terraform-provider-cfai`.
//!
//! Terraform drops everything when TF_LOG is unset, so we only format when
//! TF_LOG_PROVIDER / TF_LOG asks for it.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The level Terraform's environment asks for; `None` means off.
pub(crate) fn level_from_env() -> Option<LevelFilter> {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok())?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(LevelFilter::TRACE),
        "DEBUG" => Some(LevelFilter::DEBUG),
        "INFO" => Some(LevelFilter::INFO),
        "WARN" => Some(LevelFilter::WARN),
        "ERROR" => Some(LevelFilter::ERROR),
        "" | "OFF" => None,
        // Terraform treats any other non-empty value as TRACE.
        _ => Some(LevelFilter::TRACE),
    }
}

pub fn init() {
    let Some(level) = level_from_env() else {
        return;
    };
    // Dependencies (h2, hyper, tonic) are chatty at TRACE and say nothing a
    // user needs: only their warnings pass.
    let filter = Targets::new()
        .with_target("cfai", level)
        .with_default(level.min(LevelFilter::WARN));
    let subscriber = tracing_subscriber::registry().with(HclogLayer.with_filter(filter));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct HclogLayer;

/// One hclog line; keys Terraform reads are always strings.
pub(crate) fn format_line(
    level: &Level,
    module: &str,
    message: &str,
    fields: Map<String, Json>,
) -> String {
    let mut obj = Map::new();
    obj.insert(
        "@level".into(),
        Json::from(level.as_str().to_ascii_lowercase()),
    );
    obj.insert("@message".into(), Json::from(message));
    obj.insert("@module".into(), Json::from(module));
    obj.insert("@timestamp".into(), Json::from(timestamp()));
    for (k, v) in fields {
        obj.entry(k).or_insert(v);
    }
    Json::Object(obj).to_string()
}

/// hclog's `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits.
fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let module = meta.target().replace("::", ".");
        let line = format_line(meta.level(), &module, &visitor.message, visitor.fields);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: Map<String, Json>,
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .insert(field.name().to_string(), Json::from(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields
                .insert(field.name().to_string(), Json::from(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_hclog_keys_and_timestamp_format() {
        let line = format_line(&Level::DEBUG, "cfai.test", "hello", Map::new());
        let v: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "hello");
        assert_eq!(v["@module"], "cfai.test");
        let ts = v["@timestamp"].as_str().unwrap();
        // 2026-11-22T23:40:00.123456Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
    }
}
