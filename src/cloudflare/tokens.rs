//! Account-owned API tokens (`/accounts/{account_id}/tokens`).

use reqwest::Method;
use serde_json::json;

use super::models::{PermissionGroup, Token, TokenRequest, TokenVerification};
use super::{segment, ApiError, Client, ErrorKind};
use crate::secret::Secret;

fn tokens_path(account: &str) -> String {
    format!("/accounts/{}/tokens", segment(account))
}

fn body<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

impl Client {
    pub async fn list_tokens(&self, account: &str) -> Result<Vec<Token>, ApiError> {
        self.list_all(&tokens_path(account), 50, &[]).await
    }

    /// The only response, with roll's, that carries the token's value.
    pub async fn create_token(
        &self,
        account: &str,
        request: &TokenRequest,
    ) -> Result<Token, ApiError> {
        self.send(Method::POST, &tokens_path(account), &body(request))
            .await
    }

    pub async fn get_token(&self, account: &str, id: &str) -> Result<Token, ApiError> {
        let path = format!("{}/{}", tokens_path(account), segment(id));
        self.get(&path, &[]).await.map(|p| p.result)
    }

    pub async fn update_token(
        &self,
        account: &str,
        id: &str,
        request: &TokenRequest,
    ) -> Result<Token, ApiError> {
        let path = format!("{}/{}", tokens_path(account), segment(id));
        self.send(Method::PUT, &path, &body(request)).await
    }

    pub async fn delete_token(&self, account: &str, id: &str) -> Result<(), ApiError> {
        self.delete(&format!("{}/{}", tokens_path(account), segment(id)))
            .await
    }

    /// New value, same id; the old value stops working.
    pub async fn roll_token(&self, account: &str, id: &str) -> Result<Secret, ApiError> {
        let path = format!("{}/{}/value", tokens_path(account), segment(id));
        let page = self
            .call(Method::PUT, &path, &[], Some(&json!({})), true)
            .await?;
        match page.result.as_str() {
            Some(value) if !value.is_empty() => Ok(Secret::new(value)),
            _ => Err(ApiError::new(
                ErrorKind::Malformed,
                "PUT",
                &path,
                "The roll response carried no token value.",
            )),
        }
    }

    /// Not paginated; `name` and `scope` filter on the server.
    pub async fn permission_groups(
        &self,
        account: &str,
        name: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Vec<PermissionGroup>, ApiError> {
        let mut query = Vec::new();
        if let Some(name) = name {
            query.push(("name", name.to_string()));
        }
        if let Some(scope) = scope {
            query.push(("scope", scope.to_string()));
        }
        let path = format!("{}/permission_groups", tokens_path(account));
        self.get(&path, &query).await.map(|p| p.result)
    }

    /// Verifies the credentials this client uses (an account-owned token).
    pub async fn verify_token(&self, account: &str) -> Result<TokenVerification, ApiError> {
        self.get(&format!("{}/verify", tokens_path(account)), &[])
            .await
            .map(|p| p.result)
    }
}
