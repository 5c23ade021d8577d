//! The configuration fields of an AI Search instance, named as the API
//! names them (so state and API map by schema), with Cloudflare's ranges
//! and enums. Shared by the resource and the data source.
//!
//! Every field is optional and computed, nested ones included: what the
//! configuration leaves out is the API's to decide (its default, or what an
//! earlier apply set), never a diff. Fields the API requires inside a list
//! element are checked by the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cty::{Number, Type, Value};
use crate::framework::{Attr, Attribute, Nesting, Sent, Validator};

/// Optional and computed: the API fills in what the configuration leaves
/// out. A field of the instance, sent on create and update unless
/// [`update_only`] says otherwise (nested members go with their parent).
fn opt(a: Attribute) -> Attribute {
    a.optional().computed().api(Sent::Always)
}

/// Sent by updates only: the API refuses it at create, so create sends it
/// in an update right after.
fn update_only(a: Attribute) -> Attribute {
    a.api(Sent::OnUpdate)
}

fn s(name: &str, text: &str) -> Attribute {
    opt(Attribute::string(name).describe(text))
}

fn b(name: &str, text: &str) -> Attribute {
    opt(Attribute::bool(name).describe(text))
}

fn n(name: &str, text: &str) -> Attribute {
    opt(Attribute::number(name).describe(text))
}

fn strings(name: &str, text: &str) -> Attribute {
    opt(Attribute::new(name, Type::list(Type::String)).describe(text))
}

fn object(name: &str, text: &str, attrs: Vec<Attribute>) -> Attribute {
    opt(Attribute::nested(name, Nesting::Single, attrs).describe(text))
}

