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
//!   functions and the resources and data sources it registers.
//! - [`resources`]: one file per resource or data source, reading like
//!   SPEC.md, built on the framework and calling the client.
//! - [`cloudflare`]: the typed Cloudflare v4 client (envelope, retries,
//!   shared rate limiter). Knows nothing of Terraform.
//!
//! [`emulator`] is a local Cloudflare API for tests and the quickstart; the
//! provider never uses it.
//!
//! [`logging`] writes `tracing` events as hclog JSON for Terraform, and
//! [`secret`] keeps token values out of every log line and error.

pub mod cloudflare;
pub mod cty;
pub mod emulator;
pub mod framework;
pub mod logging;
pub mod provider;
pub mod resources;
pub mod secret;
pub mod tfplugin;
pub mod transport;
