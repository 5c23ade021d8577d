//! The plan-validity oracle: Terraform's own acceptance rules for what a
//! provider returns (hashicorp/terraform `internal/plans/objchange`:
//! `AssertPlanValid`, `AssertObjectCompatible`, and the apply/read checks in
//! `node_resource_abstract_instance.go`), restated over our [`Value`]s so the
//! tests of every resource can prove, before Terraform ever sees a plan,
//! that it would not be called "a bug in the provider".
//!
//! The server holds every answer to these rules through [`super::guard`];
//! the property tests judge with them too. Also [`proposed_new`],
//! Terraform's `ProposedNew`, so tests can send what Terraform sends.

use std::fmt;

use super::schema::{AttrType, Attribute, Block, Nesting, Schema};
use super::{AttrPath, PathStep};
use crate::cty::{Type, Value};

/// One broken rule, at the attribute it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: AttrPath,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "(root): {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

type Out = Vec<Violation>;

fn push(out: &mut Out, path: &AttrPath, message: impl Into<String>) {
    out.push(Violation {
        path: path.clone(),
        message: message.into(),
    });
}

fn step(path: &AttrPath, s: PathStep) -> AttrPath {
    let mut p = path.clone();
    p.0.push(s);
    p
}

fn attr_step(path: &AttrPath, name: &str) -> AttrPath {
    step(path, PathStep::Attribute(name.to_string()))
}

// ------------------------------------------------------------------ plan

/// Every reason Terraform would reject `planned` as the answer to
/// PlanResourceChange (`prior` null on create), plus requires-replace paths
/// that name nothing in the schema.
pub fn check_plan(
    schema: &Schema,
    ty: &Type,
    prior: &Value,
    config: &Value,
    planned: &Value,
    requires_replace: &[AttrPath],
) -> Vec<Violation> {
    let mut out = Vec::new();
    conforms(planned, ty, &AttrPath::default(), &mut out);
    plan_block(
        &schema.attributes,
        &schema.blocks,
        prior,
        config,
        planned,
        &AttrPath::default(),
        &mut out,
    );
    for path in requires_replace {
        if !path_in_schema(schema, path) {
            push(&mut out, path, "requires_replace names no attribute");
        }
    }
    out
}

fn plan_block(
    attrs: &[Attribute],
    blocks: &[Block],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out,
) {
    if planned.is_null() && !config.is_null() {
        return push(out, path, "planned for absence but config wants existence");
    }
    if config.is_null() && !planned.is_null() {
        return push(out, path, "planned for existence but config wants absence");
    }
    if planned.is_null() {
        return;
    }
    plan_attrs(attrs, prior, config, planned, path, out);
    for block in blocks {
        let path = attr_step(path, &block.name);
        let (planned_v, config_v) = (planned.get_opt(&block.name), config.get_opt(&block.name));
        let prior_v = prior.get_opt(&block.name);
        if block.nesting == Nesting::List && planned_v.is_null() {
            push(
                out,
                &path,
                "attribute representing a list of nested blocks must be empty to indicate no blocks, not null",
            );
            continue;
        }
        if planned_v == config_v && same_knownness(planned_v, config_v) {
            continue;
        }
        if config_v.is_unknown() {
            push(out, &path, "planned value for unknown dynamic block");
            continue;
        }
        if planned_v.is_unknown() {
            push(out, &path, "planned unknown value for non-computed block");
            continue;
        }
        match block.nesting {
            Nesting::List => {
                let (p, c) = (planned_v.elements(), config_v.elements());
                if p.len() != c.len() {
                    push(
                        out,
                        &path,
                        format!(
                            "block count in plan ({}) disagrees with count in config ({})",
                            p.len(),
                            c.len()
                        ),
                    );
                    continue;
                }
                for (i, (pe, ce)) in p.iter().zip(c).enumerate() {
                    let path = step(&path, PathStep::Index(i as i64));
                    if pe.is_unknown() {
                        push(out, &path, "element representing nested block must not be unknown itself; set nested attribute values to unknown instead");
                        continue;
                    }
                    let prior_e = prior_v.elements().get(i).unwrap_or(&Value::Null);
                    plan_block(&block.attributes, &[], prior_e, ce, pe, &path, out);
                }
            }
            _ => plan_block(
                &block.attributes,
                &[],
                prior_v,
                config_v,
                planned_v,
                &path,
                out,
            ),
        }
    }
}

/// Raw equality as cty's RawEquals: an unknown equals only an unknown.
fn same_knownness(a: &Value, b: &Value) -> bool {
    raw_equal(a, b)
}

