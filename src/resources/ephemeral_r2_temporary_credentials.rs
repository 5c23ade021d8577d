//! Ephemeral `cfai_r2_temporary_credentials`: short-lived S3 credentials
//! for one bucket, derived from an R2-capable token. Never in
//! plan or state; nothing to close (Cloudflare cannot revoke one).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{cached_schema, capture_model, failed, session, to_state, ACCOUNT_ID};
use crate::cloudflare::r2::TempCredentialsRequest;
use crate::context::Configured;
use crate::cty::{Number, Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{
    Attribute, Diagnostics, EphemeralResource, Opened, Private, Schema, Validator,
};
use crate::r2::{is_r2_bucket_name, r2_s3_endpoint, R2_JURISDICTIONS};
use crate::secret::Secret;

pub struct R2TemporaryCredentials;

cached_schema!(R2TemporaryCredentials, EphemeralResource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemporaryCredentialsModel {
    account_id: Attr<String>,
    bucket: String,
    parent_access_key_id: String,
    permission: Attr<String>,
    ttl_seconds: Attr<Number>,
    prefixes: Option<Vec<Option<String>>>,
    objects: Option<Vec<Option<String>>>,
    jurisdiction: Attr<String>,
    access_key_id: Attr<String>,
    secret_access_key: Attr<Secret>,
    session_token: Attr<Secret>,
    expires_at: Attr<String>,
    s3_endpoint: Attr<String>,
}

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
        let mut m: TemporaryCredentialsModel = capture_model(config, diags)?;
        let (client, account) = session(data, m.account_id.as_str(), diags)?;
        let permission = m
            .permission
            .as_str()
            .unwrap_or(DEFAULT_PERMISSION)
            .to_string();
        let ttl = m
            .ttl_seconds
            .known()
            .and_then(Number::to_i64)
            .unwrap_or(DEFAULT_TTL);
        let jurisdiction = m.jurisdiction.as_str().unwrap_or("default").to_string();
        let strings = |set: &Option<Vec<Option<String>>>| {
            set.as_ref()
                .map(|items| items.iter().flatten().cloned().collect())
        };
        let request = TempCredentialsRequest {
            bucket: m.bucket.clone(),
            parent_access_key_id: m.parent_access_key_id.clone(),
            permission: permission.clone(),
            ttl_seconds: ttl.max(1) as u64,
            prefixes: strings(&m.prefixes),
            objects: strings(&m.objects),
        };
        let started = chrono::Utc::now();
        let creds = match client.create_temp_credentials(&account, &request).await {
            Ok(c) => c,
            Err(e) => return failed("Could not create R2 temporary credentials", &e, diags),
        };
        let expires = started + chrono::Duration::seconds(ttl);
        m.s3_endpoint = Attr::Known(r2_s3_endpoint(&account, &jurisdiction));
        m.account_id = Attr::Known(account);
        m.permission = Attr::Known(permission);
        m.ttl_seconds = Attr::Known(Number::from_i64(ttl));
        m.jurisdiction = Attr::Known(jurisdiction);
        m.access_key_id = Attr::Known(creds.access_key_id);
        m.secret_access_key = Attr::Known(creds.secret_access_key);
        m.session_token = Attr::Known(creds.session_token);
        m.expires_at = Attr::Known(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let result = to_state(&m, self.known_type(), diags)?;
        Some(Opened {
            result,
            private: Private::new(),
            renew_at: None,
        })
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<TemporaryCredentialsModel>(self.known_schema())
    }
}
