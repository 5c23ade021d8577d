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