pub(crate) fn raw_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Unknown, Value::Unknown) | (Value::Null, Value::Null) => true,
        (Value::Unknown, _) | (_, Value::Unknown) => false,
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| raw_equal(a, b))
        }
        (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len()
                && x.iter().all(|a| y.iter().any(|b| raw_equal(a, b)))
                && y.iter().all(|b| x.iter().any(|a| raw_equal(a, b)))
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| raw_equal(v, w)))
        }
        _ => a == b,
    }
}

fn plan_attrs(
    attrs: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out,
) {
    for a in attrs {
        plan_attr(
            a,
            prior.get_opt(&a.name),
            config.get_opt(&a.name),
            planned.get_opt(&a.name),
            &attr_step(path, &a.name),
            out,
        );
    }
}

fn plan_attr(
    attr: &Attribute,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out,
) {
    if raw_equal(planned, config) {
        return;
    }
    if raw_equal(planned, prior) && !prior.is_null() && !config.is_null() {
        return;
    }
    if attr.write_only {
        if !planned.is_null() {
            push(
                out,
                path,
                "planned value for write-only attribute is not null",
            );
        }
        return;
    }
    if attr.computed && !attr.optional {
        return;
    }
    if config.is_null() && attr.computed {
        return;
    }
    if config.is_null() && !planned.is_null() {
        return push(
            out,
            path,
            format!(
                "planned value {} for a non-computed attribute",
                show(attr, planned)
            ),
        );
    }
    if let Some((nesting, inner)) = attr.nested_attributes() {
        return plan_nested(nesting, inner, prior, config, planned, path, out);
    }
    if prior.is_null() {
        push(
            out,
            path,
            format!(
                "planned value {} does not match config value {}",
                show(attr, planned),
                show(attr, config)
            ),
        );
    } else {
        push(
            out,
            path,
            format!(
                "planned value {} does not match config value {} nor prior value {}",
                show(attr, planned),
                show(attr, config),
                show(attr, prior)
            ),
        );
    }
}

fn plan_nested(
    nesting: Nesting,
    inner: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out,
) {
    if planned.is_null() && !config.is_null() {
        return push(out, path, "planned for absence but config wants existence");
    }
    if config.is_null() && !planned.is_null() {
        return push(out, path, "planned for existence but config wants absence");
    }
    if !config.is_null() && planned.is_unknown() {
        return push(out, path, "planned unknown for configured value");
    }
    if planned.is_null() {
        return;
    }
    let count_mismatch = |out: &mut Out| {
        push(
            out,
            path,
            format!(
                "count in plan ({}) disagrees with count in config ({})",
                length(planned),
                length(config)
            ),
        )
    };
    match nesting {
        Nesting::Single => plan_attrs(inner, prior, config, planned, path, out),
        Nesting::List => {
            if config.is_unknown() {
                return count_mismatch(out);
            }
            let (p, c) = (planned.elements(), config.elements());
            if p.len() != c.len() {
                return count_mismatch(out);
            }
            for (i, (pe, ce)) in p.iter().zip(c).enumerate() {
                let path = step(path, PathStep::Index(i as i64));
                let prior_e = prior.elements().get(i).unwrap_or(&Value::Null);
                plan_attrs(inner, prior_e, ce, pe, &path, out);
            }
        }
        Nesting::Map => {
            let (Some(p), Some(c)) = (planned.as_map(), config.as_map()) else {
                return count_mismatch(out);
            };
            if p.len() != c.len() {
                return count_mismatch(out);
            }
            for (k, pe) in p {
                let Some(ce) = c.get(k) else {
                    push(
                        out,
                        path,
                        format!("map key {k:?} from plan is not present in config"),
                    );
                    continue;
                };
                let path = step(path, PathStep::Key(k.clone()));
                let prior_e = prior
                    .as_map()
                    .and_then(|m| m.get(k))
                    .unwrap_or(&Value::Null);
                plan_attrs(inner, prior_e, ce, pe, &path, out);
            }
        }
        Nesting::Set => {
            if !config.is_unknown() && planned.elements().len() != config.elements().len() {
                count_mismatch(out);
            }
        }
    }
}

fn length(v: &Value) -> String {
    match v {
        Value::Unknown => "unknown".into(),
        Value::Map(m) | Value::Object(m) => m.len().to_string(),
        other => other.elements().len().to_string(),
    }
}

fn show(attr: &Attribute, v: &Value) -> String {
    if attr.sensitive && !v.is_null() && !v.is_unknown() {
        "(sensitive)".into()
    } else {
        format!("{v:?}")
    }
}

// ----------------------------------------------------------------- apply

