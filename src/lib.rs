//! terraform-provider-cfai: a Terraform provider for Cloudflare account API
//! tokens, the R2 S3 credentials derived from them, and AI Search.
//!
//! # Layout
//!
//! Each layer talks only to the one below it:
//!
//! - [`transport`]: go-plugin, as Terraform launches plugins: the magic
//!   cookie, the stdout handshake line, AutoMTLS with a pinned client
//!   certificate, health and controller services, `--debug` reattach mode.
//! - [`tfplugin`]: the tfplugin6 gRPC service. Decodes requests with
//!   [`cty`] (the msgpack/JSON value codec) and calls the framework.
//! - [`framework`]: what resources are written against: schemas, plan
//!   rules, diagnostics with attribute paths, the resource / data source /
//!   function traits. No protobuf or msgpack above this line.
//! - [`provider`]: the cfai provider itself: its configuration block, its
//!   functions, and the list of resources and data sources it registers.
//! - [`resources`]: one file per resource or data source, reading like
//!   its documentation, built on the framework and calling the client. Resources never
//!   reach up to the provider; what they share with it sits below both:
//!   [`context`] (the configured client and caches), [`r2`] and
//!   [`validation`] (pure helpers).
//! - [`cloudflare`]: the typed Cloudflare v4 client (envelope, retries,
//!   shared rate limiter). Knows nothing of Terraform or the transport.
//!
//! # How a resource is written
//!
//! A resource file declares its schema, then implements
//! [`framework::Resource`] in the order schema, validate, plan, create,
//! read, update, delete, import. From `cfai_ai_search_namespace`:
//!
//! - **A typed model**: one field per attribute, [`framework::Attr`] for
//!   what may be null or (in a configuration or plan) unknown; the same
//!   model serves configuration, plan and state. A test holds every
//!   registered type's model to its schema ([`framework::model::check`]).
//!
//!   ```ignore
//!   #[derive(Serialize, Deserialize)]
//!   #[serde(deny_unknown_fields)]
//!   struct NamespaceModel {
//!       account_id: Attr<String>,
//!       name: Attr<String>,
//!       description: Attr<String>,
//!       created_at: Attr<String>,
//!   }
//!   ```
//! - **The API mapping on the attribute**: `.api(Sent::Always)` on
//!   `description`, `.api(Sent::Never)` on `created_at`; attributes without
//!   it are the provider's own. Request bodies ([`framework::mapping::to_api`])
//!   and the state an answer gives (`common::from_answer`) follow from it.
//! - **CRUD on fields**, with what every resource does written once in
//!   `resources::common` (`session` for the client and account, `failed`
//!   for an API error, `found` for a read's 404, `deleted` for a delete's):
//!
//!   ```ignore
//!   let plan: NamespaceModel = capture_model(planned, diags)?;
//!   let (client, account) = session(data, plan.account_id.as_str(), diags)?;
//!   match client.update_namespace(&account, plan.name.as_str()?, plan.description.as_str()).await {
//!       Ok(ns) => self.state(&plan, &ns, diags),
//!       Err(e) => failed("Could not update the AI Search namespace", &e, diags),
//!   }
//!   ```
//! - **Plans on parts**: a plan reads and writes only the attributes it
//!   concerns, as a smaller struct ([`framework::model::put`]);
//!   `common::plan_account` is the one every resource shares.
//!
//! A new resource is its file, its line in the provider's registration,
//! its emulator routes and its example; docs, the schema lint, the model
//! check and the registry test (`tests/registry.rs`, which names any type
//! without an example, docs page or property test) find it themselves.
//!
//! [`emulator`] is a local Cloudflare API for tests and the quickstart, with
//! its own wire types; the provider never uses it.
//!
//! [`framework::oracle`] restates Terraform's plan and apply rules;
//! [`framework::guard`] holds every plan, new state and refreshed state to
//! them (and to the framework's own) before it leaves the provider, and the
//! property tests judge every resource with them.
//!
//! [`docs`] renders the registry documentation from the schemas (the
//! `cfai-docs` binary writes `docs/`).
//!
//! [`logging`] writes `tracing` events as hclog JSON for Terraform, and
//! [`secret`] keeps token values out of every log line and error.

pub mod cloudflare;
pub mod context;
pub(crate) mod crypto;
pub mod cty;
pub mod docs;
pub mod emulator;
pub mod framework;
pub mod logging;
pub mod provider;
pub mod r2;
pub mod resources;
pub mod secret;
pub mod tfplugin;
pub mod transport;
pub mod validation;
