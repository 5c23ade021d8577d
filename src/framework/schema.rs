//! The schema builder resource authors use, and the cty type it implies.

use std::collections::BTreeMap;

use super::rules::{Semantic, Validator};
use crate::cty::{Type, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DescriptionKind {
    #[default]
    Plain,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// When an attribute is sent to the API (it is read from every answer
/// that carries it, whatever this says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// In the create request only (fixed for the object's life).
    OnCreate,
    /// In update requests only (the API refuses it at create).
    OnUpdate,
    /// In create and update requests.
    Always,
    /// Never: the API alone sets it.
    Never,
}

/// Which API request an attribute may belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Create,
    Update,
}

/// An attribute that is a field of the API object: the field's name there
/// (members of a nested attribute keep their own names) and when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiField {
    pub name: String,
    pub sent: Sent,
}

impl ApiField {
    pub fn sent_on(&self, phase: Phase) -> bool {
        matches!(
            (self.sent, phase),
            (Sent::Always, _) | (Sent::OnCreate, Phase::Create) | (Sent::OnUpdate, Phase::Update)
        )
    }
}

#[derive(Debug, Clone)]
pub enum AttrType {
    Primitive(Type),
    Nested(Nesting, Vec<Attribute>),
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
    pub description: String,
    pub description_kind: DescriptionKind,
    /// A change of this attribute on an existing object replaces it.
    pub requires_replace: bool,
    /// Planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// Checks on configured values, run at validation.
    pub validators: Vec<Validator>,
    /// Spellings that mean the same never make a diff.
    pub semantic: Option<Semantic>,
    /// Computed: unknown in any update plan (e.g. `modified_on`), instead
    /// of keeping its prior value (the default, Terraform's
    /// UseStateForUnknown).
    pub unknown_on_change: bool,
    /// The API field this attribute maps to; `None` for the provider's own
    /// attributes (arguments of a route, or nothing the API knows).
    pub api: Option<ApiField>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty: AttrType::Primitive(ty),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            description: String::new(),
            description_kind: DescriptionKind::Plain,
            requires_replace: false,
            default: None,
            validators: Vec::new(),
            semantic: None,
            unknown_on_change: false,
            api: None,
        }
    }

    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }

    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        let mut a = Self::new(name, Type::Dynamic);
        a.ty = AttrType::Nested(nesting, attributes);
        a
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn validate(mut self, rule: Validator) -> Self {
        self.validators.push(rule);
        self
    }

    pub fn semantic(mut self, semantic: Semantic) -> Self {
        self.semantic = Some(semantic);
        self
    }

    pub fn unknown_on_change(mut self) -> Self {
        self.unknown_on_change = true;
        self
    }

    /// A field of the API object with the same name.
    pub fn api(self, sent: Sent) -> Self {
        let name = self.name.clone();
        self.api_as(&name, sent)
    }

    /// A field of the API object named `field` there.
    pub fn api_as(mut self, field: &str, sent: Sent) -> Self {
        self.api = Some(ApiField {
            name: field.to_string(),
            sent,
        });
        self
    }

    pub fn describe_markdown(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self.description_kind = DescriptionKind::Markdown;
        self
    }

    pub fn cty_type(&self) -> Type {
        match &self.ty {
            AttrType::Primitive(t) => t.clone(),
            AttrType::Nested(nesting, attrs) => {
                let object = object_type(attrs);
                match nesting {
                    Nesting::Single => object,
                    Nesting::List => Type::list(object),
                    Nesting::Set => Type::set(object),
                    Nesting::Map => Type::map(object),
                }
            }
        }
    }

    pub fn nested_attributes(&self) -> Option<(Nesting, &[Attribute])> {
        match &self.ty {
            AttrType::Nested(n, attrs) => Some((*n, attrs)),
            AttrType::Primitive(_) => None,
        }
    }
}

