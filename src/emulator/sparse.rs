//! Sparse answers: the emulator leaves out properties that the contract
//! (`openapi-subset.json`, a copy of the Cloudflare contract this emulator
//! is built to) marks optional, as a real answer may. Either all of them at
//! once, except [`ESSENTIAL`] ones, or one chosen property of one operation.
//!
//! The facts come from the contract itself, not from a list kept here: a
//! property is optional when no schema on its path requires it.

use std::sync::OnceLock;

use serde_json::Value;

/// Kept by the all-at-once mode although the contract marks them optional:
/// no client can act on a success without them (a token created or rolled
/// with no `value`, an object with no `id`, a list or object with no
/// `result`, a permission group with no `name` or `scopes` to resolve names
/// against,
/// temporary credentials without their keys).
/// The one-at-a-time mode leaves each of them out too, where a client must
/// fail saying which operation left out which field.
pub const ESSENTIAL: [&str; 11] = [
    "/result",
    "/result/id",
    "/result/*/id",
    "/result/value",
    "GET /accounts/{account_id}/tokens/permission_groups /result/*/name",
    "GET /accounts/{account_id}/tokens/permission_groups /result/*/scopes",
    "GET /user/tokens/permission_groups /result/*/name",
    "GET /user/tokens/permission_groups /result/*/scopes",
    "POST /accounts/{account_id}/r2/temp-access-credentials /result/accessKeyId",
    "POST /accounts/{account_id}/r2/temp-access-credentials /result/secretAccessKey",
    "POST /accounts/{account_id}/r2/temp-access-credentials /result/sessionToken",
];

/// The contract the emulator answers to.
fn contract() -> &'static Value {
    static CONTRACT: OnceLock<Value> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        serde_json::from_str(include_str!("openapi-subset.json")).unwrap_or(Value::Null)
    })
}

/// The schema of `operation`'s answer with `status`, if the contract has one.
fn response_schema(operation: &str, status: u16) -> Option<&'static Value> {
    let (method, route) = operation.split_once(' ')?;
    let op = contract()
        .get("paths")?
        .get(route)?
        .get(method.to_lowercase())?;
    let responses = op.get("responses")?;
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))?;
    response.pointer("/content/application~1json/schema")
}

fn resolve(schema: &'static Value) -> &'static Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => contract()
            .pointer(r.trim_start_matches('#'))
            .map(resolve)
            .unwrap_or(schema),
        None => schema,
    }
}

