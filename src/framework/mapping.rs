//! Mapping between API JSON and state, derived from what each attribute
//! declares ([`Attribute::api`]): its field name in the API and when it is
//! sent. Attributes that declare nothing are the resource's own.

use serde_json::{Map, Value as Json};

use super::schema::{Attribute, Phase, Sent};
use crate::cty::json::{from_json, to_json, UnknownKeys};
use crate::cty::{CodecError, Type, Value};

/// Sets each API attribute that the API object carries; attributes it does
/// not carry keep their current value (a single read may omit fields that
/// the last apply knew), and so do the members of a nested object that the
/// answer's object leaves out.
pub fn update_from_api(
    attrs: &[Attribute],
    state: &mut Value,
    api: &Json,
) -> Result<(), CodecError> {
    let Some(fields) = api.as_object() else {
        return Err(CodecError::new(
            "the API answered something other than an object",
        ));
    };
    for attr in attrs {
        let Some(field) = &attr.api else { continue };
        if let Some(answer) = fields.get(&field.name) {
            let ty = attr.cty_type();
            let said = from_json(answer, &ty, UnknownKeys::Drop)
                .map_err(|e| CodecError::new(format!("{}: {e}", attr.name)))?;
            let value = with_unsaid_members(state.get(&attr.name), said, answer, &ty);
            state.set(&attr.name, value);
        }
    }
    Ok(())
}

/// `said` (decoded from `answer`) over `current`: members of an object
/// (not a map: its keys are data) that the answer leaves out keep their
/// current value, known or not, at every depth; anything else is the
/// answer's.
fn with_unsaid_members(current: &Value, mut said: Value, answer: &Json, ty: &Type) -> Value {
    let (Type::Object(members), Json::Object(answered), Value::Object(_)) = (ty, answer, current)
    else {
        return said;
    };
    if !matches!(said, Value::Object(_)) {
        return said;
    }
    for (name, member) in members {
        let before = current.get(name);
        let merged = match answered.get(name) {
            None => before.clone(),
            Some(inner) => with_unsaid_members(before, said.get(name).clone(), inner, member),
        };
        said.set(name, merged);
    }
    said
}

/// Whether any attribute sent in `phase` differs between the two values.
pub fn differs_on(attrs: &[Attribute], phase: Phase, before: &Value, after: &Value) -> bool {
    attrs
        .iter()
        .filter(|a| a.api.as_ref().is_some_and(|f| f.sent_on(phase)))
        .any(|a| before.get(&a.name) != after.get(&a.name))
}

/// On an update: the optional, computed attributes sent in `phase` that
/// both the configuration and the prior state leave null are planned
/// unknown, for the answer to decide (after an import a read may not have
/// said them; the update's answer carries every field).
pub fn leave_to_api(attrs: &[Attribute], phase: Phase, change: &mut super::PlanChange) {
    for attr in attrs.iter().filter(|a| a.optional && a.computed) {
        let sent = attr.api.as_ref().is_some_and(|f| f.sent_on(phase));
        let name = attr.name.as_str();
        if sent && change.config.get(name).is_null() && change.prior.get(name).is_null() {
            change.planned.set(name, Value::Unknown);
        }
    }
}

/// The attributes only the API sets (never sent, not configurable).
pub fn api_only(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| {
        a.api.as_ref().is_some_and(|f| f.sent == Sent::Never) && a.computed && !a.optional
    })
}

/// After an update: what the plan already knew of the attributes only the
/// API sets stands (Terraform holds the apply to it). A value a read left
/// out, null in the plan, arrives with the next refresh.
pub fn keep_planned_computed(attrs: &[Attribute], planned: &Value, state: &mut Value) {
    for attr in attrs.iter().filter(|a| a.computed && !a.optional) {
        let known = planned.get(&attr.name);
        if known.is_wholly_known() {
            state.set(&attr.name, known.clone());
        }
    }
}

/// The request body of `phase`: the known, non-null attributes sent in it
/// (write-only ones included: the config carries them).
pub fn to_api(
    attrs: &[Attribute],
    value: &Value,
    phase: Phase,
) -> Result<Map<String, Json>, CodecError> {
    let mut out = Map::new();
    for attr in attrs {
        let Some(field) = attr.api.as_ref().filter(|f| f.sent_on(phase)) else {
            continue;
        };
        let v = known_part(value.get(&attr.name));
        if v.is_null() {
            continue;
        }
        out.insert(
            field.name.clone(),
            without_nulls(to_json(&v, &attr.cty_type())?),
        );
    }
    Ok(out)
}

