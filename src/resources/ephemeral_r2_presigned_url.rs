//! Ephemeral `cfai_r2_presigned_url`: a SigV4 presigned URL for one object,
//! computed locally with no API call.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{account_of, cached_schema, capture_model, to_state, ACCOUNT_ID};
use crate::context::Configured;
use crate::cty::{Number, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{
    Attribute, Diagnostics, EphemeralResource, Opened, Private, Schema, Validator,
};
use crate::r2::presign::{presign, Presign};
use crate::r2::{r2_s3_host, R2_JURISDICTIONS};
use crate::secret::Secret;

pub struct R2PresignedUrl;

cached_schema!(R2PresignedUrl, EphemeralResource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresignedUrlModel {
    account_id: Attr<String>,
    bucket: String,
    key: String,
    method: Attr<String>,
    expires_in: Attr<Number>,
    jurisdiction: Attr<String>,
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
    url: Attr<Secret>,
    expires_at: Attr<String>,
}

const DEFAULT_EXPIRES_IN: i64 = 3600;

#[async_trait]
impl EphemeralResource<Configured> for R2PresignedUrl {
    fn type_name(&self) -> &'static str {
        "cfai_r2_presigned_url"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("A presigned URL (AWS SigV4) for one R2 object, computed locally. Never written to plan or state.")
            .attribute(Attribute::string("account_id").optional().computed().validate(ACCOUNT_ID).describe("The account; defaults to the provider's."))
            .attribute(Attribute::string("bucket").required().validate(Validator::Length { min: 3, max: 63 }).describe("The bucket."))
            .attribute(
                Attribute::string("key")
                    .required()
                    .validate(Validator::Length { min: 1, max: 1024 })
                    .describe("The object key; encoded once (spaces, `+`, unicode), `/` kept."),
            )
            .attribute(
                Attribute::string("method")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&["GET", "HEAD", "PUT", "DELETE"]))
                    .describe("`GET` (default), `HEAD`, `PUT` or `DELETE`."),
            )
            .attribute(
                Attribute::number("expires_in")
                    .optional()
                    .computed()
                    .validate(Validator::Range { min: 1.0, max: 604800.0 })
                    .describe("Seconds the URL is valid, 1 to 604800; default 3600."),
            )
            .attribute(
                Attribute::string("jurisdiction")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&R2_JURISDICTIONS))
                    .describe("The bucket's jurisdiction: `default`, `eu`, `fedramp` or `us`."),
            )
            .attribute(Attribute::string("access_key_id").required().describe("S3 access key id (a token's `access_key_id`, or temporary credentials')."))
            .attribute(Attribute::string("secret_access_key").required().sensitive().describe("S3 secret access key."))
            .attribute(Attribute::string("session_token").optional().sensitive().describe("Session token, with temporary credentials (signed as X-Amz-Security-Token)."))
            .attribute(Attribute::string("url").computed().sensitive().describe("The presigned URL."))
            .attribute(Attribute::string("expires_at").computed().describe("When the URL stops working (RFC 3339)."))
    }

    // -------------------------------------------------------------------- open

    async fn open(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Opened> {
        let mut m: PresignedUrlModel = capture_model(config, diags)?;
        let account = account_of(data, m.account_id.as_str(), diags)?;
        let method = m.method.as_str().unwrap_or("GET").to_string();
        let expires_in = m
            .expires_in
            .known()
            .and_then(Number::to_i64)
            .unwrap_or(DEFAULT_EXPIRES_IN);
        let jurisdiction = m.jurisdiction.as_str().unwrap_or("default").to_string();
        let host = r2_s3_host(&account, &jurisdiction);
        let path = format!("/{}/{}", m.bucket, m.key);
        let at = chrono::Utc::now();
        let url = presign(&Presign {
            method: &method,
            host: &host,
            path: &path,
            region: "auto",
            access_key_id: &m.access_key_id,
            secret_access_key: &m.secret_access_key,
            session_token: m.session_token.as_ref(),
            at,
            expires_in: expires_in.max(1) as u64,
        });
        let expires = at + chrono::Duration::seconds(expires_in);
        m.account_id = Attr::Known(account);
        m.method = Attr::Known(method);
        m.expires_in = Attr::Known(Number::from_i64(expires_in));
        m.jurisdiction = Attr::Known(jurisdiction);
        m.url = Attr::Known(url);
        m.expires_at = Attr::Known(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let result = to_state(&m, self.known_type(), diags)?;
        Some(Opened {
            result,
            private: Private::new(),
            renew_at: None,
        })
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<PresignedUrlModel>(self.known_schema())
    }
}
