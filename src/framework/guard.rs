//! The framework's guard: every plan, new state and refreshed state is held
//! to Terraform's rules ([`oracle`]) and to the framework's own before it
//! leaves the provider. A resource hook that breaks one is refused here,
//! with a diagnostic naming the resource, the attribute and the rule, so
//! Terraform never has to call it "a bug in the provider".
//!
//! The framework's rules, stricter than Terraform's:
//! - a configured value is planned as configured, or back to its prior value
//!   only where the schema's semantic equality or the resource (through
//!   [`PlanChange::declare_equivalent`]) says the two mean the same;
//! - a changed `requires_replace` attribute is in the replacement paths (a
//!   required one never read, null in the prior, excepted);
//! - a write-only attribute is planned null, and on a client that does not
//!   support write-only arguments it is an ordinary one (kept as configured,
//!   which validation prevents by refusing it).
//!
//! In debug builds (every test) a refusal also panics: a test cannot pass
//! over it by expecting some other error.

use super::oracle::{self, raw_equal, Violation};
use super::plan::PlanChange;
use super::schema::{AttrType, Attribute, Nesting, Schema};
use super::{AttrPath, Diagnostic, PathStep};
use crate::cty::{Type, Value};

/// Which answer is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Plan,
    Apply,
    Read,
}

impl Stage {
    fn summary(self) -> &'static str {
        match self {
            Stage::Plan => "Provider refused its own invalid plan",
            Stage::Apply => "Provider refused its own inconsistent result after apply",
            Stage::Read => "Provider refused its own invalid refreshed state",
        }
    }

    fn consequence(self) -> &'static str {
        match self {
            Stage::Plan => "The plan was not sent; nothing was changed.",
            Stage::Apply => "The operation itself was carried out: refresh before retrying.",
            Stage::Read => "The state was left as it was.",
        }
    }
}

