//! Plan rules every resource gets, so that Terraform never sees an invalid
//! or inconsistent plan:
//! - on create, computed attributes the configuration leaves null are
//!   unknown ("known after apply"), in nested objects too;
//! - on update they keep their prior value (Terraform's proposed state
//!   already carries it) unless the resource says otherwise;
//! - attribute defaults fill null configuration;
//! - write-only attributes are null in every planned state;
//! - a changed `requires_replace` attribute asks for replacement.

use super::rules::ClientCapabilities;
use super::schema::{Attribute, Nesting, Schema};
use super::{AttrPath, Private};
use crate::cty::Value;

/// One planned change, as a resource's `plan` sees and adjusts it.
#[derive(Debug, Clone)]
pub struct PlanChange {
    /// Null when the object is being created.
    pub prior: Value,
    pub config: Value,
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    /// Starts as the prior private state; becomes the planned one.
    pub private: Private,
    /// What the client announced (write-only arguments, deferral).
    pub capabilities: ClientCapabilities,
    /// Paths where the resource planned the prior value in place of a
    /// configured one that means the same to the API (see
    /// [`PlanChange::declare_equivalent`]); the guard refuses any other.
    pub equivalent_to_prior: Vec<AttrPath>,
}

impl PlanChange {
    pub(crate) fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    /// Declares that, under `path`, the prior value and the configured one
    /// mean the same to the API, so the plan may keep the prior one
    /// (Terraform allows it; the framework's guard refuses it undeclared).
    pub(crate) fn declare_equivalent(&mut self, path: AttrPath) {
        if !self.equivalent_to_prior.contains(&path) {
            self.equivalent_to_prior.push(path);
        }
    }
}

/// Terraform's proposed new state, with the common rules applied.
pub(crate) fn apply_plan_rules(
    schema: &Schema,
    prior: Value,
    config: Value,
    proposed: Value,
    private: Private,
    capabilities: ClientCapabilities,
) -> PlanChange {
    let mut planned = proposed;
    let creating = prior.is_null();
    plan_attributes(&schema.attributes, &mut planned, &config, &prior, creating);
    for block in &schema.blocks {
        let (cfg, prev) = (config.get(&block.name), prior.get(&block.name));
        let Some(slot) = planned.get_mut(&block.name) else {
            continue;
        };
        match slot {
            Value::List(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let c = cfg.elements().get(i).unwrap_or(&Value::Null);
                    let p = prev.elements().get(i).unwrap_or(&Value::Null);
                    plan_attributes(&block.attributes, item, c, p, creating || p.is_null());
                }
            }
            Value::Object(_) => plan_attributes(
                &block.attributes,
                slot,
                cfg,
                prev,
                creating || prev.is_null(),
            ),
            _ => {}
        }
    }
    PlanChange {
        prior,
        config,
        planned,
        requires_replace: Vec::new(),
        private,
        capabilities,
        equivalent_to_prior: Vec::new(),
    }
}

/// Called after the resource's own `plan`: replacement paths and the
/// write-only rule, which no resource may override.
pub(crate) fn finish_plan(schema: &Schema, change: &mut PlanChange) {
    clear_write_only(&schema.attributes, &mut change.planned);
    if change.is_create() {
        return;
    }
    let volatile: Vec<&Attribute> = schema
        .attributes
        .iter()
        .filter(|a| a.unknown_on_change)
        .collect();
    if !volatile.is_empty() {
        let steady = |v: &Value| {
            let mut v = v.clone();
            volatile.iter().for_each(|a| v.set(&a.name, Value::Null));
            v
        };
        if steady(&change.planned) != steady(&change.prior) {
            volatile
                .iter()
                .for_each(|a| change.planned.set(&a.name, Value::Unknown));
        }
    }
    for attr in schema.attributes.iter().filter(|a| a.requires_replace) {
        if change.planned.get(&attr.name) != change.prior.get(&attr.name)
            && !never_read(attr, &change.prior)
        {
            let path = AttrPath::root(&attr.name);
            if !change.requires_replace.contains(&path) {
                change.requires_replace.push(path);
            }
        }
    }
}

