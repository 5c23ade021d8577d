//! What the AI Search actions share: the arguments that name an instance,
//! and resolving them to the client and the instance's place.

use super::common::{session, ACCOUNT_ID, AI_SEARCH_NAME};
use crate::cloudflare::Client;
use crate::context::Configured;
use crate::cty::Value;
use crate::framework::{Attribute, Diagnostics, Schema};

/// `account_id`, `namespace` and `instance_id`, added to `schema`; `role`
/// says what the instance is to the action ("The instance to sync.").
pub(crate) fn instance_arguments(schema: Schema, role: &str) -> Schema {
    schema
        .attribute(
            Attribute::string("account_id")
                .optional()
                .validate(ACCOUNT_ID)
                .describe("The instance's account (32 hex). Defaults to the provider's."),
        )
        .attribute(
            Attribute::string("namespace")
                .optional()
                .validate(AI_SEARCH_NAME)
                .describe("The instance's namespace. Default `default`."),
        )
        .attribute(
            Attribute::string("instance_id")
                .required()
                .validate(AI_SEARCH_NAME)
                .describe(role),
        )
}

/// The instance an action's configuration names.
pub(crate) struct Target<'a> {
    pub(crate) client: &'a Client,
    pub(crate) account: String,
    pub(crate) namespace: String,
    pub(crate) id: String,
}

impl<'a> Target<'a> {
    pub(crate) fn of(
        data: &'a Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let (client, account) = session(data, config.get("account_id").as_str(), diags)?;
        Some(Target {
            client,
            account,
            namespace: config
                .get("namespace")
                .as_str()
                .unwrap_or("default")
                .to_string(),
            id: config.get("instance_id").as_str()?.to_string(),
        })
    }
}
