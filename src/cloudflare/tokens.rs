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

    /// The only response, with roll's, that carries the token's value; the
    /// token returned always has one. Should the answer leave it out, the
    /// new token is rolled (the one other way to learn a value); should that
    /// fail too, the token is deleted, since nobody could ever use it, and
    /// the error says what became of it.
    pub async fn create_token(
        &self,
        account: &str,
        request: &TokenRequest,
    ) -> Result<Token, ApiError> {
        let path = tokens_path(account);
        let mut token: Token = self.send(Method::POST, &path, &body(request)).await?;
        if token.value.is_some() {
            return Ok(token);
        }
        // Made: what follows must not be cut short by a stop.
        let this = self.detached();
        let rolled = this.roll_token(account, &token.id).await;
        let roll_error = match rolled {
            Ok(value) => {
                token.value = Some(value);
                return Ok(token);
            }
            Err(e) => e,
        };
        let fate = match this.delete_token(account, &token.id).await {
            Ok(()) => "it was deleted, so nothing is left behind".to_string(),
            Err(e) => format!(
                "deleting it failed too ({e}): delete token {} in the Cloudflare dashboard",
                token.id
            ),
        };
        Err(ApiError::new(
            ErrorKind::Malformed,
            "POST",
            &path,
            format!(
                "The answer's result has no `value`, which this provider cannot do without. Rolling the new token {} to obtain one failed ({roll_error}); {fate}.",
                token.id
            ),
        ))
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
                "The answer has no `result` (the rolled token's new value), which this provider cannot do without.",
            ).maybe_applied()),
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