/// Unset members are not sent (the API keeps or defaults them).
fn without_nulls(json: Json) -> Json {
    match json {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// What is decided of a value: object members that are unknown (the API
/// will choose them) or null are left out, in list and map elements too; a
/// value whose elements themselves are not all known (their count or
/// identity is undecided) is left out whole.
fn known_part(value: &Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), known_part(v)))
                .collect(),
        ),
        v if v.is_wholly_known() => v.clone(),
        Value::List(items) if items.iter().all(|i| matches!(i, Value::Object(_))) => {
            Value::List(items.iter().map(known_part).collect())
        }
        Value::Map(items) if items.values().all(|i| matches!(i, Value::Object(_))) => Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.clone(), known_part(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cty::Type;
    use crate::framework::schema::{Phase, Sent};
    use crate::framework::Nesting;

    fn attrs() -> Vec<Attribute> {
        vec![
            Attribute::string("id")
                .computed()
                .api(Sent::Never)
                .describe("i"),
            Attribute::number("max_results")
                .optional()
                .api(Sent::Always)
                .describe("m"),
            Attribute::new("tags", Type::list(Type::String))
                .optional()
                .api(Sent::Always)
                .describe("t"),
            Attribute::nested(
                "chunk",
                Nesting::Single,
                vec![Attribute::number("size").optional().describe("s")],
            )
            .optional()
            .api(Sent::Always)
            .describe("c"),
            Attribute::string("source_name")
                .optional()
                .describe("renamed in the API"),
        ]
    }

    #[test]
    fn api_fields_become_attributes_and_back() {
        let mut state = Value::object(attrs().iter().map(|a| (a.name.clone(), Value::Null)));
        state.set("max_results", Value::number(3));
        let api = json!({"id": "x", "tags": ["a"], "chunk": {"size": 256, "extra": 1}, "source": "s", "other": true});
        update_from_api(&attrs(), &mut state, &api).unwrap();
        assert_eq!(state.get("id"), &Value::string("x"));
        assert_eq!(
            state.get("max_results"),
            &Value::number(3),
            "absent fields keep their value"
        );
        assert_eq!(state.get("chunk").get("size"), &Value::number(256));
        assert_eq!(
            state.get("source_name"),
            &Value::Null,
            "exceptions are the resource's"
        );
        let body = to_api(&attrs(), &state, Phase::Update).unwrap();
        assert_eq!(
            Json::Object(body),
            json!({"max_results": 3, "tags": ["a"], "chunk": {"size": 256}})
        );
        // The API chooses what is still unknown.
        state.set("chunk", Value::object([("size", Value::Unknown)]));
        state.set("tags", Value::List(vec![Value::Unknown]));
        let body = to_api(&attrs(), &state, Phase::Update).unwrap();
        assert_eq!(Json::Object(body), json!({"max_results": 3, "chunk": {}}));
    }

    #[test]
    fn members_an_answer_leaves_out_keep_their_value_known_or_not() {
        let attrs = vec![
            Attribute::nested(
                "params",
                Nesting::Single,
                vec![
                    Attribute::string("kind").optional().describe("k"),
                    Attribute::string("mode").optional().describe("m"),
                    Attribute::nested(
                        "inner",
                        Nesting::Single,
                        vec![Attribute::string("x").optional().describe("x")],
                    )
                    .optional()
                    .describe("i"),
                ],
            )
            .optional()
            .api(Sent::Always)
            .describe("p"),
            Attribute::new("labels", Type::map(Type::String))
                .optional()
                .api(Sent::Always)
                .describe("l"),
        ];
        let mut state = Value::object([
            (
                "params",
                Value::object([
                    ("kind", Value::string("sitemap")),
                    ("mode", Value::Unknown),
                    ("inner", Value::object([("x", Value::string("kept"))])),
                ]),
            ),
            (
                "labels",
                Value::Map([("gone".to_string(), Value::string("1"))].into()),
            ),
        ]);
        let api = json!({"params": {"mode": "fast", "inner": {}}, "labels": {"new": "2"}});
        update_from_api(&attrs, &mut state, &api).unwrap();
        let params = state.get("params");
        assert_eq!(params.get("kind"), &Value::string("sitemap"));
        assert_eq!(params.get("mode"), &Value::string("fast"));
        assert_eq!(params.get("inner").get("x"), &Value::string("kept"));
        // A map's keys are data: the answer's map is the map.
        assert_eq!(
            state.get("labels"),
            &Value::Map([("new".to_string(), Value::string("2"))].into())
        );
    }

    #[test]
    fn a_type_mismatch_names_the_attribute() {
        let mut state = Value::object(attrs().iter().map(|a| (a.name.clone(), Value::Null)));
        let err = update_from_api(&attrs(), &mut state, &json!({"tags": "a"})).unwrap_err();
        assert!(err.to_string().contains("tags"), "{err}");
    }

    #[test]
    fn list_elements_with_undecided_members_are_sent_without_them() {
        let attrs = vec![Attribute::nested(
            "boost_by",
            Nesting::List,
            vec![
                Attribute::string("field").required().describe("f"),
                Attribute::string("direction")
                    .optional()
                    .computed()
                    .describe("d"),
            ],
        )
        .optional()
        .api(Sent::Always)
        .describe("b")];
        let planned = Value::object([(
            "boost_by",
            Value::List(vec![Value::object([
                ("field", Value::string("timestamp")),
                ("direction", Value::Unknown),
            ])]),
        )]);
        let body = to_api(&attrs, &planned, Phase::Create).unwrap();
        assert_eq!(
            Json::Object(body),
            json!({ "boost_by": [{ "field": "timestamp" }] })
        );
        // An element itself undecided: the list is not sent at all.
        let undecided = Value::object([("boost_by", Value::List(vec![Value::Unknown]))]);
        assert!(to_api(&attrs, &undecided, Phase::Create)
            .unwrap()
            .is_empty());
    }
}