/// Every reason Terraform would reject `new_state` as the result of applying
/// `planned` ("Provider produced inconsistent result after apply").
pub fn check_apply(schema: &Schema, planned: &Value, new_state: &Value) -> Vec<Violation> {
    let mut out = check_read(schema, new_state);
    compatible(planned, new_state, &AttrPath::default(), &mut out);
    out
}

/// Terraform's final-plan rule: every value known in the first plan is
/// unchanged in the plan made at apply time.
pub fn check_final_plan(initial: &Value, final_plan: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    compatible(initial, final_plan, &AttrPath::default(), &mut out);
    out
}

/// A state from ReadResource, ImportResourceState or an apply: conforming
/// to the schema, wholly known, write-only attributes null.
pub fn check_read(schema: &Schema, state: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let root = AttrPath::default();
    conforms(state, &schema.cty_type(), &root, &mut out);
    unknowns(state, &root, &mut out);
    write_only_null(&schema.attributes, state, &root, &mut out);
    out
}

fn unknowns(v: &Value, path: &AttrPath, out: &mut Out) {
    match v {
        Value::Unknown => push(out, path, "still indicated an unknown value"),
        Value::List(items) | Value::Tuple(items) => {
            for (i, e) in items.iter().enumerate() {
                unknowns(e, &step(path, PathStep::Index(i as i64)), out);
            }
        }
        Value::Set(items) => {
            for e in items {
                unknowns(e, path, out);
            }
        }
        Value::Map(m) => {
            for (k, e) in m {
                unknowns(e, &step(path, PathStep::Key(k.clone())), out);
            }
        }
        Value::Object(m) => {
            for (k, e) in m {
                unknowns(e, &attr_step(path, k), out);
            }
        }
        Value::Dynamic(_, inner) => unknowns(inner, path, out),
        _ => {}
    }
}

/// Write-only attributes that are not null in `v` (a plan or a state).
pub fn check_write_only(schema: &Schema, v: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    write_only_null(&schema.attributes, v, &AttrPath::default(), &mut out);
    out
}

fn write_only_null(attrs: &[Attribute], v: &Value, path: &AttrPath, out: &mut Out) {
    for attr in attrs {
        let value = v.get_opt(&attr.name);
        let path = attr_step(path, &attr.name);
        if attr.write_only && !value.is_null() {
            push(out, &path, "write-only attribute is not null");
        }
        if let Some((_, inner)) = attr.nested_attributes() {
            match value {
                Value::Object(_) => write_only_null(inner, value, &path, out),
                Value::Map(m) => m
                    .values()
                    .for_each(|e| write_only_null(inner, e, &path, out)),
                other => other
                    .elements()
                    .iter()
                    .for_each(|e| write_only_null(inner, e, &path, out)),
            }
        }
    }
}

/// `AssertObjectCompatible`: every known planned value is the actual one.
fn compatible(planned: &Value, actual: &Value, path: &AttrPath, out: &mut Out) {
    match (planned, actual) {
        (Value::Unknown, _) => {}
        (Value::Null, Value::Null) => {}
        (Value::Null, a) => push(out, path, format!("was null, but now {a:?}")),
        (p, Value::Null) => push(out, path, format!("was {p:?}, but now null")),
        (Value::List(p), Value::List(a)) | (Value::Tuple(p), Value::Tuple(a)) => {
            if p.len() != a.len() {
                return push(
                    out,
                    path,
                    format!("length changed from {} to {}", p.len(), a.len()),
                );
            }
            for (i, (pe, ae)) in p.iter().zip(a).enumerate() {
                compatible(pe, ae, &step(path, PathStep::Index(i as i64)), out);
            }
        }
        (Value::Map(p), Value::Map(a)) | (Value::Object(p), Value::Object(a)) => {
            let is_object = matches!(planned, Value::Object(_));
            for (k, pe) in p {
                let sub = if is_object {
                    attr_step(path, k)
                } else {
                    step(path, PathStep::Key(k.clone()))
                };
                match a.get(k) {
                    Some(ae) => compatible(pe, ae, &sub, out),
                    None => push(out, &sub, "element has vanished"),
                }
            }
            for k in a.keys().filter(|k| !p.contains_key(*k)) {
                push(out, path, format!("new element {k:?} has appeared"));
            }
        }
        (Value::Set(p), Value::Set(a)) => {
            if planned.is_wholly_known() {
                if !raw_equal(planned, actual) {
                    push(
                        out,
                        path,
                        format!("planned set {planned:?} does not match {actual:?}"),
                    );
                }
                return;
            }
            let fits = |x: &Value, y: &Value| {
                let mut scratch = Vec::new();
                compatible(x, y, path, &mut scratch);
                scratch.is_empty()
            };
            if !a.iter().all(|ae| p.iter().any(|pe| fits(pe, ae)))
                || !p.iter().all(|pe| a.iter().any(|ae| fits(pe, ae)))
            {
                push(
                    out,
                    path,
                    format!("planned set {planned:?} does not correlate with {actual:?}"),
                );
            }
        }
        (Value::Dynamic(_, p), Value::Dynamic(_, a)) => compatible(p, a, path, out),
        (p, a) => {
            if p != a {
                push(out, path, format!("was {p:?}, but now {a:?}"));
            }
        }
    }
}

