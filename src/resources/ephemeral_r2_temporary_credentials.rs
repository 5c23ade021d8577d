//! Ephemeral `cfai_r2_temporary_credentials`: short-lived S3 credentials
//! for one bucket, derived from an R2-capable token. Never in
//! plan or state; nothing to close (Cloudflare cannot revoke one).

use async_trait::async_trait;

use super::common::ACCOUNT_ID;
use crate::cloudflare::r2::TempCredentialsRequest;
use crate::context::{api_error, Configured};
use crate::cty::{Type, Value};
use crate::framework::{
    Attribute, Diagnostics, EphemeralResource, Opened, Private, Schema, Validator,
};
use crate::r2::{is_r2_bucket_name, r2_s3_endpoint, R2_JURISDICTIONS};

pub struct R2TemporaryCredentials;

const DEFAULT_PERMISSION: &str = "object-read-only";
const DEFAULT_TTL: i64 = 900;

fn bucket_name(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(b) if !is_r2_bucket_name(b) => Err(format!(
            "{b:?} is not an R2 bucket name: 3 to 63 lowercase letters, digits and hyphens."
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl EphemeralResource<Configured> for R2TemporaryCredentials {
    fn type_name(&self) -> &'static str {
        "cfai_r2_temporary_credentials"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("Short-lived S3 credentials for one R2 bucket, derived from an R2-capable API token. Never written to plan or state.")
            .attribute(Attribute::string("account_id").optional().computed().validate(ACCOUNT_ID).describe("The account; defaults to the provider's."))
            .attribute(
                Attribute::string("bucket")
                    .required()
                    .validate(Validator::Length { min: 1, max: 63 })
                    .validate(Validator::Custom(bucket_name))
                    .describe("The one bucket the credentials reach."),
            )
            .attribute(
                Attribute::string("parent_access_key_id")
                    .required()
                    .validate(Validator::Length { min: 1, max: 64 })
                    .describe("The parent token's S3 access key id, e.g. `cfai_account_api_token.x.access_key_id`. The credentials never exceed or outlive it."),
            )
            .attribute(
                Attribute::string("permission")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&["object-read-only", "object-read-write", "admin-read-only", "admin-read-write"]))
                    .describe("`object-read-only` (default), `object-read-write`, `admin-read-only` or `admin-read-write`."),
            )
            .attribute(
                Attribute::number("ttl_seconds")
                    .optional()
                    .computed()
                    .validate(Validator::Range { min: 1.0, max: 604800.0 })
                    .describe("Lifetime in seconds, 1 to 604800 (7 days); default 900."),
            )
            .attribute(Attribute::new("prefixes", Type::set(Type::String)).optional().describe("Only keys under these prefixes."))
            .attribute(Attribute::new("objects", Type::set(Type::String)).optional().describe("Only these keys."))
            .attribute(
                Attribute::string("jurisdiction")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&R2_JURISDICTIONS))
                    .describe("The bucket's jurisdiction: `default`, `eu`, `fedramp` or `us` (for `s3_endpoint`)."),
            )
            .attribute(Attribute::string("access_key_id").computed().describe("S3 access key id."))
            .attribute(Attribute::string("secret_access_key").computed().sensitive().describe("S3 secret access key."))
            .attribute(Attribute::string("session_token").computed().sensitive().describe("S3 session token (X-Amz-Security-Token)."))
            .attribute(Attribute::string("expires_at").computed().describe("When the credentials expire (RFC 3339)."))
            .attribute(Attribute::string("s3_endpoint").computed().describe("The S3 endpoint for the jurisdiction."))
    }

    // -------------------------------------------------------------------- open

    async fn open(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Opened> {
        let account = data
            .account_id(config.get("account_id"))
            .map_err(|d| diags.push(d))
            .ok()?;
        let client = data.client().map_err(|d| diags.push(d)).ok()?;
        let permission = config
            .get("permission")
            .as_str()
            .unwrap_or(DEFAULT_PERMISSION)
            .to_string();
        let ttl = config.get("ttl_seconds").as_i64().unwrap_or(DEFAULT_TTL);
        let jurisdiction = config
            .get("jurisdiction")
            .as_str()
            .unwrap_or("default")
            .to_string();
        let set =
            |name: &str| Some(config.get(name).strings()).filter(|_| !config.get(name).is_null());
        let request = TempCredentialsRequest {
            bucket: config.get("bucket").as_str()?.to_string(),
            parent_access_key_id: config.get("parent_access_key_id").as_str()?.to_string(),
            permission: permission.clone(),
            ttl_seconds: ttl.max(1) as u64,
            prefixes: set("prefixes"),
            objects: set("objects"),
        };
        let started = chrono::Utc::now();
        let creds = match client.create_temp_credentials(&account, &request).await {
            Ok(c) => c,
            Err(e) => {
                diags.push(api_error("Could not create R2 temporary credentials", &e));
                return None;
            }
        };
        let mut result = config.clone();
        result.set("account_id", Value::string(&account));
        result.set("permission", Value::string(permission));
        result.set("ttl_seconds", Value::number(ttl));
        result.set("jurisdiction", Value::string(&jurisdiction));
        result.set("access_key_id", Value::string(creds.access_key_id));
        result.set(
            "secret_access_key",
            Value::string(creds.secret_access_key.expose()),
        );
        result.set("session_token", Value::string(creds.session_token.expose()));
        let expires = started + chrono::Duration::seconds(ttl);
        result.set(
            "expires_at",
            Value::string(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        result.set(
            "s3_endpoint",
            Value::string(r2_s3_endpoint(&account, &jurisdiction)),
        );
        Some(Opened {
            result,
            private: Private::new(),
            renew_at: None,
        })
    }
}