fn object_type(attrs: &[Attribute]) -> Type {
    Type::Object(
        attrs
            .iter()
            .map(|a| (a.name.clone(), a.cty_type()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A nested block (`timeouts { create = "5m" }`): configuration-only
/// structure whose count Terraform fixes from the configuration. Only single
/// and list nesting are offered; blocks hold attributes, not further blocks.
#[derive(Debug, Clone)]
pub struct Block {
    pub name: String,
    pub nesting: Nesting,
    pub attributes: Vec<Attribute>,
    pub description: String,
    /// 0 means unlimited (list nesting only).
    pub max_items: i64,
}

impl Block {
    pub fn single(name: &str, attributes: Vec<Attribute>) -> Self {
        Block {
            name: name.to_string(),
            nesting: Nesting::Single,
            attributes,
            description: String::new(),
            max_items: 0,
        }
    }

    pub fn list(name: &str, attributes: Vec<Attribute>) -> Self {
        Block {
            nesting: Nesting::List,
            ..Block::single(name, attributes)
        }
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn max_items(mut self, max: i64) -> Self {
        self.max_items = max;
        self
    }

    pub fn cty_type(&self) -> Type {
        let object = object_type(&self.attributes);
        match self.nesting {
            Nesting::List => Type::list(object),
            _ => object,
        }
    }

    /// What an absent block decodes to: null for single, empty for list.
    pub fn empty_value(&self) -> Value {
        match self.nesting {
            Nesting::List => Value::List(Vec::new()),
            _ => Value::Null,
        }
    }
}

/// The schema of a provider block, resource, data source or ephemeral resource.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub description_kind: DescriptionKind,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Schema {
    pub fn new(description: &str) -> Self {
        Schema {
            version: 0,
            description: description.to_string(),
            description_kind: DescriptionKind::Markdown,
            attributes: Vec::new(),
            blocks: Vec::new(),
        }
    }

    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn cty_type(&self) -> Type {
        let mut fields: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.cty_type()))
            .collect();
        for b in &self.blocks {
            fields.insert(b.name.clone(), b.cty_type());
        }
        Type::Object(fields)
    }

    /// Every attribute null and every block absent: what Terraform uses as
    /// the prior state of an object being created.
    pub fn empty_value(&self) -> Value {
        let mut fields: BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for b in &self.blocks {
            fields.insert(b.name.clone(), b.empty_value());
        }
        Value::Object(fields)
    }

    pub fn block_named(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name == name)
    }

    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Problems Terraform would reject the schema for, checked by our tests
    /// so that a bad schema never reaches a user as a provider crash.
    pub fn lint(&self) -> Vec<String> {
        let mut problems = Vec::new();
        lint_attributes(&self.attributes, "", false, &mut problems);
        for b in &self.blocks {
            if self.attribute_named(&b.name).is_some() {
                problems.push(format!(
                    "{}: a block and an attribute share the name",
                    b.name
                ));
            }
            if b.description.is_empty() {
                problems.push(format!("{}: block has no description", b.name));
            }
            if !matches!(b.nesting, Nesting::Single | Nesting::List) {
                problems.push(format!("{}: blocks nest single or list", b.name));
            }
            lint_attributes(&b.attributes, &format!("{}.", b.name), false, &mut problems);
        }
        problems
    }
}

fn lint_attributes(attrs: &[Attribute], prefix: &str, in_set: bool, problems: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    for a in attrs {
        let name = format!("{prefix}{}", a.name);
        if !seen.insert(&a.name) {
            problems.push(format!("{name}: duplicate attribute"));
        }
        if !(a.required || a.optional || a.computed) {
            problems.push(format!("{name}: must be required, optional or computed"));
        }
        if a.required && (a.optional || a.computed) {
            problems.push(format!("{name}: required excludes optional and computed"));
        }
        if a.description.is_empty() {
            problems.push(format!("{name}: has no description"));
        }
        if a.default.is_some() && !a.computed {
            problems.push(format!(
                "{name}: a default needs a computed attribute (Terraform rejects a planned value for a non-computed one)"
            ));
        }
        if a.unknown_on_change && !a.computed {
            problems.push(format!(
                "{name}: unknown_on_change needs a computed attribute"
            ));
        }
        if a.write_only
            && !a
                .validators
                .iter()
                .any(|v| matches!(v, Validator::NeedsWriteOnlyClient(_)))
        {
            problems.push(format!(
                "{name}: a write-only attribute needs the NeedsWriteOnlyClient validator"
            ));
        }
        if a.write_only && (in_set || a.computed) {
            problems.push(format!(
                "{name}: write-only attributes cannot be computed or inside a set"
            ));
        }
        if !a
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            problems.push(format!("{name}: invalid attribute name"));
        }
        for rule in &a.validators {
            if let Validator::Regex(pattern, _) = rule {
                if let Err(e) = regex::Regex::new(pattern) {
                    problems.push(format!("{name}: pattern {pattern:?} does not compile: {e}"));
                }
            }
        }
        if let Some((nesting, inner)) = a.nested_attributes() {
            lint_attributes(
                inner,
                &format!("{name}."),
                in_set || nesting == Nesting::Set,
                problems,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_refuses_what_terraform_or_the_plan_rules_would() {
        let schema = Schema::new("s")
            .attribute(Attribute::string("a").optional().default("x").describe("d"))
            .attribute(
                Attribute::string("b")
                    .optional()
                    .unknown_on_change()
                    .describe("d"),
            )
            .attribute(Attribute::string("c").optional().write_only().describe("d"))
            .attribute(Attribute::string("d").required().computed().describe("d"))
            .attribute(Attribute::string("e").optional())
            .attribute(
                Attribute::string("f")
                    .optional()
                    .describe("d")
                    .validate(Validator::Regex("([a-z]", "letters")),
            )
            .block(Block::single("a", vec![]).describe("d"));
        let problems = schema.lint();
        let expect = [
            "a: a default needs a computed attribute",
            "b: unknown_on_change needs a computed attribute",
            "c: a write-only attribute needs the NeedsWriteOnlyClient validator",
            "d: required excludes optional and computed",
            "e: has no description",
            "f: pattern \"([a-z]\" does not compile",
            "a: a block and an attribute share the name",
        ];
        for e in expect {
            assert!(
                problems.iter().any(|p| p.starts_with(e)),
                "{e} missing from {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    }

    #[test]
    fn blocks_shape_the_type_and_the_empty_value() {
        let schema = Schema::new("s")
            .attribute(Attribute::string("a").optional().describe("d"))
            .block(
                Block::single("one", vec![Attribute::string("x").optional().describe("d")])
                    .describe("d"),
            )
            .block(
                Block::list(
                    "many",
                    vec![Attribute::string("y").optional().describe("d")],
                )
                .describe("d"),
            );
        let Type::Object(fields) = schema.cty_type() else {
            panic!()
        };
        assert!(matches!(fields["many"], Type::List(_)));
        assert!(matches!(fields["one"], Type::Object(_)));
        let empty = schema.empty_value();
        assert_eq!(empty.get("many"), &Value::List(vec![]));
        assert_eq!(empty.get("one"), &Value::Null);
    }
}