// ------------------------------------------------------------- conformance

/// The value has the schema's type (null and unknown fit anywhere).
fn conforms(v: &Value, ty: &Type, path: &AttrPath, out: &mut Out) {
    match (v, ty) {
        (Value::Null | Value::Unknown, _) | (_, Type::Dynamic) => {}
        (Value::String(_), Type::String)
        | (Value::Number(_), Type::Number)
        | (Value::Bool(_), Type::Bool) => {}
        (Value::List(items), Type::List(e)) | (Value::Set(items), Type::Set(e)) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    push(out, path, "collection element is null");
                }
                conforms(item, e, &step(path, PathStep::Index(i as i64)), out);
            }
        }
        (Value::Map(m), Type::Map(e)) => {
            for (k, item) in m {
                conforms(item, e, &step(path, PathStep::Key(k.clone())), out);
            }
        }
        (Value::Object(m), Type::Object(fields)) => {
            for (k, t) in fields {
                match m.get(k) {
                    Some(item) => conforms(item, t, &attr_step(path, k), out),
                    None => push(out, &attr_step(path, k), "attribute missing from object"),
                }
            }
            for k in m.keys().filter(|k| !fields.contains_key(*k)) {
                push(out, &attr_step(path, k), "attribute not in the schema");
            }
        }
        (Value::Tuple(items), Type::Tuple(types)) if items.len() == types.len() => {
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                conforms(item, t, &step(path, PathStep::Index(i as i64)), out);
            }
        }
        (v, t) => push(
            out,
            path,
            format!("value {v:?} does not conform to type {}", t.friendly_name()),
        ),
    }
}

fn path_in_schema(schema: &Schema, path: &AttrPath) -> bool {
    let mut steps = path.0.iter();
    let Some(PathStep::Attribute(first)) = steps.next() else {
        return false;
    };
    if let Some(block) = schema.block_named(first) {
        let rest: Vec<&PathStep> = steps.collect();
        return match rest.as_slice() {
            [] => true,
            [PathStep::Attribute(a)] => block.attributes.iter().any(|x| &x.name == a),
            [PathStep::Index(_), PathStep::Attribute(a)] => {
                block.attributes.iter().any(|x| &x.name == a)
            }
            _ => false,
        };
    }
    let Some(mut attr) = schema.attribute_named(first) else {
        return false;
    };
    let mut ty = attr.cty_type();
    for s in steps {
        match (s, &attr.ty) {
            (PathStep::Attribute(name), AttrType::Nested(_, inner)) => {
                match inner.iter().find(|a| &a.name == name) {
                    Some(a) => {
                        attr = a;
                        ty = a.cty_type();
                    }
                    None => return false,
                }
            }
            (PathStep::Index(_) | PathStep::Key(_), _) => {
                ty = match ty {
                    Type::List(e) | Type::Set(e) | Type::Map(e) => *e,
                    _ => return false,
                };
            }
            _ => return false,
        }
    }
    true
}

// ---------------------------------------------------------- proposed new

/// Terraform's `ProposedNew(schema, prior, config)`: what it sends as
/// `proposed_new_state` in PlanResourceChange.
pub fn proposed_new(schema: &Schema, prior: &Value, config: &Value) -> Value {
    if config.is_null() && prior.is_null() {
        return Value::Null;
    }
    let prior = if prior.is_null() {
        schema.empty_value()
    } else {
        prior.clone()
    };
    proposed_block(&schema.attributes, &schema.blocks, &prior, config)
}