/// `schema` and every schema it combines (`allOf`, `oneOf`, `anyOf`, at any
/// depth), resolved.
fn combined(schema: &'static Value) -> Vec<&'static Value> {
    fn walk(schema: &'static Value, depth: usize, out: &mut Vec<&'static Value>) {
        let schema = resolve(schema);
        if depth > 8 {
            return;
        }
        out.push(schema);
        for key in ["allOf", "oneOf", "anyOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(branch, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, 0, &mut out);
    out
}

/// An object schema's properties and the names it requires, through its
/// combinations (required by any branch counts: leaving it out could break
/// that branch).
fn object_facts(schema: &'static Value) -> (Vec<String>, Vec<&'static str>) {
    let mut props = Vec::new();
    let mut required = Vec::new();
    for part in combined(schema) {
        if let Some(p) = part.get("properties").and_then(Value::as_object) {
            props.extend(p.keys().cloned());
        }
        if let Some(r) = part.get("required").and_then(Value::as_array) {
            required.extend(r.iter().filter_map(Value::as_str));
        }
    }
    (props, required)
}

/// The properties of `operation`'s request body, through its combinations.
pub fn request_properties(operation: &str) -> Vec<String> {
    let Some((method, route)) = operation.split_once(' ') else {
        return Vec::new();
    };
    let schema = contract()
        .get("paths")
        .and_then(|p| p.get(route))
        .and_then(|r| r.get(method.to_lowercase()))
        .and_then(|op| op.pointer("/requestBody/content/application~1json/schema"));
    sorted(schema.map(|s| object_facts(s).0).unwrap_or_default())
}

/// The properties of the `result` object of `operation`'s success answer
/// (of its items, when `result` is a list).
pub fn answer_properties(operation: &str) -> Vec<String> {
    let Some(schema) = response_schema(operation, 200) else {
        return Vec::new();
    };
    let mut props = Vec::new();
    for result in property_schemas(schema, "result") {
        props.extend(object_facts(result).0);
        for item in item_schemas(result) {
            props.extend(object_facts(item).0);
        }
    }
    sorted(props)
}

fn sorted(mut props: Vec<String>) -> Vec<String> {
    props.sort();
    props.dedup();
    props
}

/// The properties a component schema of the contract names, through its
/// combinations (empty for a component the contract lacks).
pub(crate) fn component_properties(component: &str) -> Vec<String> {
    let Some(schema) = contract().pointer(&format!("/components/schemas/{component}")) else {
        return Vec::new();
    };
    sorted(object_facts(schema).0)
}

/// The properties component `a` names and component `b` does not.
pub(crate) fn properties_only_in(a: &str, b: &str) -> Vec<String> {
    let others = component_properties(b);
    component_properties(a)
        .into_iter()
        .filter(|p| !others.contains(p))
        .collect()
}

/// The schemas given for property `name` (a combined schema may give several).
fn property_schemas(schema: &'static Value, name: &str) -> Vec<&'static Value> {
    combined(schema)
        .into_iter()
        .filter_map(|part| part.get("properties").and_then(|p| p.get(name)))
        .collect()
}

/// The item schemas of an array schema (through combinations).
fn item_schemas(schema: &'static Value) -> Vec<&'static Value> {
    combined(schema)
        .into_iter()
        .filter_map(|part| part.get("items"))
        .collect()
}

fn is_required(schemas: &[&'static Value], name: &str) -> bool {
    schemas.iter().any(|s| object_facts(s).1.contains(&name))
}

fn essential(operation: &str, pointer: &str) -> bool {
    ESSENTIAL
        .iter()
        .any(|e| *e == pointer || *e == format!("{operation} {pointer}"))
}

/// Leaves out of `body` every optional property but the essential ones.
fn thin(
    operation: &str,
    schemas: &[&'static Value],
    body: &mut Value,
    pointer: &str,
    depth: usize,
) {
    if depth > 16 || schemas.is_empty() {
        return;
    }
    match body {
        Value::Object(map) => {
            let names: Vec<String> = map.keys().cloned().collect();
            for name in names {
                let here = format!("{pointer}/{name}");
                if !is_required(schemas, &name) && !essential(operation, &here) {
                    map.remove(&name);
                    continue;
                }
                let inner: Vec<&'static Value> = schemas
                    .iter()
                    .flat_map(|s| property_schemas(s, &name))
                    .collect();
                if let Some(v) = map.get_mut(&name) {
                    thin(operation, &inner, v, &here, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let inner: Vec<&'static Value> = schemas.iter().flat_map(|s| item_schemas(s)).collect();
            let here = format!("{pointer}/*");
            for item in items {
                thin(operation, &inner, item, &here, depth + 1);
            }
        }
        _ => {}
    }
}

/// Removes the property at `pointer` (`*` matching every element).
/// Whether anything was there to remove.
fn remove_at(body: &mut Value, pointer: &[&str]) -> bool {
    let Some((first, rest)) = pointer.split_first() else {
        return false;
    };
    match body {
        Value::Object(map) if rest.is_empty() => map.remove(*first).is_some(),
        Value::Object(map) => map.get_mut(*first).is_some_and(|v| remove_at(v, rest)),
        Value::Array(items) if *first == "*" => {
            if rest.is_empty() {
                let had = !items.is_empty();
                items.clear();
                had
            } else {
                // Every element, not only up to the first that had it.
                let mut removed = false;
                for item in items.iter_mut() {
                    removed |= remove_at(item, rest);
                }
                removed
            }
        }
        _ => false,
    }
}

/// The answer to `operation` with every optional property left out
/// (essential ones kept).
pub(crate) fn all(operation: &str, status: u16, body: &mut Value) {
    if let Some(schema) = response_schema(operation, status) {
        thin(operation, &[schema], body, "", 0);
    }
}

/// The answer without `property` (a JSON pointer; `*` stands for every
/// array element).
/// Whether the answer had it.
pub(crate) fn omit(property: &str, body: &mut Value) -> bool {
    let parts: Vec<&str> = property.split('/').skip(1).collect();
    remove_at(body, &parts)
}

/// Every property of `operation`'s successful answer that the contract marks
/// optional, as pointers (`*` for array elements), outermost first.
pub fn optional_properties(operation: &str) -> Vec<String> {
    let mut out = Vec::new();
    let status = [200u16, 201, 202]
        .into_iter()
        .find(|s| response_schema(operation, *s).is_some());
    if let Some(schema) = status.and_then(|s| response_schema(operation, s)) {
        walk_optional(&[schema], "", 0, &mut out);
    }
    out
}

fn walk_optional(schemas: &[&'static Value], pointer: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 6 {
        return;
    }
    let mut names: Vec<String> = Vec::new();
    for s in schemas {
        for name in object_facts(s).0 {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    for name in names {
        let here = format!("{pointer}/{name}");
        if !is_required(schemas, &name) {
            out.push(here.clone());
        }
        let inner: Vec<&'static Value> = schemas
            .iter()
            .flat_map(|s| property_schemas(s, &name))
            .collect();
        let items: Vec<&'static Value> = inner.iter().flat_map(|s| item_schemas(s)).collect();
        if items.is_empty() {
            walk_optional(&inner, &here, depth + 1, out);
        } else {
            walk_optional(&items, &format!("{here}/*"), depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GET_TOKEN: &str = "GET /accounts/{account_id}/tokens/{token_id}";

    #[test]
    fn all_at_once_keeps_what_is_required_or_essential() {
        let mut body = json!({
            "success": true, "errors": [], "messages": [],
            "result": { "id": "x", "name": "n", "status": "active",
                "policies": [{ "id": "p", "effect": "allow", "resources": {},
                    "permission_groups": [{ "id": "g", "name": "G" }] }] },
        });
        all(GET_TOKEN, 200, &mut body);
        assert_eq!(
            body,
            json!({
                "success": true, "errors": [], "messages": [],
                "result": { "id": "x" },
            })
        );
    }

    #[test]
    fn all_at_once_keeps_what_ai_search_requires() {
        let op = "GET /accounts/{account_id}/ai-search/tokens/{id}";
        let mut body = json!({ "success": true, "result": {
            "id": "i", "name": "n", "cf_api_id": "c", "created_at": "t", "modified_at": "t",
            "enabled": true, "legacy": false } });
        all(op, 200, &mut body);
        assert_eq!(
            body["result"],
            json!({ "id": "i", "name": "n", "cf_api_id": "c", "created_at": "t", "modified_at": "t" })
        );
    }

    #[test]
    fn one_at_a_time_leaves_out_exactly_one_property() {
        let mut body =
            json!({ "result": [{ "id": "a", "name": "x" }, { "id": "b", "name": "y" }] });
        omit("/result/*/name", &mut body);
        assert_eq!(body["result"], json!([{ "id": "a" }, { "id": "b" }]));
        let mut body =
            json!({ "result": { "id": "a", "condition": { "request_ip": { "in": [] } } } });
        omit("/result/condition/request_ip", &mut body);
        assert_eq!(body["result"], json!({ "id": "a", "condition": {} }));
    }

    #[test]
    fn the_optional_properties_come_from_the_contract() {
        let props = optional_properties(GET_TOKEN);
        for expected in [
            "/result",
            "/result/name",
            "/result/expires_on",
            "/result/policies",
        ] {
            assert!(
                props.contains(&expected.to_string()),
                "{expected} in {props:?}"
            );
        }
        assert!(!props.contains(&"/success".to_string()));
        assert!(!props.iter().any(|p| p == "/result/policies/*/effect"));
        let ns = optional_properties("GET /accounts/{account_id}/ai-search/namespaces/{name}");
        assert_eq!(ns, vec!["/result/description".to_string()]);
    }
}
