//! The provider's managed resources, one file each, and the concepts they
//! share (permission-group resolution, token semantics).

pub mod ai_search_instance;
pub mod ai_search_instance_data;
mod ai_search_instance_fields;
pub mod ai_search_namespace;
pub mod ai_search_purge_cache;
pub mod ai_search_service_token;
pub mod ai_search_service_tokens_data;
pub mod ai_search_sync;
pub mod api_token;
pub(crate) mod common;
pub mod ephemeral_api_token;
pub mod ephemeral_r2_presigned_url;
pub mod ephemeral_r2_temporary_credentials;
mod instance_action;
mod listing;
pub mod permission_groups;
pub mod permission_groups_data;
mod resource_keys;
mod service_token_ops;
pub(crate) mod token_model;
pub mod token_semantics;
pub mod token_state;
