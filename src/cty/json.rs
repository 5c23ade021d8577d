//! cty's JSON form, used by Terraform for stored state (`raw_state`) and as
//! the fallback `DynamicValue.json`. JSON has no unknowns.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{CodecError, Number, Type, Value};

/// How to treat object keys the type does not know.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UnknownKeys {
    Reject,
    /// State written by an older schema may hold attributes since removed.
    Drop,
}

pub fn decode(bytes: &[u8], ty: &Type, unknown_keys: UnknownKeys) -> Result<Value, CodecError> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| CodecError::new(format!("invalid JSON: {e}")))?;
    from_json(&json, ty, unknown_keys)
}

pub fn from_json(json: &Json, ty: &Type, unknown_keys: UnknownKeys) -> Result<Value, CodecError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = || {
        CodecError::new(format!(
            "JSON {} is not a {}",
            kind(json),
            ty.friendly_name()
        ))
    };
    Ok(match ty {
        Type::String => Value::String(json.as_str().ok_or_else(mismatch)?.to_string()),
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(mismatch)?),
        Type::Number => match json {
            Json::Number(n) => Value::Number(Number::parse(&n.to_string()).ok_or_else(mismatch)?),
            // cty accepts numbers written as strings, as Terraform's own decoder does.
            Json::String(s) => Value::Number(Number::parse(s).ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = json
                .as_array()
                .ok_or_else(mismatch)?
                .iter()
                .map(|j| from_json(j, elem, unknown_keys))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::Set(_)) {
                let mut out: Vec<Value> = Vec::new();
                for item in items {
                    if !out.contains(&item) {
                        out.push(item);
                    }
                }
                Value::Set(out)
            } else {
                Value::List(items)
            }
        }
        Type::Tuple(elems) => {
            let items = json.as_array().ok_or_else(mismatch)?;
            if items.len() != elems.len() {
                return Err(mismatch());
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(elems)
                    .map(|(j, t)| from_json(j, t, unknown_keys))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(elem) => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            let mut map = BTreeMap::new();
            for (k, v) in obj {
                map.insert(k.clone(), from_json(v, elem, unknown_keys)?);
            }
            Value::Map(map)
        }
        Type::Object(attrs) => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            let mut map = BTreeMap::new();
            for (k, v) in obj {
                match attrs.get(k) {
                    Some(t) => {
                        map.insert(k.clone(), from_json(v, t, unknown_keys)?);
                    }
                    None if unknown_keys == UnknownKeys::Drop => {}
                    None => return Err(CodecError::new(format!("unsupported attribute {k:?}"))),
                }
            }
            for name in attrs.keys() {
                map.entry(name.clone()).or_insert(Value::Null);
            }
            Value::Object(map)
        }
        Type::Dynamic => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            let (Some(type_json), Some(value_json)) = (obj.get("type"), obj.get("value")) else {
                return Err(CodecError::new(
                    "dynamic JSON value needs \"type\" and \"value\"",
                ));
            };
            let concrete = Type::from_json(type_json)?;
            match from_json(value_json, &concrete, unknown_keys)? {
                Value::Null => Value::Null,
                known => Value::Dynamic(concrete, Box::new(known)),
            }
        }
    })
}

pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    Ok(to_json(value, ty)?.to_string().into_bytes())
}

pub fn to_json(value: &Value, ty: &Type) -> Result<Json, CodecError> {
    let mismatch = || {
        CodecError::new(format!(
            "cannot encode {:?} as {}",
            value.infer_type(),
            ty.friendly_name()
        ))
    };
    Ok(match (ty, value) {
        (_, Value::Null) => Json::Null,
        (_, Value::Unknown) => return Err(CodecError::new("unknown values have no JSON form")),
        (Type::Dynamic, v) => {
            let concrete = v.infer_type();
            let inner = match v {
                Value::Dynamic(_, inner) => inner.as_ref(),
                other => other,
            };
            serde_json::json!({"value": to_json(inner, &concrete)?, "type": concrete.to_json()})
        }
        (_, Value::Dynamic(concrete, inner)) if concrete == ty => to_json(inner, ty)?,
        (Type::String, Value::String(s)) => Json::String(s.clone()),
        (Type::Bool, Value::Bool(b)) => Json::Bool(*b),
        (Type::Number, Value::Number(n)) => {
            let text = n.to_string();
            Json::Number(serde_json::Number::from_string_unchecked(text))
        }
        (
            Type::List(e) | Type::Set(e),
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
        ) => Json::Array(
            items
                .iter()
                .map(|i| to_json(i, e))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(ts), Value::Tuple(items) | Value::List(items)) if ts.len() == items.len() => {
            Json::Array(
                items
                    .iter()
                    .zip(ts)
                    .map(|(i, t)| to_json(i, t))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(e), Value::Map(m) | Value::Object(m)) => Json::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v, e)?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Type::Object(attrs), Value::Object(m)) => Json::Object(
            attrs
                .iter()
                .map(|(k, t)| Ok((k.clone(), to_json(m.get(k).unwrap_or(&Value::Null), t)?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        _ => return Err(mismatch()),
    })
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
