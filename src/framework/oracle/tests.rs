//! Each rule of the oracle, shown to fail.

use super::*;
use crate::framework::schema::Block;

fn schema() -> Schema {
    Schema::new("oracle test")
        .attribute(Attribute::string("id").computed().describe("d"))
        .attribute(Attribute::string("name").required().describe("d"))
        .attribute(Attribute::string("note").optional().describe("d"))
        .attribute(
            Attribute::string("zone")
                .optional()
                .computed()
                .describe("d"),
        )
        .attribute(
            Attribute::string("key_wo")
                .optional()
                .write_only()
                .describe("d"),
        )
        .attribute(
            Attribute::nested(
                "rules",
                Nesting::List,
                vec![
                    Attribute::string("match").required().describe("d"),
                    Attribute::string("rule_id").computed().describe("d"),
                ],
            )
            .optional()
            .describe("d"),
        )
        .attribute(
            Attribute::nested(
                "opts",
                Nesting::Single,
                vec![Attribute::string("mode").optional().describe("d")],
            )
            .optional()
            .describe("d"),
        )
        .block(
            Block::single(
                "timeouts",
                vec![Attribute::string("create").optional().describe("d")],
            )
            .describe("d"),
        )
        .block(
            Block::list(
                "hook",
                vec![Attribute::string("url").required().describe("d")],
            )
            .describe("d"),
        )
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut v = schema().empty_value();
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

fn rule(m: &str, id: Value) -> Value {
    Value::object([("match", Value::string(m)), ("rule_id", id)])
}

fn messages(v: &[Violation]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn plan(prior: &Value, config: &Value, planned: &Value) -> Vec<String> {
    messages(&check_plan(
        &schema(),
        &schema().cty_type(),
        prior,
        config,
        planned,
        &[],
    ))
}

#[test]
fn a_plan_equal_to_the_config_is_valid() {
    let config = obj(&[("name", "a".into())]);
    let mut planned = config.clone();
    planned.set("id", Value::Unknown);
    planned.set("zone", Value::Unknown);
    assert_eq!(plan(&Value::Null, &config, &planned), Vec::<String>::new());
}

#[test]
fn a_configured_value_may_not_change() {
    let config = obj(&[("name", "a".into())]);
    let planned = obj(&[("name", "b".into())]);
    let v = plan(&Value::Null, &config, &planned);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].starts_with("name: planned value"), "{v:?}");
}

#[test]
fn a_configured_value_may_keep_the_prior_equivalent() {
    let prior = obj(&[("name", "A".into()), ("id", "1".into())]);
    let config = obj(&[("name", "a".into())]);
    let mut planned = prior.clone();
    assert!(plan(&prior, &config, &planned).is_empty());
    planned.set("name", "c".into());
    let v = plan(&prior, &config, &planned);
    assert!(v[0].contains("nor prior value"), "{v:?}");
}

#[test]
fn no_unknown_where_the_config_is_known() {
    let config = obj(&[("name", "a".into())]);
    let planned = obj(&[("name", Value::Unknown)]);
    assert_eq!(plan(&Value::Null, &config, &planned).len(), 1);
}

#[test]
fn optional_computed_takes_config_or_anything_when_unset() {
    let config = obj(&[("name", "a".into()), ("zone", "z".into())]);
    let planned = obj(&[("name", "a".into()), ("zone", "other".into())]);
    assert!(plan(&Value::Null, &config, &planned)[0].starts_with("zone:"));
    let unset = obj(&[("name", "a".into())]);
    let chosen = obj(&[("name", "a".into()), ("zone", "z".into())]);
    assert!(plan(&Value::Null, &unset, &chosen).is_empty());
}

#[test]
fn a_non_computed_null_stays_null() {
    let config = obj(&[("name", "a".into())]);
    let planned = obj(&[("name", "a".into()), ("note", "x".into())]);
    let v = plan(&Value::Null, &config, &planned);
    assert!(v[0].contains("non-computed attribute"), "{v:?}");
}

