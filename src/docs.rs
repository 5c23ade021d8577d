//! Registry documentation generated from the provider's own schemas and
//! `examples/`, in the shape tfplugindocs writes (that Go tool is what the
//! registry and users know): `docs/index.md`, `docs/resources/`,
//! `docs/data-sources/`, `docs/ephemeral-resources/`, `docs/list-resources/`,
//! `docs/actions/`, `docs/functions/`.
//! `cargo run --bin cfai-docs` rewrites `docs/`; a test fails when the
//! committed pages differ from what this produces.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::cty::Type;
use crate::framework::schema::{AttrType, Attribute, Block};
use crate::framework::{Nesting, ProviderDef, Schema};
use crate::provider::CfaiProvider;

const PROVIDER: &str = "cfai";
const WRITE_ONLY_NOTE: &str = "> **NOTE**: [Write-only arguments](https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments) are supported in Terraform 1.11 and later.";

const LIST_NOTE: &str = "> **NOTE**: List resources are used by `terraform query` in `.tfquery.hcl` files, in Terraform 1.14 and later. Results stream as each page of the listing arrives, and `limit` stops the listing early. Each result carries the object's identity and a display name (its name, or its id); with `include_resource = true` it carries the object as an import would store it, and `terraform query -generate-config-out=FILE` writes `import` and `resource` blocks for the results that plan as imports only. The arguments below go in the `list` block's `config` block, and are all optional.";

const ACTION_NOTE: &str = "> **NOTE**: Actions run in Terraform 1.14 and later, from a resource's `lifecycle { action_trigger { ... } }` or with `terraform apply -invoke=action.<type>.<name>`. They change no state: the plan after them is as it was. The arguments below go in the `action` block's `config` block.";

/// Every page: its path under `docs/` and its text.
pub fn pages(examples: &Path) -> BTreeMap<String, String> {
    let provider = CfaiProvider;
    let read = |rel: &str| std::fs::read_to_string(examples.join(rel)).ok();
    let mut out = BTreeMap::new();
    out.insert(
        "index.md".to_string(),
        index(&provider.schema(), read("provider/provider.tf")),
    );
    for r in provider.resources() {
        let name = r.type_name();
        let dir = format!("resources/{name}");
        let page = object_page(
            name,
            "Resource",
            &r.schema(),
            read(&format!("{dir}/resource.tf")),
            read(&format!("{dir}/import.sh")),
        );
        out.insert(format!("resources/{}.md", short(name)), page);
    }
    for r in provider.resources() {
        let name = r.type_name();
        if let Some(schema) = r.list_schema() {
            let example = read(&format!("list-resources/{name}/list-resource.tfquery.hcl"));
            out.insert(
                format!("list-resources/{}.md", short(name)),
                config_block_page(name, "List Resource", LIST_NOTE, &schema, example),
            );
        }
    }
    for a in provider.actions() {
        let name = a.type_name();
        let example = read(&format!("actions/{name}/action.tf"));
        out.insert(
            format!("actions/{}.md", short(name)),
            config_block_page(name, "Action", ACTION_NOTE, &a.schema(), example),
        );
    }
    for d in provider.data_sources() {
        let name = d.type_name();
        let example = read(&format!("data-sources/{name}/data-source.tf"));
        out.insert(
            format!("data-sources/{}.md", short(name)),
            object_page(name, "Data Source", &d.schema(), example, None),
        );
    }
    for e in provider.ephemeral_resources() {
        let name = e.type_name();
        let example = read(&format!("ephemeral-resources/{name}/ephemeral-resource.tf"));
        out.insert(
            format!("ephemeral-resources/{}.md", short(name)),
            object_page(name, "Ephemeral Resource", &e.schema(), example, None),
        );
    }
    for f in provider.functions() {
        let name = f.name();
        let example = read(&format!("functions/{name}/function.tf"));
        out.insert(
            format!("functions/{name}.md"),
            function_page(name, &f.definition(), example),
        );
    }
    out
}

