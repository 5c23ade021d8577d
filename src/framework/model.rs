//! Typed models: each resource, data source and ephemeral resource reads
//! its configuration, plan and state as a plain struct and writes its
//! result from one, in the manner of terraform-plugin-framework's
//! `req.Plan.Get(ctx, &model)` / `resp.State.Set(ctx, model)`.
//!
//! A model is a serde struct with `#[serde(deny_unknown_fields)]`, one field
//! per attribute, named as the attribute: [`Attr`] for what may be null or,
//! in a configuration or plan, unknown (at any depth, collection elements
//! included, when the model serves plans too); `Option` or a plain type
//! where neither can happen. [`check`] holds a model to its schema; every
//! registered type runs it in the tests. A part of a model (a struct
//! naming some attributes, without `deny_unknown_fields`) reads with [`get`]
//! and writes with [`put`].

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::cty::Attr;
use crate::cty::{serde as codec, Type, Value};

use super::schema::Schema;
use super::Diagnostic;

/// The model a value holds; a mismatch is the provider's bug.
pub fn get<M: DeserializeOwned>(value: &Value) -> Result<M, Diagnostic> {
    codec::from_value(value).map_err(|e| {
        Diagnostic::error(
            "Value does not fit its model",
            format!("{e}. This is a bug in the cfai provider."),
        )
    })
}

/// The value of a model, of the schema's type.
pub fn to_value<M: Serialize>(model: &M, ty: &Type) -> Result<Value, Diagnostic> {
    codec::to_value(model, ty).map_err(|e| {
        Diagnostic::error(
            "Model does not fit its schema",
            format!("{e}. This is a bug in the cfai provider."),
        )
    })
}

/// Writes the attributes a partial model names (a struct with some of the
/// schema's attributes, without `deny_unknown_fields`; a nested struct may
/// name some members too) into `value`, in place where `value` already has
/// the written shape: what a plan uses to set a few attributes without
/// converting the whole object. Reading one is [`get`], which visits only
/// the attributes the struct names.
pub fn put<M: Serialize>(part: &M, value: &mut Value, ty: &Type) -> Result<(), Diagnostic> {
    codec::merge_into(part, value, ty).map_err(|e| {
        Diagnostic::error(
            "Model does not fit its schema",
            format!("{e}. This is a bug in the cfai provider."),
        )
    })
}

/// Whether `M` has exactly the schema's attributes, at every depth, with
/// types that carry every value through unchanged: a value with every
/// attribute set (every list, set and map holding one element) must come
/// back equal from the model.
pub fn check<M: Serialize + DeserializeOwned>(schema: &Schema) -> Result<(), String> {
    let ty = schema.cty_type();
    let sample = sample(&ty);
    let model: M = codec::from_value(&sample).map_err(|e| e.to_string())?;
    let back = codec::to_value(&model, &ty).map_err(|e| e.to_string())?;
    if back != sample {
        return Err(format!(
            "a value does not survive the model unchanged: {}",
            first_difference(&sample, &back, "")
        ));
    }
    Ok(())
}

/// A value of `ty` with everything set: strings `"s"`, numbers 1.5 (so an
/// integer field is caught), `true`, one element in every collection.
fn sample(ty: &Type) -> Value {
    match ty {
        Type::String | Type::Dynamic => Value::string("s"),
        Type::Number => Value::Number(
            crate::cty::Number::parse("1.5").unwrap_or_else(|| crate::cty::Number::from_i64(1)),
        ),
        Type::Bool => Value::Bool(true),
        Type::List(e) => Value::List(vec![sample(e)]),
        Type::Set(e) => Value::Set(vec![sample(e)]),
        Type::Map(e) => Value::Map([("k".to_string(), sample(e))].into()),
        Type::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, t)| (name.clone(), sample(t)))
                .collect(),
        ),
        Type::Tuple(types) => Value::Tuple(types.iter().map(sample).collect()),
    }
}

fn first_difference(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (name, v) in x {
                let inner = format!("{path}.{name}");
                match y.get(name) {
                    Some(w) if w == v => {}
                    Some(w) => return first_difference(v, w, &inner),
                    None => return format!("{inner} is missing"),
                }
            }
            format!("{path} has other members")
        }
        (Value::List(x), Value::List(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .find(|(v, w)| v != w)
            .map(|(v, w)| first_difference(v, w, &format!("{path}[0]")))
            .unwrap_or_else(|| format!("{path} differs")),
        _ => format!("{} differs", if path.is_empty() { "." } else { path }),
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::framework::Attribute;

    fn schema() -> Schema {
        Schema::new("t")
            .attribute(Attribute::string("name").required().describe("n"))
            .attribute(Attribute::number("size").optional().describe("s"))
    }

    #[test]
    fn a_matching_model_passes() {
        #[derive(Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Good {
            name: String,
            size: Attr<crate::cty::Number>,
        }
        check::<Good>(&schema()).unwrap();
    }

    #[test]
    fn a_missing_field_an_extra_field_and_a_lossy_type_fail() {
        #[derive(Serialize, Deserialize)]
        struct Missing {
            name: String,
        }
        assert!(check::<Missing>(&schema()).is_err());
        #[derive(Serialize, Deserialize)]
        struct Extra {
            name: String,
            size: Option<crate::cty::Number>,
            other: Option<String>,
        }
        let err = check::<Extra>(&schema()).unwrap_err();
        assert!(err.contains("other"), "{err}");
        #[derive(Serialize, Deserialize)]
        struct Lossy {
            name: String,
            size: Option<i64>,
        }
        let err = check::<Lossy>(&schema()).unwrap_err();
        assert!(err.contains("size"), "{err}");
    }
}