#[test]
fn write_only_is_null_in_the_plan() {
    let config = obj(&[("name", "a".into()), ("key_wo", "s".into())]);
    let planned = obj(&[("name", "a".into()), ("key_wo", "s".into())]);
    // Equal to config passes Terraform's first check, as in Terraform; a
    // different non-null value is refused.
    assert!(plan(&Value::Null, &config, &planned).is_empty());
    let other = obj(&[("name", "a".into()), ("key_wo", "t".into())]);
    let v = plan(&Value::Null, &config, &other);
    assert!(v[0].contains("write-only"), "{v:?}");
}

#[test]
fn a_wholly_unknown_list_must_stay_unknown() {
    // The regression vector: policies from another resource.
    let config = obj(&[("name", "a".into()), ("rules", Value::Unknown)]);
    let planned = obj(&[("name", "a".into()), ("rules", Value::List(vec![]))]);
    let v = plan(&Value::Null, &config, &planned);
    assert!(
        v[0].starts_with("rules: count in plan (0) disagrees with count in config (unknown)"),
        "{v:?}"
    );
    let kept = obj(&[("name", "a".into()), ("rules", Value::Unknown)]);
    assert!(plan(&Value::Null, &config, &kept).is_empty());
}

#[test]
fn nested_counts_and_members_follow_the_config() {
    let config = obj(&[
        ("name", "a".into()),
        ("rules", Value::List(vec![rule("x", Value::Null)])),
    ]);
    let two = obj(&[
        ("name", "a".into()),
        (
            "rules",
            Value::List(vec![rule("x", Value::Unknown), rule("y", Value::Unknown)]),
        ),
    ]);
    assert!(plan(&Value::Null, &config, &two)[0].contains("count in plan (2)"));
    let changed = obj(&[
        ("name", "a".into()),
        ("rules", Value::List(vec![rule("z", Value::Unknown)])),
    ]);
    assert!(plan(&Value::Null, &config, &changed)[0].starts_with("rules[0].match:"));
    let unknown = obj(&[("name", "a".into()), ("rules", Value::Unknown)]);
    assert!(
        plan(&Value::Null, &config, &unknown)[0].contains("planned unknown for configured value")
    );
    let ok = obj(&[
        ("name", "a".into()),
        ("rules", Value::List(vec![rule("x", Value::Unknown)])),
    ]);
    assert!(plan(&Value::Null, &config, &ok).is_empty());
}

#[test]
fn blocks_keep_their_count_and_are_never_null_lists() {
    let hook = |u: &str| Value::object([("url", Value::string(u))]);
    let config = obj(&[("name", "a".into()), ("hook", Value::List(vec![hook("h")]))]);
    let null = obj(&[("name", "a".into()), ("hook", Value::Null)]);
    assert!(plan(&Value::Null, &config, &null)[0].contains("not null"));
    let more = obj(&[
        ("name", "a".into()),
        ("hook", Value::List(vec![hook("h"), hook("i")])),
    ]);
    assert!(plan(&Value::Null, &config, &more)[0].contains("block count in plan (2)"));
    let timeouts = Value::object([("create", Value::string("5m"))]);
    let cfg = obj(&[("name", "a".into()), ("timeouts", timeouts)]);
    let changed = obj(&[
        ("name", "a".into()),
        ("timeouts", Value::object([("create", Value::string("9m"))])),
    ]);
    assert!(plan(&Value::Null, &cfg, &changed)[0].starts_with("timeouts.create:"));
}

#[test]
fn requires_replace_must_name_an_attribute() {
    let config = obj(&[("name", "a".into())]);
    let v = check_plan(
        &schema(),
        &schema().cty_type(),
        &Value::Null,
        &config,
        &config,
        &[
            AttrPath::root("nope"),
            AttrPath::root("rules").index(0).attr("match"),
        ],
    );
    assert_eq!(
        messages(&v),
        vec!["nope: requires_replace names no attribute"]
    );
}