/// A required attribute with a null prior was never read: the API's answer
/// left it out (every object has one). Setting it is not a change of the
/// object, so it does not replace it; the next apply records the value.
pub(crate) fn never_read(attr: &Attribute, prior: &Value) -> bool {
    attr.required && !prior.is_null() && prior.get(&attr.name).is_null()
}

fn plan_attributes(
    attrs: &[Attribute],
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    creating: bool,
) {
    let Value::Object(fields) = planned else {
        return;
    };
    for attr in attrs {
        let slot = fields.entry(attr.name.clone()).or_insert(Value::Null);
        let configured = config.get(&attr.name);
        if attr.write_only {
            *slot = Value::Null;
            continue;
        }
        if configured.is_null() {
            if let Some(default) = &attr.default {
                *slot = default.clone();
            } else if attr.computed && creating && slot.is_null() {
                *slot = Value::Unknown;
            }
            continue;
        }
        let prior_value = prior.get(&attr.name);
        if let Some(semantic) = attr.semantic {
            // Terraform lets a plan keep the prior value where the
            // configuration means the same: no diff for another spelling.
            if !creating
                && configured.is_wholly_known()
                && !prior_value.is_null()
                && semantic.equivalent_values(configured, prior_value)
            {
                *slot = prior_value.clone();
            }
            continue;
        }
        let Some((nesting, inner)) = attr.nested_attributes() else {
            continue;
        };
        match nesting {
            Nesting::Single => plan_attributes(
                inner,
                slot,
                configured,
                prior_value,
                creating || prior_value.is_null(),
            ),
            Nesting::List => {
                if let Value::List(items) = slot {
                    for (i, item) in items.iter_mut().enumerate() {
                        let cfg = configured.elements().get(i).unwrap_or(&Value::Null);
                        let prev = prior_value.elements().get(i).unwrap_or(&Value::Null);
                        plan_attributes(inner, item, cfg, prev, creating || prev.is_null());
                    }
                }
            }
            Nesting::Set => {
                if let Value::Set(items) = slot {
                    for item in items.iter_mut() {
                        let known_before = prior_value.elements().contains(item);
                        let cfg = item.clone();
                        plan_attributes(inner, item, &cfg, &Value::Null, creating || !known_before);
                    }
                }
            }
            Nesting::Map => {
                if let Value::Map(items) = slot {
                    for (key, item) in items.iter_mut() {
                        let cfg = configured
                            .as_map()
                            .and_then(|m| m.get(key))
                            .cloned()
                            .unwrap_or_default();
                        let prev = prior_value
                            .as_map()
                            .and_then(|m| m.get(key))
                            .cloned()
                            .unwrap_or_default();
                        plan_attributes(inner, item, &cfg, &prev, creating || prev.is_null());
                    }
                }
            }
        }
    }
}

/// Write-only attributes never appear in a state or plan Terraform keeps.
pub(crate) fn clear_write_only(attrs: &[Attribute], value: &mut Value) {
    let Value::Object(fields) = value else {
        return;
    };
    for attr in attrs {
        let Some(slot) = fields.get_mut(&attr.name) else {
            continue;
        };
        if attr.write_only {
            *slot = Value::Null;
            continue;
        }
        if let Some((_, inner)) = attr.nested_attributes() {
            match slot {
                Value::Object(_) => clear_write_only(inner, slot),
                Value::List(items) | Value::Set(items) => {
                    items.iter_mut().for_each(|i| clear_write_only(inner, i))
                }
                Value::Map(items) => items.values_mut().for_each(|i| clear_write_only(inner, i)),
                _ => {}
            }
        }
    }
}

