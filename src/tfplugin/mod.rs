//! The tfplugin6 gRPC service: decodes requests into framework values,
//! calls the provider's resources, and encodes the answers.

mod action;
mod convert;
mod ephemeral;
mod generate;
mod handlers;
mod identity;
mod list;
mod server;

pub use server::ProviderServer;

/// Generated from `proto/tfplugin6.proto` and `proto/plugin.proto`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("tfplugin6");

    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

/// Terraform's own limit for schemas is 64 MiB and go SDKs use 256 MiB;
/// tonic's 4 MiB default would break a large plan.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

#[cfg(test)]
mod tests;