#[test]
fn the_plan_must_conform_to_the_schema() {
    let config = obj(&[("name", "a".into())]);
    let mut planned = config.clone();
    planned.set("id", Value::Bool(true));
    let v = plan(&Value::Null, &config, &planned);
    assert!(v.iter().any(|m| m.starts_with("id: value")), "{v:?}");
}

#[test]
fn apply_keeps_every_known_planned_value() {
    let planned = obj(&[("name", "a".into()), ("id", Value::Unknown)]);
    let good = obj(&[("name", "a".into()), ("id", "1".into())]);
    assert!(check_apply(&schema(), &planned, &good).is_empty());
    let renamed = obj(&[("name", "b".into()), ("id", "1".into())]);
    assert!(messages(&check_apply(&schema(), &planned, &renamed))[0].starts_with("name: was"));
    let appeared = obj(&[
        ("name", "a".into()),
        ("id", "1".into()),
        ("note", "n".into()),
    ]);
    assert!(messages(&check_apply(&schema(), &planned, &appeared))[0].contains("was null"));
}

#[test]
fn apply_and_read_results_are_wholly_known() {
    let planned = obj(&[("name", "a".into()), ("id", Value::Unknown)]);
    let left = obj(&[("name", "a".into()), ("id", Value::Unknown)]);
    assert_eq!(
        messages(&check_apply(&schema(), &planned, &left)),
        vec!["id: still indicated an unknown value"]
    );
    let nested = obj(&[
        ("name", "a".into()),
        ("rules", Value::List(vec![rule("x", Value::Unknown)])),
    ]);
    assert_eq!(
        messages(&check_read(&schema(), &nested)),
        vec!["rules[0].rule_id: still indicated an unknown value"]
    );
}

#[test]
fn apply_and_read_results_have_write_only_null() {
    let state = obj(&[
        ("name", "a".into()),
        ("id", "1".into()),
        ("key_wo", "s".into()),
    ]);
    assert_eq!(
        messages(&check_read(&schema(), &state)),
        vec!["key_wo: write-only attribute is not null"]
    );
}

#[test]
fn a_final_plan_keeps_what_the_first_knew() {
    let first = obj(&[
        ("name", "a".into()),
        ("id", Value::Unknown),
        ("zone", "z".into()),
    ]);
    let fine = obj(&[
        ("name", "a".into()),
        ("id", "1".into()),
        ("zone", "z".into()),
    ]);
    assert!(check_final_plan(&first, &fine).is_empty());
    let moved = obj(&[
        ("name", "a".into()),
        ("id", Value::Unknown),
        ("zone", "y".into()),
    ]);
    assert_eq!(check_final_plan(&first, &moved).len(), 1);
}

#[test]
fn proposed_new_is_terraforms() {
    let s = schema();
    let config = obj(&[
        ("name", "a".into()),
        (
            "rules",
            Value::List(vec![rule("x", Value::Null), rule("y", Value::Null)]),
        ),
    ]);
    // Create: computed attributes null, config as is.
    let created = proposed_new(&s, &Value::Null, &config);
    assert_eq!(created.get("id"), &Value::Null);
    assert_eq!(created.get("rules"), config.get("rules"));
    // Update: computed values come from prior, nested by index.
    let prior = obj(&[
        ("name", "a".into()),
        ("id", "1".into()),
        ("zone", "z".into()),
        ("rules", Value::List(vec![rule("x", "r1".into())])),
    ]);
    let p = proposed_new(&s, &prior, &config);
    assert_eq!(p.get("id"), &Value::string("1"));
    assert_eq!(p.get("zone"), &Value::string("z"));
    assert_eq!(
        p.get("rules"),
        &Value::List(vec![rule("x", "r1".into()), rule("y", Value::Null)])
    );
    // An unknown configuration stays unknown.
    let unknown = obj(&[("name", "a".into()), ("rules", Value::Unknown)]);
    assert_eq!(
        proposed_new(&s, &prior, &unknown).get("rules"),
        &Value::Unknown
    );
}
