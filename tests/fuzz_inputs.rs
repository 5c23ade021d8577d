//! No input crashes the provider: the value decoders (what Terraform
//! sends), the envelope classifier and header parsers (what the API sends)
//! and the import-id parser (what users type) on arbitrary input.
//!
//! `CFAI_FUZZ_CASES=N` sets the cases per property (default below; see
//! BENCHMARKS.md for the million-case run).

use std::time::Duration;

use cfai::cloudflare::ratelimit::{parse_ratelimit_header, parse_retry_after};
use cfai::cloudflare::{classify, Classified};
use cfai::cty::json::UnknownKeys;
use cfai::cty::{json, msgpack, Type, Value};
use cfai::framework::ProviderDef;
use cfai::provider::CfaiProvider;
use cfai::resources::api_token::parse_import_id;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("CFAI_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every resource and data source type, plus the awkward generic ones.
fn types() -> Vec<Type> {
    let provider = CfaiProvider;
    let mut out: Vec<Type> = provider
        .resources()
        .iter()
        .map(|r| r.schema().cty_type())
        .collect();
    out.extend(
        provider
            .data_sources()
            .iter()
            .map(|d| d.schema().cty_type()),
    );
    out.push(provider.schema().cty_type());
    out.extend([
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::Number)),
        Type::Tuple(vec![Type::String, Type::Bool]),
    ]);
    out
}

fn a_type() -> impl Strategy<Value = Type> {
    let all = types();
    (0..all.len()).prop_map(move |i| all[i].clone())
}

/// A real token state, encoded: mutations of it reach deep into the decoder.
fn token_state_msgpack() -> (Type, Vec<u8>) {
    let ty = types().remove(0);
    let mut v = match &ty {
        Type::Object(fields) => Value::object(fields.keys().map(|k| (k.clone(), Value::Null))),
        _ => unreachable!(),
    };
    v.set("name", Value::string("n"));
    v.set("id", Value::string("abc"));
    v.set(
        "rotation_triggers",
        Value::Map([("k".to_string(), Value::Unknown)].into()),
    );
    (ty.clone(), msgpack::encode(&v, &ty).unwrap())
}

/// Text made of the characters headers, JSON and ids are made of.
fn texty() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just(';'),
            Just('='),
            Just(','),
            Just(' '),
            Just('r'),
            Just('t'),
            Just('{'),
            Just('}'),
            Just('['),
            Just(']'),
            Just(':'),
            Just('/'),
            Just('-'),
            Just('0'),
            Just('9'),
            Just('a'),
            Just('f'),
            Just('é'),
            Just('\u{0}'),
            any::<char>(),
        ],
        0..48,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn msgpack_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), ty in a_type()) {
        let _ = msgpack::decode(&bytes, &ty);
    }

    #[test]
    fn mutated_msgpack_never_panics(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let (ty, mut bytes) = token_state_msgpack();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = msgpack::decode(&bytes, &ty);
    }

    #[test]
    fn json_decoding_never_panics(text in texty(), bytes in prop::collection::vec(any::<u8>(), 0..128), ty in a_type()) {
        let _ = json::decode(text.as_bytes(), &ty, UnknownKeys::Reject);
        let _ = json::decode(&bytes, &ty, UnknownKeys::Drop);
    }

    #[test]
    fn the_envelope_classifier_never_panics(status in 0u16..1000, text in texty(), idempotent in any::<bool>()) {
        let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let verdict = classify(status, parsed.as_ref(), text.as_bytes(), idempotent, "GET", "/x");
        if let Classified::Ok(..) = verdict {
            prop_assert!((200..300).contains(&status));
        }
    }

    #[test]
    fn envelopes_of_any_shape_are_classified(status in 100u16..600, success in any::<Option<bool>>(), code in any::<i64>(), result in texty()) {
        let body = serde_json::json!({
            "success": success,
            "errors": [{"code": code, "message": result.clone()}],
            "result": result,
        });
        let bytes = body.to_string();
        let verdict = classify(status, Some(&body), bytes.as_bytes(), false, "POST", "/x");
        let ok = matches!(verdict, Classified::Ok(..));
        prop_assert_eq!(ok, (200..300).contains(&status) && success != Some(false));
    }

    #[test]
    fn header_parsers_never_panic_and_read_what_is_written(text in texty(), r in any::<u64>(), t in any::<u64>()) {
        let _ = parse_ratelimit_header(&text);
        let _ = parse_retry_after(&text);
        prop_assert_eq!(
            parse_ratelimit_header(&format!("\"default\";r={r};t={t}")),
            Some((r, Duration::from_secs(t)))
        );
        prop_assert_eq!(parse_retry_after(&t.to_string()), Some(Duration::from_secs(t)));
    }

    #[test]
    fn import_ids_parse_or_are_refused(text in texty(), account in "[0-9a-f]{32}", token in "[0-9a-f]{32}") {
        if let Some((a, t)) = parse_import_id(&text, Some(&account)) {
            prop_assert_eq!(a.len(), 32);
            prop_assert!(!t.is_empty() && !t.contains('/'));
        }
        prop_assert_eq!(
            parse_import_id(&format!("{account}/{token}"), None),
            Some((account.clone(), token.clone()))
        );
        prop_assert_eq!(parse_import_id(&token, Some(&account)), Some((account.clone(), token.clone())));
        prop_assert_eq!(parse_import_id(&token, None), None);
    }
}
