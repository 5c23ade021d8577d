//! cty type constraints and their JSON form (`"string"`, `["list","number"]`, …),
//! which is how schemas, functions and dynamic values name a type on the wire.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::CodecError;

/// A cty type. `Dynamic` is cty's `DynamicPseudoType` ("any type").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Self {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Self {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Self {
        Type::Map(Box::new(element))
    }

    pub fn object<I, S>(attributes: I) -> Self
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The JSON type constraint Terraform expects in `Schema.Attribute.type`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec!["list".into(), e.to_json()]),
            Type::Set(e) => Json::Array(vec!["set".into(), e.to_json()]),
            Type::Map(e) => Json::Array(vec!["map".into(), e.to_json()]),
            Type::Object(attrs) => {
                let fields = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                Json::Array(vec!["object".into(), Json::Object(fields)])
            }
            Type::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    pub fn from_json(json: &Json) -> Result<Self, CodecError> {
        let bad = || CodecError::new(format!("invalid type constraint {json}"));
        match json {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(parts) if parts.len() >= 2 => {
                let kind = parts[0].as_str().ok_or_else(bad)?;
                match (kind, &parts[1]) {
                    ("list", e) => Ok(Type::list(Type::from_json(e)?)),
                    ("set", e) => Ok(Type::set(Type::from_json(e)?)),
                    ("map", e) => Ok(Type::map(Type::from_json(e)?)),
                    ("object", Json::Object(fields)) => {
                        // A third element lists optional attributes; it only matters
                        // for type conversion in Terraform, not for the wire.
                        let mut attrs = BTreeMap::new();
                        for (k, v) in fields {
                            attrs.insert(k.clone(), Type::from_json(v)?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    ("tuple", Json::Array(elems)) => Ok(Type::Tuple(
                        elems
                            .iter()
                            .map(Type::from_json)
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| CodecError::new(format!("type constraint is not JSON: {e}")))?;
        Type::from_json(&json)
    }

    /// A short human name, for error messages.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::Dynamic => "any".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let t = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::map(Type::set(Type::Number))),
            ("c", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
        ]);
        let bytes = t.to_json_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"["object",{"a":["list","string"],"b":["map",["set","number"]],"c":["tuple",["bool","dynamic"]]}]"#
        );
        assert_eq!(Type::from_json_bytes(&bytes).unwrap(), t);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Type::from_json_bytes(b"\"strin\"").is_err());
        assert!(Type::from_json_bytes(b"[\"list\"]").is_err());
        assert!(Type::from_json_bytes(b"{").is_err());
    }
}
