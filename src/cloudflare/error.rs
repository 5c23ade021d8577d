//! Typed API errors that keep the HTTP status and every Cloudflare code and
//! message, and never carry a secret.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One entry of the envelope's `errors` or `messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfMessage {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    RateLimited,
    /// 401/403: bad or insufficient credentials.
    Auth,
    /// 400/422: the request was refused as invalid.
    Validation,
    /// 5xx and other unexpected statuses.
    Server,
    /// Nothing usable came back: connect failure, dropped connection.
    Transport,
    /// No answer within the request timeout.
    Timeout,
    /// The caller stopped (Terraform's StopProvider) before the request was
    /// sent, while a read was in flight, or while waiting to retry.
    Cancelled,
    /// A response that is not the Cloudflare envelope (an HTML 502 page…).
    Malformed,
    /// No credentials were configured.
    MissingCredentials,
}

#[derive(Debug, Clone, thiserror::Error)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub errors: Vec<CfMessage>,
    pub method: String,
    /// The path without the base URL or query (ids are not secret).
    pub path: String,
    pub attempts: u32,
    pub detail: String,
    /// Whether a write may have taken effect although it failed: its answer
    /// was lost or unreadable, or the server failed after receiving it. A
    /// refusal (4xx) or a request never sent did not.
    pub maybe_applied: bool,
}

impl ApiError {
    pub(crate) fn new(
        kind: ErrorKind,
        method: &str,
        path: &str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            kind,
            status: None,
            errors: Vec::new(),
            method: method.to_string(),
            path: path.to_string(),
            attempts: 1,
            detail: detail.into(),
            maybe_applied: false,
        }
    }

    pub(crate) fn from_status(
        status: u16,
        errors: Vec<CfMessage>,
        method: &str,
        path: &str,
    ) -> Self {
        let kind = match status {
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            401 | 403 => ErrorKind::Auth,
            400 | 422 => ErrorKind::Validation,
            _ => ErrorKind::Server,
        };
        ApiError {
            kind,
            status: Some(status),
            errors,
            method: method.into(),
            path: path.into(),
            attempts: 1,
            detail: String::new(),
            // A server error may come after the change was made.
            maybe_applied: status >= 500,
        }
    }

    pub(crate) fn maybe_applied(mut self) -> Self {
        self.maybe_applied = true;
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// `Cloudflare API error 9109: Cannot use …` lines, one per entry.
    pub fn cloudflare_messages(&self) -> String {
        self.errors
            .iter()
            .map(|e| format!("Cloudflare API error {}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Auth => "authentication or permission error",
            ErrorKind::Validation => "request rejected",
            ErrorKind::Server => "server error",
            ErrorKind::Transport => "request failed",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Malformed => "unexpected response",
            ErrorKind::MissingCredentials => "no credentials",
        };
        write!(f, "{} {}: {what}", self.method, self.path)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if !self.errors.is_empty() {
            write!(f, "\n{}", self.cloudflare_messages())?;
        }
        if !self.detail.is_empty() {
            write!(f, "\n{}", self.detail)?;
        }
        Ok(())
    }
}
