//! Resource identity (Terraform >= 1.12): the top-level string attributes
//! of a managed resource's state that name its object for good (account,
//! id, ...). Terraform stores the identity beside the state, imports by it
//! (`import { identity = { ... } }`) and lists by it (`terraform query`).
//!
//! A resource declares which of its attributes form the identity; the
//! identity value is always read off the state, so it can never disagree
//! with it, and importing by identity is importing by the string id those
//! attributes make, so the two can never differ either.

use crate::cty::{Type, Value};

use super::{AttrPath, Diagnostic};

/// One attribute of an identity: a top-level string attribute of the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityAttribute {
    pub name: &'static str,
    pub description: &'static str,
    /// Whether an import by identity must give it (else the provider can
    /// supply it, e.g. the provider's account).
    pub required_for_import: bool,
}

/// A managed resource's identity schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySchema {
    /// Bumped whenever the attributes change (Terraform then asks the
    /// provider to upgrade stored identities).
    pub version: i64,
    /// In import-id order: `a/b/c` is the import id of `{a, b, c}`.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    pub fn new(attributes: Vec<IdentityAttribute>) -> Self {
        IdentitySchema {
            version: 0,
            attributes,
        }
    }

    /// The identity's cty type: an object of strings.
    pub fn cty_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_string(), Type::String))
                .collect(),
        )
    }

    /// The identity of the object `state` describes (null for no object).
    /// It may hold unknowns while the object is only planned.
    pub fn of(&self, state: &Value) -> Value {
        if state.is_null() || state.is_unknown() {
            return Value::Null;
        }
        Value::object(
            self.attributes
                .iter()
                .map(|a| (a.name, state.get(a.name).clone())),
        )
    }

    /// The import id an identity names: its known attributes in order,
    /// joined by `/`; one the provider can supply may be left out (null).
    pub fn import_id(&self, identity: &Value) -> Result<String, Diagnostic> {
        let mut parts = Vec::new();
        for attr in &self.attributes {
            match identity.get(attr.name) {
                Value::String(s) if !s.is_empty() => parts.push(s.as_str()),
                Value::Null if !attr.required_for_import => {}
                _ => {
                    return Err(Diagnostic::error(
                        "Invalid import identity",
                        format!(
                            "The identity needs {} (a non-empty string): {}.",
                            attr.name, attr.description
                        ),
                    )
                    .at(AttrPath::root(attr.name)))
                }
            }
        }
        Ok(parts.join("/"))
    }
}

impl IdentityAttribute {
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        IdentityAttribute {
            name,
            description,
            required_for_import: true,
        }
    }

    /// An attribute the provider supplies when an import leaves it out.
    pub const fn optional(name: &'static str, description: &'static str) -> Self {
        IdentityAttribute {
            name,
            description,
            required_for_import: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> IdentitySchema {
        IdentitySchema::new(vec![
            IdentityAttribute::optional("account_id", "the account"),
            IdentityAttribute::required("id", "the id"),
        ])
    }

    #[test]
    fn identity_is_read_off_the_state() {
        let state = Value::object([
            ("account_id", Value::string("a")),
            ("id", Value::string("x")),
            ("name", Value::string("n")),
        ]);
        assert_eq!(
            schema().of(&state),
            Value::object([
                ("account_id", Value::string("a")),
                ("id", Value::string("x"))
            ])
        );
        assert_eq!(schema().of(&Value::Null), Value::Null);
    }

    #[test]
    fn import_ids_join_what_is_given() {
        let s = schema();
        let full = Value::object([
            ("account_id", Value::string("a")),
            ("id", Value::string("x")),
        ]);
        assert_eq!(s.import_id(&full).unwrap(), "a/x");
        let bare = Value::object([("account_id", Value::Null), ("id", Value::string("x"))]);
        assert_eq!(s.import_id(&bare).unwrap(), "x");
        let missing = Value::object([("account_id", Value::string("a")), ("id", Value::Null)]);
        let e = s.import_id(&missing).unwrap_err();
        assert!(e.detail.contains("id"), "{e:?}");
    }
}