/// Writes every page under `docs`, removing pages that no longer exist.
pub fn write(docs: &Path, examples: &Path) -> std::io::Result<()> {
    if docs.exists() {
        std::fs::remove_dir_all(docs)?;
    }
    for (rel, text) in pages(examples) {
        let path = docs.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}

fn short(type_name: &str) -> &str {
    type_name.strip_prefix("cfai_").unwrap_or(type_name)
}

fn front_matter(title: &str, description: &str, subcategory: bool) -> String {
    let mut s = format!("---\npage_title: \"{title}\"\n");
    if subcategory {
        s.push_str("subcategory: \"\"\n");
    }
    s.push_str("description: |-\n");
    for line in description.lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("---\n\n");
    s
}

fn example_block(lang: &str, text: &str) -> String {
    format!("```{lang}\n{}\n```\n\n", text.trim_end())
}

fn index(schema: &Schema, example: Option<String>) -> String {
    let mut s = front_matter(&format!("{PROVIDER} Provider"), &schema.description, false);
    let _ = write!(s, "# {PROVIDER} Provider\n\n{}\n\n", schema.description);
    if let Some(ex) = example {
        s.push_str("## Example Usage\n\n");
        s.push_str(&example_block("terraform", &ex));
    }
    s.push_str(&schema_section(schema));
    s
}

fn object_page(
    name: &str,
    kind: &str,
    schema: &Schema,
    example: Option<String>,
    import: Option<String>,
) -> String {
    let mut s = front_matter(
        &format!("{name} {kind} - terraform-provider-{PROVIDER}"),
        &schema.description,
        true,
    );
    let _ = write!(s, "# {name} ({kind})\n\n{}\n\n", schema.description);
    if let Some(ex) = example {
        s.push_str("## Example Usage\n\n");
        s.push_str(&example_block("terraform", &ex));
    }
    s.push_str(&schema_section(schema));
    if let Some(script) = import {
        s.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
        s.push_str(&example_block("shell", &script));
    }
    s.trim_end().to_string() + "\n"
}

/// The page of a kind that lives in a `config` block (a list resource, an
/// action): its note on how Terraform uses it, the example, the arguments.
fn config_block_page(
    name: &str,
    kind: &str,
    note: &str,
    schema: &Schema,
    example: Option<String>,
) -> String {
    let mut s = front_matter(
        &format!("{name} {kind} - terraform-provider-{PROVIDER}"),
        &schema.description,
        true,
    );
    let _ = write!(
        s,
        "# {name} ({kind})\n\n{}\n\n{note}\n\n",
        schema.description
    );
    if let Some(ex) = example {
        s.push_str("## Example Usage\n\n");
        s.push_str(&example_block("terraform", &ex));
    }
    s.push_str(&schema_section(schema));
    s.trim_end().to_string() + "\n"
}

fn function_page(
    name: &str,
    def: &crate::framework::FunctionDef,
    example: Option<String>,
) -> String {
    let mut s = front_matter(
        &format!("{name} function - terraform-provider-{PROVIDER}"),
        def.summary,
        true,
    );
    let _ = write!(s, "# function: {name}\n\n{}\n\n", def.description);
    if let Some(ex) = example {
        s.push_str("## Example Usage\n\n");
        s.push_str(&example_block("terraform", &ex));
    }
    let params: Vec<String> = def
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, p.ty.friendly_name()))
        .collect();
    let _ = write!(
        s,
        "## Signature\n\n```text\n{name}({}) {}\n```\n\n## Arguments\n\n",
        params.join(", "),
        def.return_type.friendly_name()
    );
    for (i, p) in def.parameters.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}. `{}` ({}) {}",
            i + 1,
            p.name,
            type_name(&p.ty),
            p.description
        );
    }
    s
}

fn type_name(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

/// A nested item waiting for its own section: anchor, dotted path, content.
struct Nested<'a> {
    anchor: String,
    path: String,
    attributes: &'a [Attribute],
}

