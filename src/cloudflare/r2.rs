//! R2 operations: temporary access credentials for one bucket.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{decode, segment, ApiError, Client};
use crate::secret::Secret;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TempCredentialsRequest {
    pub bucket: String,
    pub parent_access_key_id: String,
    pub permission: String,
    pub ttl_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TempCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
}

impl Client {
    /// Short-lived S3 credentials derived from a parent R2 token; the answer
    /// is a secret and is never logged, even at TRACE.
    pub async fn create_temp_credentials(
        &self,
        account: &str,
        request: &TempCredentialsRequest,
    ) -> Result<TempCredentials, ApiError> {
        let path = format!("/accounts/{}/r2/temp-access-credentials", segment(account));
        let body = serde_json::to_value(request).unwrap_or_default();
        let page = self
            .call(Method::POST, &path, &[], Some(&body), true)
            .await?;
        decode("POST", &path, page).map(|p| p.result)
    }
}