fn one_of_numbers(value: &Value, allowed: &[i64]) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    match value.as_i64() {
        Some(v) if allowed.contains(&v) => Ok(()),
        _ => Err(format!(
            "Must be one of {}.",
            allowed
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn cache_ttl(value: &Value) -> Result<(), String> {
    one_of_numbers(
        value,
        &[
            600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200, 518400,
        ],
    )
}

fn sync_interval(value: &Value) -> Result<(), String> {
    one_of_numbers(value, &[900, 1800, 3600, 7200, 14400, 21600, 43200, 86400])
}

fn whole_number(value: &Value) -> Result<(), String> {
    match value.as_number() {
        Some(n) if !n.is_integer() => Err("Must be a whole number.".into()),
        _ => Ok(()),
    }
}

/// The settings of an instance (not its identity, not what only the API sets).
pub(crate) fn settings() -> Vec<Attribute> {
    vec![
        s("ai_search_model", "Model that answers; not checked against a list, so new models work without a provider release."),
        s("rewrite_model", "Model that rewrites queries (free string)."),
        s("reranking_model", "Model that reranks results (free string)."),
        update_only(s("summarization_model", "Model that summarises documents while indexing (free string; set by an update right after create).")),
        s("ai_gateway_id", "AI Gateway to route model calls through."),
        b("cache", "Cache answers to similar queries."),
        s("cache_threshold", "How similar a query must be to hit the cache.")
            .validate(Validator::OneOf(&["super_strict_match", "close_enough", "flexible_friend", "anything_goes"])),
        n("cache_ttl", "Cache entry lifetime in seconds: 600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200 or 518400.")
            .validate(Validator::Custom(cache_ttl)),
        b("chunk", "Split documents into chunks."),
        n("chunk_size", "Chunk size in tokens, at least 64.")
            .validate(Validator::Range { min: 64.0, max: 1e9 })
            .validate(Validator::Custom(whole_number)),
        n("chunk_overlap", "Chunk overlap in percent, 0 to 30.")
            .validate(Validator::Range { min: 0.0, max: 30.0 })
            .validate(Validator::Custom(whole_number)),
        s("fusion_method", "How keyword and vector results are merged: `max` or `rrf`.")
            .validate(Validator::OneOf(&["max", "rrf"])),
        n("max_num_results", "Results per query, 1 to 50.")
            .validate(Validator::Range { min: 1.0, max: 50.0 })
            .validate(Validator::Custom(whole_number)),
        n("score_threshold", "Minimum relevance score, 0 to 1.")
            .validate(Validator::Range { min: 0.0, max: 1.0 }),
        b("reranking", "Rerank results with `reranking_model`."),
        b("rewrite_query", "Rewrite queries with `rewrite_model` before searching."),
        n("sync_interval", "Seconds between automatic syncs: 900, 1800, 3600, 7200, 14400, 21600, 43200 or 86400.")
            .validate(Validator::Custom(sync_interval)),
        update_only(b("paused", "Pause indexing (set by an update right after create).")),
        update_only(b("summarization", "Summarise documents while indexing (set by an update right after create).")),
        update_only(s("system_prompt_ai_search", "System prompt of the answering model (set by an update right after create).")),
        update_only(s("system_prompt_index_summarization", "System prompt of the summarisation model (set by an update right after create).")),
        update_only(s("system_prompt_rewrite_query", "System prompt of the query-rewriting model (set by an update right after create).")),
        opt(Attribute::nested(
            "custom_metadata",
            Nesting::List,
            vec![
                s("field_name", "Metadata field name (the API requires it)."),
                s("data_type", "`text`, `number`, `boolean` or `datetime` (the API requires it).")
                    .validate(Validator::OneOf(&["text", "number", "boolean", "datetime"])),
            ],
        )
        .describe("Custom metadata fields indexed with each document.")),
        object(
            "index_method",
            "Which storage backends indexing uses (default vector only).",
            vec![
                b("keyword", "Keyword (BM25) index."),
                b("vector", "Vector (embedding) index."),
            ],
        ),
        object(
            "indexing_options",
            "Indexing options.",
            vec![s("keyword_tokenizer", "`porter` (word stemming) or `trigram` (substrings); a change re-indexes.")
                .validate(Validator::OneOf(&["porter", "trigram"]))],
        ),
        object(
            "retrieval_options",
            "Retrieval options.",
            vec![
                opt(Attribute::nested(
                    "boost_by",
                    Nesting::List,
                    vec![
                        s("field", "`timestamp` or a custom_metadata field (the API requires it)."),
                        s("direction", "`asc`, `desc`, `exists` or `not_exists`.")
                            .validate(Validator::OneOf(&["asc", "desc", "exists", "not_exists"])),
                    ],
                )
                .describe("Metadata fields to boost results by.")),
                s("keyword_match_mode", "`and` or `or`: which documents BM25 scores.")
                    .validate(Validator::OneOf(&["and", "or"])),
            ],
        ),
        object(
            "public_endpoint_params",
            "The instance's public endpoint.",
            vec![
                b("enabled", "Serve the public endpoint."),
                strings("authorized_hosts", "Hosts allowed to call it."),
                strings("custom_domains", "Custom domains aliasing the endpoint."),
                b("default_domain_enabled", "Serve on the default <public_endpoint_id>.search.ai.cloudflare.com host too."),
                object("chat_completions_endpoint", "Chat completions endpoint.", vec![b("disabled", "Disable it.")]),
                object("search_endpoint", "Search endpoint.", vec![b("disabled", "Disable it.")]),
                object(
                    "mcp",
                    "MCP endpoint.",
                    vec![b("disabled", "Disable it."), s("description", "What the MCP tool says it does.")],
                ),
                object(
                    "rate_limit",
                    "Rate limit of the public endpoint.",
                    vec![
                        n("period_ms", "Window in milliseconds, 60000 to 3600000.")
                            .validate(Validator::Range { min: 60000.0, max: 3600000.0 }),
                        n("requests", "Requests per window, at least 1.")
                            .validate(Validator::Range { min: 1.0, max: 1e12 }),
                        s("technique", "`fixed` or `sliding`.").validate(Validator::OneOf(&["fixed", "sliding"])),
                    ],
                ),
            ],
        ),
        object(
            "source_params",
            "What to index from the source.",
            vec![
                strings("include_items", "Path globs to include."),
                strings("exclude_items", "Path globs to exclude."),
                s("prefix", "Only objects under this prefix (R2)."),
                s("r2_jurisdiction", "The bucket's jurisdiction (R2), e.g. `default` or `eu`."),
                object(
                    "web_crawler",
                    "Web crawler options (type `web-crawler`).",
                    vec![
                        s("parse_type", "`sitemap` or `discover`.").validate(Validator::OneOf(&["sitemap", "discover"])),
                        object(
                            "parse_options",
                            "How pages are read.",
                            vec![
                                opt(Attribute::nested(
                                    "content_selector",
                                    Nesting::List,
                                    vec![
                                        s("path", "URL path glob (the API requires it)."),
                                        s("selector", "CSS selector of the content (the API requires it)."),
                                    ],
                                )
                                .describe("Path glob to CSS selector; the first match wins.")),
                                opt(Attribute::new("include_headers", Type::map(Type::String))
                                    .describe("Up to 5 HTTP headers sent with each request.")),
                                b("include_images", "Index images."),
                                strings("specific_sitemaps", "Sitemaps to read instead of discovering them."),
                                b("use_browser_rendering", "Render pages in a browser."),
                            ],
                        ),
                        object(
                            "discover_options",
                            "Options of `discover`.",
                            vec![
                                n("depth", "Maximum link depth."),
                                b("include_external_links", "Follow external links (must stay false)."),
                                b("include_subdomains", "Follow subdomains."),
                                n("limit", "Maximum pages, 1 to 100000.").validate(Validator::Range { min: 1.0, max: 100000.0 }),
                                n("max_age", "Maximum content age in seconds, 0 to 604800.")
                                    .validate(Validator::Range { min: 0.0, max: 604800.0 }),
                                s("source", "`all`, `sitemaps` or `links`.")
                                    .validate(Validator::OneOf(&["all", "sitemaps", "links"])),
                            ],
                        ),
                    ],
                ),
            ],
        ),
    ]
}

/// The same attributes, all computed (for the data source).
pub(crate) fn computed(attrs: Vec<Attribute>) -> Vec<Attribute> {
    attrs
        .into_iter()
        .map(|mut a| {
            a.optional = false;
            a.required = false;
            a.computed = true;
            a.validators.clear();
            a.default = None;
            a.requires_replace = false;
            a.unknown_on_change = false;
            if let crate::framework::schema::AttrType::Nested(nesting, inner) = a.ty {
                a.ty = crate::framework::schema::AttrType::Nested(nesting, computed(inner));
            }
            a
        })
        .collect()
}

/// A struct with one field per setting (see [`settings`]) besides the
/// fields given: the typed models of the resource and the data source
/// share the settings without serde's `flatten`, which would lose unknowns.
macro_rules! with_instance_settings {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($field: $ty,)*
            ai_search_model: Attr<String>,
            rewrite_model: Attr<String>,
            reranking_model: Attr<String>,
            summarization_model: Attr<String>,
            ai_gateway_id: Attr<String>,
            cache: Attr<bool>,
            cache_threshold: Attr<String>,
            cache_ttl: Attr<Number>,
            chunk: Attr<bool>,
            chunk_size: Attr<Number>,
            chunk_overlap: Attr<Number>,
            fusion_method: Attr<String>,
            max_num_results: Attr<Number>,
            score_threshold: Attr<Number>,
            reranking: Attr<bool>,
            rewrite_query: Attr<bool>,
            sync_interval: Attr<Number>,
            paused: Attr<bool>,
            summarization: Attr<bool>,
            system_prompt_ai_search: Attr<String>,
            system_prompt_index_summarization: Attr<String>,
            system_prompt_rewrite_query: Attr<String>,
            custom_metadata: Attr<Vec<Attr<$crate::resources::ai_search_instance_fields::CustomMetadata>>>,
            index_method: Attr<$crate::resources::ai_search_instance_fields::IndexMethod>,
            indexing_options: Attr<$crate::resources::ai_search_instance_fields::IndexingOptions>,
            retrieval_options: Attr<$crate::resources::ai_search_instance_fields::RetrievalOptions>,
            public_endpoint_params: Attr<$crate::resources::ai_search_instance_fields::PublicEndpoint>,
            source_params: Attr<$crate::resources::ai_search_instance_fields::SourceParams>,
        }
    };
}
pub(crate) use with_instance_settings;

/// Declares the nested models of the settings: every member, and every
/// element of a collection, may be null or, in a plan, unknown.
macro_rules! nested_models {
    ($($name:ident { $($field:ident: $ty:ty,)* })*) => {$(
        #[derive(Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $($field: Attr<$ty>,)*
        }
    )*};
}