fn schema_section(schema: &Schema) -> String {
    let mut s = "<!-- schema generated by cfai-docs -->\n## Schema\n\n".to_string();
    let mut pending = Vec::new();
    s.push_str(&groups(
        &schema.attributes,
        &schema.blocks,
        "",
        "",
        true,
        &mut pending,
    ));
    let mut i = 0;
    while i < pending.len() {
        let n: &Nested = &pending[i];
        let (anchor, path, attributes) = (n.anchor.clone(), n.path.clone(), n.attributes);
        let _ = write!(
            s,
            "<a id=\"{anchor}\"></a>\n### Nested Schema for `{path}`\n\n"
        );
        let mut more = Vec::new();
        let body = groups(attributes, &[], &anchor, &path, false, &mut more);
        s.push_str(&body);
        pending.extend(more);
        i += 1;
    }
    s
}

fn groups<'a>(
    attrs: &'a [Attribute],
    blocks: &'a [Block],
    anchor: &str,
    path: &str,
    top: bool,
    pending: &mut Vec<Nested<'a>>,
) -> String {
    let mut sorted: Vec<&Attribute> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut s = String::new();
    for (title, pick) in [
        (
            "Required",
            (|a: &Attribute| a.required) as fn(&Attribute) -> bool,
        ),
        ("Optional", |a: &Attribute| a.optional),
        ("Read-Only", |a: &Attribute| {
            a.computed && !a.optional && !a.required
        }),
    ] {
        let chosen: Vec<&&Attribute> = sorted.iter().filter(|a| pick(a)).collect();
        let chosen_blocks: Vec<&Block> = if title == "Optional" {
            blocks.iter().collect()
        } else {
            Vec::new()
        };
        if chosen.is_empty() && chosen_blocks.is_empty() {
            continue;
        }
        if top {
            let _ = write!(s, "### {title}\n\n");
        } else {
            let _ = write!(s, "{title}:\n\n");
        }
        if chosen.iter().any(|a| a.write_only) {
            let _ = write!(s, "{WRITE_ONLY_NOTE}\n\n");
        }
        for a in chosen {
            s.push_str(&item(a, anchor, path, pending));
        }
        for b in chosen_blocks {
            let id = join(anchor, "nestedblock", &b.name);
            let kind = if b.nesting == Nesting::List {
                "Block List"
            } else {
                "Block"
            };
            let max = if b.nesting == Nesting::List && b.max_items > 0 {
                format!(", Max: {}", b.max_items)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "- `{}` ({kind}{max}) {} (see [below for nested schema](#{id}))",
                b.name, b.description
            );
            pending.push(Nested {
                anchor: id,
                path: dotted(path, &b.name),
                attributes: &b.attributes,
            });
        }
        s.push('\n');
    }
    s
}

fn join(anchor: &str, prefix: &str, name: &str) -> String {
    if anchor.is_empty() {
        format!("{prefix}--{name}")
    } else {
        format!("{anchor}--{name}")
    }
}

fn dotted(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn item<'a>(a: &'a Attribute, anchor: &str, path: &str, pending: &mut Vec<Nested<'a>>) -> String {
    let mut flags = match &a.ty {
        AttrType::Primitive(t) => type_name(t),
        AttrType::Nested(n, _) => match n {
            Nesting::Single => "Attributes".into(),
            Nesting::List => "Attributes List".into(),
            Nesting::Set => "Attributes Set".into(),
            Nesting::Map => "Attributes Map".into(),
        },
    };
    if a.sensitive {
        flags.push_str(", Sensitive");
    }
    if a.deprecated {
        flags.push_str(", Deprecated");
    }
    if a.write_only {
        flags.push_str(", [Write-only](https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments)");
    }
    let mut line = format!("- `{}` ({flags}) {}", a.name, a.description);
    if let AttrType::Nested(_, inner) = &a.ty {
        let prefix = if anchor.is_empty() {
            "nestedatt"
        } else {
            "nestedobjatt"
        };
        let id = join(anchor, prefix, &a.name);
        let _ = write!(line, " (see [below for nested schema](#{id}))");
        pending.push(Nested {
            anchor: id,
            path: dotted(path, &a.name),
            attributes: inner,
        });
    }
    line.push('\n');
    line
}