/// Where a value is still unknown, in Terraform's path notation.
pub fn unknown_paths(value: &Value) -> Vec<AttrPath> {
    fn walk(v: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
        match v {
            Value::Unknown => out.push(path.clone()),
            Value::List(items) | Value::Tuple(items) => {
                for (i, e) in items.iter().enumerate() {
                    walk(e, &path.clone().index(i), out);
                }
            }
            Value::Set(items) => items.iter().for_each(|e| walk(e, path, out)),
            Value::Map(m) => m
                .iter()
                .for_each(|(k, e)| walk(e, &path.clone().key(k), out)),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, e)| walk(e, &path.clone().attr(k), out)),
            Value::Dynamic(_, e) => walk(e, path, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &AttrPath::default(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Attribute;

    fn schema() -> Schema {
        Schema::new("test")
            .attribute(Attribute::string("id").computed().describe("id"))
            .attribute(Attribute::string("name").required().describe("name"))
            .attribute(
                Attribute::string("zone")
                    .optional()
                    .computed()
                    .requires_replace()
                    .describe("zone"),
            )
            .attribute(
                Attribute::string("secret_wo")
                    .optional()
                    .write_only()
                    .describe("secret"),
            )
            .attribute(
                Attribute::nested(
                    "rules",
                    Nesting::List,
                    vec![
                        Attribute::string("effect")
                            .optional()
                            .computed()
                            .default("allow")
                            .describe("effect"),
                        Attribute::string("match").required().describe("match"),
                        Attribute::string("rule_id").computed().describe("rule id"),
                    ],
                )
                .optional()
                .describe("rules"),
            )
    }

    fn rule(effect: Value, m: &str, id: Value) -> Value {
        Value::object([
            ("effect", effect),
            ("match", Value::string(m)),
            ("rule_id", id),
        ])
    }

    #[test]
    fn create_marks_unset_computed_unknown_and_applies_defaults() {
        let config = Value::object([
            ("id", Value::Null),
            ("name", "n".into()),
            ("zone", Value::Null),
            ("secret_wo", "s3cret".into()),
            (
                "rules",
                Value::List(vec![rule(Value::Null, "a", Value::Null)]),
            ),
        ]);
        let mut change = apply_plan_rules(
            &schema(),
            Value::Null,
            config.clone(),
            config,
            Private::new(),
            ClientCapabilities::default(),
        );
        finish_plan(&schema(), &mut change);
        let p = &change.planned;
        assert_eq!(p.get("id"), &Value::Unknown);
        assert_eq!(p.get("zone"), &Value::Unknown);
        assert_eq!(p.get("secret_wo"), &Value::Null);
        assert_eq!(
            p.get("rules").elements()[0],
            rule("allow".into(), "a", Value::Unknown)
        );
        assert!(change.requires_replace.is_empty());
    }

    #[test]
    fn update_keeps_prior_computed_and_flags_replacement() {
        let prior = Value::object([
            ("id", "abc".into()),
            ("name", "n".into()),
            ("zone", "z1".into()),
            ("secret_wo", Value::Null),
            (
                "rules",
                Value::List(vec![rule("allow".into(), "a", "r1".into())]),
            ),
        ]);
        let config = Value::object([
            ("id", Value::Null),
            ("name", "n2".into()),
            ("zone", "z2".into()),
            ("secret_wo", Value::Null),
            (
                "rules",
                Value::List(vec![
                    rule(Value::Null, "a", Value::Null),
                    rule("deny".into(), "b", Value::Null),
                ]),
            ),
        ]);
        // What Terraform proposes: config, with prior values for unset computed attributes.
        let proposed = Value::object([
            ("id", "abc".into()),
            ("name", "n2".into()),
            ("zone", "z2".into()),
            ("secret_wo", Value::Null),
            (
                "rules",
                Value::List(vec![
                    rule("allow".into(), "a", "r1".into()),
                    rule("deny".into(), "b", Value::Null),
                ]),
            ),
        ]);
        let mut change = apply_plan_rules(
            &schema(),
            prior,
            config,
            proposed,
            Private::new(),
            ClientCapabilities::default(),
        );
        finish_plan(&schema(), &mut change);
        let p = &change.planned;
        assert_eq!(p.get("id"), &Value::string("abc"));
        let rules = p.get("rules").elements();
        assert_eq!(rules[0], rule("allow".into(), "a", "r1".into()));
        assert_eq!(
            rules[1],
            rule("deny".into(), "b", Value::Unknown),
            "a new element is created"
        );
        assert_eq!(change.requires_replace, vec![AttrPath::root("zone")]);
    }
}
