//! API tokens, owned by an account (`/accounts/{account_id}/tokens`) or by
//! the user the client authenticates as (`/user/tokens`): the same
//! operations, answers and rules, under two prefixes.

use std::future::Future;

use reqwest::Method;
use serde_json::json;

use super::models::{PermissionGroup, Token, TokenRequest, TokenVerification};
use super::{segment, ApiError, Client, ErrorKind};
use crate::secret::Secret;

/// Who owns the tokens an operation concerns. An account id converts into
/// `Account`, so account calls read as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner<'a> {
    Account(&'a str),
    /// The user the credentials belong to.
    User,
}

impl<'a> From<&'a str> for TokenOwner<'a> {
    fn from(account: &'a str) -> Self {
        TokenOwner::Account(account)
    }
}

impl<'a> From<&'a String> for TokenOwner<'a> {
    fn from(account: &'a String) -> Self {
        TokenOwner::Account(account)
    }
}

fn tokens_path(owner: TokenOwner) -> String {
    match owner {
        TokenOwner::Account(account) => format!("/accounts/{}/tokens", segment(account)),
        TokenOwner::User => "/user/tokens".to_string(),
    }
}

fn body<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Each operation is a thin generic entry (an account id or a
/// [`TokenOwner`]) over one owner-taking implementation, so that the
/// generic part stays a line and the request code exists once.
impl Client {
    /// The owner's tokens a page at a time (see [`super::Pages`]).
    pub fn token_pages<'a>(&'a self, owner: TokenOwner<'_>) -> super::Pages<'a, Token> {
        super::Pages::new(self, tokens_path(owner), 50)
    }

    pub fn list_tokens<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
    ) -> impl Future<Output = Result<Vec<Token>, ApiError>> + 'a {
        self.list_tokens_of(owner.into())
    }

    async fn list_tokens_of(&self, owner: TokenOwner<'_>) -> Result<Vec<Token>, ApiError> {
        self.list_all(&tokens_path(owner), 50, &[]).await
    }

    /// The only response, with roll's, that carries the token's value; the
    /// token returned always has one. Should the answer leave it out, the
    /// new token is rolled (the one other way to learn a value); should that
    /// fail too, the token is deleted, since nobody could ever use it, and
    /// the error says what became of it.
    pub fn create_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        request: &'a TokenRequest,
    ) -> impl Future<Output = Result<Token, ApiError>> + 'a {
        self.create_token_of(owner.into(), request)
    }

    async fn create_token_of(
        &self,
        owner: TokenOwner<'_>,
        request: &TokenRequest,
    ) -> Result<Token, ApiError> {
        let path = tokens_path(owner);
        let mut token: Token = self.send(Method::POST, &path, &body(request)).await?;
        if token.value.is_some() {
            return Ok(token);
        }
        // Made: what follows must not be cut short by a stop.
        let this = self.detached();
        let rolled = this.roll_token_of(owner, &token.id).await;
        let roll_error = match rolled {
            Ok(value) => {
                token.value = Some(value);
                return Ok(token);
            }
            Err(e) => e,
        };
        let fate = match this.delete_token_of(owner, &token.id).await {
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

    pub fn get_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        id: &'a str,
    ) -> impl Future<Output = Result<Token, ApiError>> + 'a {
        self.get_token_of(owner.into(), id)
    }

    async fn get_token_of(&self, owner: TokenOwner<'_>, id: &str) -> Result<Token, ApiError> {
        let path = format!("{}/{}", tokens_path(owner), segment(id));
        self.get(&path, &[]).await.map(|p| p.result)
    }

    pub fn update_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        id: &'a str,
        request: &'a TokenRequest,
    ) -> impl Future<Output = Result<Token, ApiError>> + 'a {
        self.update_token_of(owner.into(), id, request)
    }

    async fn update_token_of(
        &self,
        owner: TokenOwner<'_>,
        id: &str,
        request: &TokenRequest,
    ) -> Result<Token, ApiError> {
        let path = format!("{}/{}", tokens_path(owner), segment(id));
        self.send(Method::PUT, &path, &body(request)).await
    }

    pub fn delete_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        id: &'a str,
    ) -> impl Future<Output = Result<(), ApiError>> + 'a {
        self.delete_token_of(owner.into(), id)
    }

    async fn delete_token_of(&self, owner: TokenOwner<'_>, id: &str) -> Result<(), ApiError> {
        self.delete(&format!("{}/{}", tokens_path(owner), segment(id)))
            .await
    }

    /// New value, same id; the old value stops working.
    pub fn roll_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        id: &'a str,
    ) -> impl Future<Output = Result<Secret, ApiError>> + 'a {
        self.roll_token_of(owner.into(), id)
    }

    async fn roll_token_of(&self, owner: TokenOwner<'_>, id: &str) -> Result<Secret, ApiError> {
        let path = format!("{}/{}/value", tokens_path(owner), segment(id));
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
    pub fn permission_groups<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
        name: Option<&'a str>,
        scope: Option<&'a str>,
    ) -> impl Future<Output = Result<Vec<PermissionGroup>, ApiError>> + 'a {
        self.permission_groups_of(owner.into(), name, scope)
    }

    async fn permission_groups_of(
        &self,
        owner: TokenOwner<'_>,
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
        let path = format!("{}/permission_groups", tokens_path(owner));
        self.get(&path, &query).await.map(|p| p.result)
    }

    /// Verifies the credentials this client uses, a token of `owner`
    /// (Cloudflare verifies account tokens on the account's route only).
    pub fn verify_token<'a>(
        &'a self,
        owner: impl Into<TokenOwner<'a>>,
    ) -> impl Future<Output = Result<TokenVerification, ApiError>> + 'a {
        self.verify_token_of(owner.into())
    }

    async fn verify_token_of(&self, owner: TokenOwner<'_>) -> Result<TokenVerification, ApiError> {
        self.get(&format!("{}/verify", tokens_path(owner)), &[])
            .await
            .map(|p| p.result)
    }
}