fn proposed_block(attrs: &[Attribute], blocks: &[Block], prior: &Value, config: &Value) -> Value {
    if config.is_null() || config.is_unknown() {
        return prior.clone();
    }
    let mut fields = proposed_attributes(attrs, prior, config);
    for b in blocks {
        let (p, c) = (prior.get_opt(&b.name), config.get_opt(&b.name));
        let v = if c.is_unknown() {
            c.clone()
        } else {
            match b.nesting {
                Nesting::List => Value::List(
                    c.elements()
                        .iter()
                        .enumerate()
                        .map(|(i, ce)| match p.elements().get(i) {
                            Some(pe) => proposed_block(&b.attributes, &[], pe, ce),
                            None => ce.clone(),
                        })
                        .collect(),
                ),
                _ if c.is_null() => Value::Null,
                _ => {
                    let prior = if p.is_null() {
                        empty_object(&b.attributes)
                    } else {
                        p.clone()
                    };
                    proposed_block(&b.attributes, &[], &prior, c)
                }
            }
        };
        fields.insert(b.name.clone(), v);
    }
    Value::Object(fields)
}

fn empty_object(attrs: &[Attribute]) -> Value {
    Value::object(attrs.iter().map(|a| (a.name.clone(), Value::Null)))
}

fn proposed_attributes(
    attrs: &[Attribute],
    prior: &Value,
    config: &Value,
) -> std::collections::BTreeMap<String, Value> {
    attrs
        .iter()
        .map(|attr| {
            let (p, c) = (prior.get_opt(&attr.name), config.get_opt(&attr.name));
            let v = if attr.computed && c.is_null() {
                if optional_value_not_computable(attr, p) {
                    c.clone()
                } else {
                    p.clone()
                }
            } else if let Some((nesting, inner)) = attr.nested_attributes() {
                proposed_nested(nesting, inner, p, c)
            } else {
                c.clone()
            };
            (attr.name.clone(), v)
        })
        .collect()
}

fn optional_value_not_computable(attr: &Attribute, prior: &Value) -> bool {
    if !attr.optional {
        return false;
    }
    let Some((_, inner)) = attr.nested_attributes() else {
        return false;
    };
    fn any_non_computed(inner: &[Attribute], v: &Value) -> bool {
        let objects: Vec<&Value> = match v {
            Value::Object(_) => vec![v],
            Value::Map(m) => m.values().collect(),
            other => other.elements().iter().collect(),
        };
        objects.iter().any(|o| {
            inner.iter().any(|a| {
                let x = o.get_opt(&a.name);
                !x.is_null()
                    && (!a.computed
                        || a.nested_attributes()
                            .is_some_and(|(_, i)| any_non_computed(i, x)))
            })
        })
    }
    any_non_computed(inner, prior)
}

fn proposed_nested(nesting: Nesting, inner: &[Attribute], prior: &Value, config: &Value) -> Value {
    if config.is_unknown() || config.is_null() {
        return config.clone();
    }
    let object = |p: &Value, c: &Value| -> Value {
        if c.is_null() || c.is_unknown() {
            c.clone()
        } else {
            Value::Object(proposed_attributes(inner, p, c))
        }
    };
    match nesting {
        Nesting::Single => object(prior, config),
        Nesting::List => Value::List(
            config
                .elements()
                .iter()
                .enumerate()
                .map(|(i, ce)| match prior.elements().get(i) {
                    Some(pe) if !prior.is_unknown() => object(pe, ce),
                    _ => ce.clone(),
                })
                .collect(),
        ),
        Nesting::Map => {
            let Some(cm) = config.as_map() else {
                return config.clone();
            };
            Value::Map(
                cm.iter()
                    .map(|(k, ce)| {
                        let v = match prior.as_map().and_then(|m| m.get(k)) {
                            Some(pe) => object(pe, ce),
                            None => ce.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Nesting::Set => {
            let mut used = vec![false; prior.elements().len()];
            Value::Set(
                config
                    .elements()
                    .iter()
                    .map(|ce| {
                        let found =
                            prior.elements().iter().enumerate().find(|(i, pe)| {
                                !used[*i] && valid_prior_from_config(inner, pe, ce)
                            });
                        match found {
                            Some((i, pe)) => {
                                used[i] = true;
                                object(pe, ce)
                            }
                            None => object(&Value::Null, ce),
                        }
                    })
                    .collect(),
            )
        }
    }
}

/// A set element of the prior state could have come from this configured
/// element: they differ only where the schema computes and config is null.
fn valid_prior_from_config(inner: &[Attribute], prior: &Value, config: &Value) -> bool {
    if raw_equal(prior, config) {
        return true;
    }
    inner.iter().all(|a| {
        let (p, c) = (prior.get_opt(&a.name), config.get_opt(&a.name));
        if raw_equal(p, c) {
            return true;
        }
        match a.nested_attributes() {
            Some((Nesting::Single, i)) => valid_prior_from_config(i, p, c),
            _ => a.computed && c.is_null(),
        }
    })
}

#[cfg(test)]
mod tests;
