use proptest::prelude::*;

use super::*;
use crate::cty::json::{self, UnknownKeys};

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn unhex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Byte-exact vectors: what go-cty writes for these values.
#[test]
fn encodes_like_go_cty() {
    let cases: Vec<(Value, Type, &str)> = vec![
        (Value::string("hello"), Type::String, "a5 68 65 6c 6c 6f"),
        (Value::number(1), Type::Number, "01"),
        (Value::number(-1), Type::Number, "ff"),
        (Value::number(-33), Type::Number, "d0 df"),
        (Value::number(128), Type::Number, "cc 80"),
        (Value::number(70000), Type::Number, "ce 00 01 11 70"),
        (
            Value::Number(Number::from_f64(0.5).unwrap()),
            Type::Number,
            "cb 3f e0 00 00 00 00 00 00",
        ),
        (
            Value::Number(Number::parse("0.1").unwrap()),
            Type::Number,
            "a3 30 2e 31",
        ),
        (Value::Bool(true), Type::Bool, "c3"),
        (Value::Null, Type::String, "c0"),
        (Value::Unknown, Type::String, "d4 00 00"),
        (
            Value::object([("a", Value::string("x")), ("b", Value::Null)]),
            Type::object([("a", Type::String), ("b", Type::Number)]),
            "82 a1 61 a1 78 a1 62 c0",
        ),
        // A missing attribute is written as null: Terraform wants all of them.
        (
            Value::object([("b", Value::number(2))]),
            Type::object([("a", Type::String), ("b", Type::Number)]),
            "82 a1 61 c0 a1 62 02",
        ),
        (
            Value::string("x"),
            Type::Dynamic,
            "92 c4 08 22 73 74 72 69 6e 67 22 a1 78",
        ),
        (
            Value::List(vec![Value::Bool(false)]),
            Type::list(Type::Bool),
            "91 c2",
        ),
    ];
    for (value, ty, expected) in cases {
        let bytes = encode(&value, &ty).unwrap();
        assert_eq!(hex(&bytes), expected, "encoding {value:?}");
        let back = decode(&bytes, &ty).unwrap();
        let expected_back = match (&ty, value) {
            (Type::Dynamic, v) => Value::Dynamic(Type::String, Box::new(v)),
            (_, Value::Object(mut m)) => {
                m.entry("a".into()).or_insert(Value::Null);
                Value::Object(m)
            }
            (_, v) => v,
        };
        assert_eq!(back, expected_back);
    }
}

#[test]
fn decodes_every_number_form() {
    let cases = [
        ("7f", "127"),
        ("cc ff", "255"),
        ("cd 01 00", "256"),
        ("ce 00 01 00 00", "65536"),
        ("cf ff ff ff ff ff ff ff ff", "18446744073709551615"),
        ("d0 80", "-128"),
        ("d1 80 00", "-32768"),
        ("d2 80 00 00 00", "-2147483648"),
        ("d3 80 00 00 00 00 00 00 00", "-9223372036854775808"),
        ("e0", "-32"),
        ("ca 3f c0 00 00", "1.5"),
        (
            "cb 40 09 21 fb 54 44 2d 18",
            "3.141592653589793115997963468544185161590576171875",
        ),
        (
            "b2 31 32 33 34 35 36 37 38 39 30 31 32 33 34 35 36 37 38",
            "123456789012345678",
        ),
        ("a4 31 65 2b 33", "1000"),
    ];
    for (bytes, expected) in cases {
        let v = decode(&unhex(bytes), &Type::Number).unwrap();
        assert_eq!(
            v.as_number().unwrap().to_string(),
            expected,
            "decoding {bytes}"
        );
    }
    // A 30-digit integer keeps every digit through a round trip.
    let big = Value::Number(Number::parse("123456789012345678901234567890").unwrap());
    assert_eq!(
        decode(&encode(&big, &Type::Number).unwrap(), &Type::Number).unwrap(),
        big
    );
}

