//! Framework types to and from their tfplugin6 messages.

use super::proto;
use crate::cty::{json, msgpack, Type, Value};
use crate::framework::diagnostics::PathStep;
use crate::framework::schema::{AttrType, Attribute, Block, DescriptionKind, Nesting};
use crate::framework::{AttrPath, Diagnostic, Diagnostics, FunctionDef, Schema, Severity};

pub(crate) fn schema(s: &Schema) -> proto::Schema {
    proto::Schema {
        version: s.version,
        block: Some(proto::schema::Block {
            version: 0,
            attributes: s.attributes.iter().map(attribute).collect(),
            block_types: s.blocks.iter().map(block).collect(),
            description: s.description.clone(),
            description_kind: kind(s.description_kind),
            deprecated: false,
        }),
    }
}

fn block(b: &Block) -> proto::schema::NestedBlock {
    use proto::schema::nested_block::NestingMode;
    let nesting = match b.nesting {
        Nesting::List => NestingMode::List,
        _ => NestingMode::Single,
    };
    proto::schema::NestedBlock {
        type_name: b.name.clone(),
        block: Some(proto::schema::Block {
            version: 0,
            attributes: b.attributes.iter().map(attribute).collect(),
            block_types: Vec::new(),
            description: b.description.clone(),
            description_kind: kind(DescriptionKind::Markdown),
            deprecated: false,
        }),
        nesting: nesting as i32,
        min_items: 0,
        max_items: if b.nesting == Nesting::Single {
            0
        } else {
            b.max_items
        },
    }
}

fn kind(k: DescriptionKind) -> i32 {
    match k {
        DescriptionKind::Plain => proto::StringKind::Plain as i32,
        DescriptionKind::Markdown => proto::StringKind::Markdown as i32,
    }
}

fn attribute(a: &Attribute) -> proto::schema::Attribute {
    let (ty, nested_type) = match &a.ty {
        AttrType::Primitive(t) => (t.to_json_bytes(), None),
        AttrType::Nested(nesting, inner) => {
            let nesting = match nesting {
                Nesting::Single => proto::schema::object::NestingMode::Single,
                Nesting::List => proto::schema::object::NestingMode::List,
                Nesting::Set => proto::schema::object::NestingMode::Set,
                Nesting::Map => proto::schema::object::NestingMode::Map,
            };
            #[allow(deprecated)]
            let object = proto::schema::Object {
                attributes: inner.iter().map(attribute).collect(),
                nesting: nesting as i32,
                min_items: 0,
                max_items: 0,
            };
            (Vec::new(), Some(object))
        }
    };
    proto::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: kind(a.description_kind),
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

pub(crate) fn function(def: &FunctionDef) -> proto::Function {
    proto::Function {
        parameters: def
            .parameters
            .iter()
            .map(|p| proto::function::Parameter {
                name: p.name.to_string(),
                r#type: p.ty.to_json_bytes(),
                allow_null_value: false,
                allow_unknown_values: false,
                description: p.description.to_string(),
                description_kind: proto::StringKind::Plain as i32,
            })
            .collect(),
        variadic_parameter: None,
        r#return: Some(proto::function::Return {
            r#type: def.return_type.to_json_bytes(),
        }),
        summary: def.summary.to_string(),
        description: def.description.to_string(),
        description_kind: proto::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

pub(crate) fn path(p: &AttrPath) -> proto::AttributePath {
    use proto::attribute_path::step::Selector;
    proto::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| proto::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Terraform places a diagnostic in the source only for a top-level
/// attribute, optionally with one index or key (`policies[0]`); a deeper
/// path lands on the block header. So we send the deepest path it can
/// place and name the exact one in the detail.
fn placeable(p: &AttrPath) -> (AttrPath, bool) {
    let keep = match p.0.get(1) {
        Some(PathStep::Index(_) | PathStep::Key(_)) => 2,
        _ => 1,
    };
    if p.0.len() <= keep {
        (p.clone(), false)
    } else {
        (AttrPath(p.0[..keep].to_vec()), true)
    }
}

pub(crate) fn diagnostic(d: &Diagnostic) -> proto::Diagnostic {
    let (attribute, detail) = match &d.path {
        Some(p) => {
            let (shown, truncated) = placeable(p);
            let detail = if truncated {
                format!("At {p}: {}", d.detail)
            } else {
                d.detail.clone()
            };
            (Some(path(&shown)), detail)
        }
        None => (None, d.detail.clone()),
    };
    proto::Diagnostic {
        severity: match d.severity {
            Severity::Error => proto::diagnostic::Severity::Error as i32,
            Severity::Warning => proto::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail,
        attribute,
    }
}

pub(crate) fn diagnostics(d: &Diagnostics) -> Vec<proto::Diagnostic> {
    d.iter().map(diagnostic).collect()
}

/// Terraform sends msgpack; JSON is accepted for completeness; an absent
/// value (e.g. `provider_meta` without a schema) is null.
pub(crate) fn decode(
    dv: Option<&proto::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostic> {
    let result = match dv {
        Some(dv) if !dv.msgpack.is_empty() => msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => json::decode(&dv.json, ty, json::UnknownKeys::Reject),
        _ => Ok(Value::Null),
    };
    result.map_err(|e| {
        Diagnostic::error(
            format!("Invalid {what} received from Terraform"),
            format!("The provider could not decode the {what}: {e}. This is a bug in the provider or an incompatible Terraform version."),
        )
    })
}

pub(crate) fn encode(
    value: &Value,
    ty: &Type,
    what: &str,
) -> Result<proto::DynamicValue, Diagnostic> {
    msgpack::encode(value, ty)
        .map(|bytes| proto::DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                format!("Provider produced an invalid {what}"),
                format!(
                    "The provider could not encode the {what}: {e}. This is a bug in the provider."
                ),
            )
        })
}