nested_models! {
    CustomMetadata { field_name: String, data_type: String, }
    IndexMethod { keyword: bool, vector: bool, }
    IndexingOptions { keyword_tokenizer: String, }
    BoostBy { field: String, direction: String, }
    RetrievalOptions { boost_by: Vec<Attr<BoostBy>>, keyword_match_mode: String, }
    Toggle { disabled: bool, }
    Mcp { disabled: bool, description: String, }
    RateLimit { period_ms: Number, requests: Number, technique: String, }
    PublicEndpoint {
        enabled: bool,
        authorized_hosts: Vec<Attr<String>>,
        custom_domains: Vec<Attr<String>>,
        default_domain_enabled: bool,
        chat_completions_endpoint: Toggle,
        search_endpoint: Toggle,
        mcp: Mcp,
        rate_limit: RateLimit,
    }
    ContentSelector { path: String, selector: String, }
    ParseOptions {
        content_selector: Vec<Attr<ContentSelector>>,
        include_headers: BTreeMap<String, Attr<String>>,
        include_images: bool,
        specific_sitemaps: Vec<Attr<String>>,
        use_browser_rendering: bool,
    }
    DiscoverOptions {
        depth: Number,
        include_external_links: bool,
        include_subdomains: bool,
        limit: Number,
        max_age: Number,
        source: String,
    }
    WebCrawler { parse_type: String, parse_options: ParseOptions, discover_options: DiscoverOptions, }
    SourceParams {
        include_items: Vec<Attr<String>>,
        exclude_items: Vec<Attr<String>>,
        prefix: String,
        r2_jurisdiction: String,
        web_crawler: WebCrawler,
    }
}