#[test]
fn unknowns_in_every_ext_form() {
    let cases = [
        "d4 00 00",                      // plain unknown, fixext1
        "c7 00 00",                      // ext8, empty payload
        "d5 00 00 00",                   // fixext2, type 0
        "c7 07 0c 82 01 c2 02 a2 78 2d", // refined: not null, prefix "x-"
        "c7 03 0c 81 01 c2",             // refined: not null
        "d6 0c 81 01 c2 c0",             // fixext4, refinement payload of 4 bytes
        "c8 00 03 0c 81 01 c2",          // ext16
    ];
    for bytes in cases {
        assert_eq!(
            decode(&unhex(bytes), &Type::String).unwrap(),
            Value::Unknown,
            "{bytes}"
        );
    }
    // Refined unknown of a number, with bounds, inside an object.
    let ty = Type::object([("n", Type::Number)]);
    let truncated = unhex("81 a1 6e c7 09 0c 82 01 c2 03 92 00 c3");
    assert!(decode(&truncated, &ty).is_err());
    let bytes = unhex("81 a1 6e c7 07 0c 82 01 c2 03 92 00 c3");
    assert_eq!(decode(&bytes, &ty).unwrap().get("n"), &Value::Unknown);
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let ty = Type::object([("a", Type::list(Type::String))]);
    let cases = [
        "",
        "81",
        "81 a1 61",
        "81 a1 62 c0",             // unknown attribute
        "81 a1 61 a1 78",          // string where a list is required
        "81 a1 61 dd ff ff ff ff", // huge array length, no data
        "81 a1 61 91 c1",          // reserved marker
        "81 a1 61 91 a2 ff fe",    // invalid UTF-8
        "c7 05 07 01 02 03 04 05", // ext type 7 with a payload
    ];
    for bytes in cases {
        assert!(decode(&unhex(bytes), &ty).is_err(), "{bytes:?} should fail");
    }
    assert!(decode(&unhex("92 c4 03 62 61 64 c0"), &Type::Dynamic).is_err());
}

#[test]
fn objects_with_missing_attributes_decode_as_null() {
    let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
    let v = decode(&unhex("81 a1 61 a1 78"), &ty).unwrap();
    assert_eq!(v.get("b"), &Value::Null);
}

#[test]
fn dynamic_values_carry_their_type() {
    let ty = Type::Dynamic;
    let inner = Type::list(Type::Number);
    let v = Value::Dynamic(inner.clone(), Box::new(Value::List(vec![Value::number(3)])));
    let bytes = encode(&v, &ty).unwrap();
    assert_eq!(
        hex(&bytes),
        "92 c4 11 5b 22 6c 69 73 74 22 2c 22 6e 75 6d 62 65 72 22 5d 91 03"
    );
    assert_eq!(decode(&bytes, &ty).unwrap(), v);
    assert_eq!(decode(&unhex("d4 00 00"), &ty).unwrap(), Value::Unknown);
    assert_eq!(decode(&unhex("c0"), &ty).unwrap(), Value::Null);
}

#[test]
fn encode_rejects_values_of_the_wrong_shape() {
    assert!(encode(&Value::Bool(true), &Type::String).is_err());
    let ty = Type::object([("a", Type::String)]);
    assert!(encode(&Value::object([("zz", Value::Null)]), &ty).is_err());
}

// ---------------------------------------------------------------- properties

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        ("-?[1-9][0-9]{0,30}\\.[0-9]{1,20}").prop_filter_map("parses", |s| Number::parse(&s)),
    ]
}

fn arb_value(ty: Type, with_unknowns: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty.clone() {
        Type::String => ".{0,40}".prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic => Just(Value::Null).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(*e, with_unknowns), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(*e, false), 0..4)
            .prop_map(|items| {
                let mut out: Vec<Value> = Vec::new();
                for i in items {
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
                Value::Set(out)
            })
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(".{0,8}", arb_value(*e, with_unknowns), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let fields: Vec<_> = attrs
                .into_iter()
                .map(|(k, t)| arb_value(t, with_unknowns).prop_map(move |v| (k.clone(), v)))
                .collect();
            fields
                .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(ts) => {
            let items: Vec<_> = ts
                .into_iter()
                .map(|t| arb_value(t, with_unknowns))
                .collect();
            items.prop_map(Value::Tuple).boxed()
        }
    };
    if with_unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed_value(with_unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| {
        arb_value(t.clone(), with_unknowns).prop_map(move |v| (t.clone(), v))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn msgpack_round_trip((ty, value) in typed_value(true)) {
        let bytes = encode(&value, &ty).unwrap();
        prop_assert_eq!(decode(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn json_round_trip((ty, value) in typed_value(false)) {
        let bytes = json::encode(&value, &ty).unwrap();
        prop_assert_eq!(json::decode(&bytes, &ty, UnknownKeys::Reject).unwrap(), value);
    }

    #[test]
    fn dynamic_round_trip((ty, value) in typed_value(false)) {
        prop_assume!(!value.is_null());
        let dynamic = Value::Dynamic(ty, Box::new(value));
        let bytes = encode(&dynamic, &Type::Dynamic).unwrap();
        prop_assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), dynamic);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), (ty, _v) in typed_value(false)) {
        let _ = decode(&bytes, &ty);
    }
}