/// Every rule the planned change breaks; `ty` is the schema's type.
pub fn check_plan(schema: &Schema, ty: &Type, change: &PlanChange) -> Vec<Violation> {
    let as_client_sees = client_view(schema, change.capabilities.write_only_attributes);
    let schema = as_client_sees.as_ref().unwrap_or(schema);
    let mut out = oracle::check_plan(
        schema,
        ty,
        &change.prior,
        &change.config,
        &change.planned,
        &change.requires_replace,
    );
    if change.capabilities.write_only_attributes {
        // Checked apart: Terraform's plan rule passes a value equal to the
        // configuration before it looks at write-only.
        for v in oracle::check_write_only(schema, &change.planned) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    if !change.is_create() {
        kept_prior(
            &schema.attributes,
            &change.prior,
            &change.config,
            &change.planned,
            &AttrPath::default(),
            &change.equivalent_to_prior,
            &mut out,
        );
        for attr in schema.attributes.iter().filter(|a| a.requires_replace) {
            let path = AttrPath::root(&attr.name);
            let (before, after) = (change.prior.get(&attr.name), change.planned.get(&attr.name));
            if !raw_equal(before, after)
                && !change.requires_replace.contains(&path)
                && !super::plan::never_read(attr, &change.prior)
            {
                out.push(Violation {
                    path,
                    message: "changed a requires_replace attribute without planning replacement"
                        .into(),
                });
            }
        }
    }
    out
}

/// Every rule the new state after apply breaks.
pub fn check_apply(schema: &Schema, planned: &Value, new_state: &Value) -> Vec<Violation> {
    without_secrets(schema, oracle::check_apply(schema, planned, new_state))
}

/// Every rule a refreshed or imported state breaks.
pub fn check_read(schema: &Schema, state: &Value) -> Vec<Violation> {
    without_secrets(schema, oracle::check_read(schema, state))
}

/// The oracle's apply and read messages quote values; under a sensitive
/// attribute (a token's value, a key) they go to logs and diagnostics
/// without them.
fn without_secrets(schema: &Schema, violations: Vec<Violation>) -> Vec<Violation> {
    violations
        .into_iter()
        .map(|v| {
            if under_sensitive(&schema.attributes, &v.path) {
                Violation {
                    message: "the value breaks the rule (sensitive, not shown)".into(),
                    ..v
                }
            } else {
                v
            }
        })
        .collect()
}

fn under_sensitive(attrs: &[Attribute], path: &AttrPath) -> bool {
    let mut attrs = attrs;
    for step in &path.0 {
        let PathStep::Attribute(name) = step else {
            continue;
        };
        let Some(attr) = attrs.iter().find(|a| &a.name == name) else {
            return false;
        };
        if attr.sensitive {
            return true;
        }
        match attr.nested_attributes() {
            Some((_, inner)) => attrs = inner,
            None => return false,
        }
    }
    false
}

/// One error per broken rule, on its attribute. Panics in debug builds
/// when `strict` (see the module documentation).
pub fn refuse(
    type_name: &str,
    stage: Stage,
    violations: &[Violation],
    strict: bool,
) -> Vec<Diagnostic> {
    if violations.is_empty() {
        return Vec::new();
    }
    let lines: Vec<String> = violations
        .iter()
        .map(|v| format!("{type_name}.{v}"))
        .collect();
    tracing::error!(type_name, ?stage, violations = ?lines, "framework rule broken");
    if strict && cfg!(debug_assertions) {
        panic!("{}: {}", stage.summary(), lines.join("; "));
    }
    violations
        .iter()
        .map(|v| {
            Diagnostic::error(
                stage.summary(),
                format!(
                    "{type_name}: {v}. This is a bug in the cfai provider; please report it. {}",
                    stage.consequence()
                ),
            )
            .at(v.path.clone())
        })
        .collect()
}

/// The schema as a client without write-only support sees it: write-only
/// attributes are ordinary ones there. `None` when nothing differs.
fn client_view(schema: &Schema, write_only_supported: bool) -> Option<Schema> {
    fn has_write_only(attrs: &[Attribute]) -> bool {
        attrs.iter().any(|a| {
            a.write_only
                || a.nested_attributes()
                    .is_some_and(|(_, i)| has_write_only(i))
        })
    }
    fn clear(attrs: &mut [Attribute]) {
        for a in attrs {
            a.write_only = false;
            if let AttrType::Nested(_, inner) = &mut a.ty {
                clear(inner);
            }
        }
    }
    if write_only_supported
        || !(has_write_only(&schema.attributes)
            || schema.blocks.iter().any(|b| has_write_only(&b.attributes)))
    {
        return None;
    }
    let mut view = schema.clone();
    clear(&mut view.attributes);
    view.blocks
        .iter_mut()
        .for_each(|b| clear(&mut b.attributes));
    Some(view)
}

/// A configured value planned as its prior value instead: allowed only where
/// the two are declared equivalent.
fn kept_prior(
    attrs: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    declared: &[AttrPath],
    out: &mut Vec<Violation>,
) {
    for attr in attrs {
        let here = path.clone().attr(&attr.name);
        let (p, c, pl) = (
            prior.get_opt(&attr.name),
            config.get_opt(&attr.name),
            planned.get_opt(&attr.name),
        );
        if c.is_null() || c.is_unknown() || raw_equal(pl, c) || p.is_null() {
            continue;
        }
        if declared.iter().any(|d| is_prefix(d, &here)) {
            continue;
        }
        let nested = attr
            .nested_attributes()
            .filter(|(nesting, _)| *nesting != Nesting::Set);
        let Some((nesting, inner)) = nested else {
            // A value (or a set of objects, which has no element identity):
            // kept prior only where the schema's semantic equality says so.
            if raw_equal(pl, p) {
                let equivalent =
                    c.is_wholly_known() && attr.semantic.is_some_and(|s| s.equivalent_values(c, p));
                if !equivalent {
                    out.push(Violation {
                        path: here,
                        message: format!(
                            "planned the prior value instead of the configured one, which the resource did not declare equivalent (config {}, prior {})",
                            shown(attr, c),
                            shown(attr, p)
                        ),
                    });
                }
            }
            continue;
        };
        // Nested objects: judged attribute by attribute.
        match nesting {
            Nesting::Single => kept_prior(inner, p, c, pl, &here, declared, out),
            Nesting::List => {
                for (i, (ce, pe)) in c.elements().iter().zip(pl.elements()).enumerate() {
                    let prior_e = p.elements().get(i).unwrap_or(&Value::Null);
                    kept_prior(
                        inner,
                        prior_e,
                        ce,
                        pe,
                        &here.clone().index(i),
                        declared,
                        out,
                    );
                }
            }
            Nesting::Map => {
                if let (Some(cm), Some(pm)) = (c.as_map(), pl.as_map()) {
                    for (k, ce) in cm {
                        let Some(pe) = pm.get(k) else { continue };
                        let prior_e = p.as_map().and_then(|m| m.get(k)).unwrap_or(&Value::Null);
                        kept_prior(inner, prior_e, ce, pe, &here.clone().key(k), declared, out);
                    }
                }
            }
            Nesting::Set => {}
        }
    }
}

fn is_prefix(prefix: &AttrPath, path: &AttrPath) -> bool {
    prefix.0.len() <= path.0.len()
        && prefix.0.iter().zip(&path.0).all(|(a, b)| match (a, b) {
            (PathStep::Attribute(x), PathStep::Attribute(y)) => x == y,
            (PathStep::Key(x), PathStep::Key(y)) => x == y,
            (PathStep::Index(x), PathStep::Index(y)) => x == y,
            _ => false,
        })
}

fn shown(attr: &Attribute, v: &Value) -> String {
    if attr.sensitive {
        "(sensitive)".into()
    } else {
        format!("{v:?}")
    }
}
