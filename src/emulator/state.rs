//! The emulator's in-memory world, saved to `--state-file` when given.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A catalog entry as the API shows it. The emulator keeps its own wire
/// types so that a serde mistake in the client cannot be mirrored here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PermissionGroup {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredToken {
    /// The token as the API shows it (no value).
    pub token: Value,
    pub value: String,
    /// The owning account (empty for a user's token).
    pub account: String,
    /// The owning user, for a token made through `/user/tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// Whose tokens a route manages: an account's, or the calling user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    Account(String),
    User(String),
}

impl StoredToken {
    pub fn owned_by(&self, owner: &Owner) -> bool {
        match owner {
            Owner::Account(account) => self.user.is_none() && self.account == *account,
            Owner::User(user) => self.user.as_deref() == Some(user.as_str()),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct World {
    pub tokens: BTreeMap<String, StoredToken>,
    pub ai_tokens: BTreeMap<String, Value>,
    pub namespaces: BTreeMap<String, Value>,
    /// namespace → instance id → instance
    pub instances: BTreeMap<String, BTreeMap<String, Value>>,
    /// R2 temporary credentials issued (scope, parent, expiry; no secrets).
    #[serde(default)]
    pub temp_credentials: Vec<Value>,
}

pub(crate) fn catalog() -> Vec<PermissionGroup> {
    // Shipped inside the binary: the emulator needs no file beside it.
    serde_json::from_str(include_str!("permission-groups.json")).unwrap_or_default()
}

impl World {
    pub(crate) fn load(path: &std::path::Path) -> std::io::Result<World> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(World::default()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(tmp, path)
    }

    /// Which instances (in any namespace) use an AI Search token.
    pub(crate) fn instances_using(&self, token_id: &str) -> Vec<String> {
        self.instances
            .iter()
            .flat_map(|(ns, items)| {
                items
                    .values()
                    .filter(|i| i.get("token_id").and_then(Value::as_str) == Some(token_id))
                    .map(move |i| {
                        format!(
                            "{ns}/{}",
                            i.get("id").and_then(Value::as_str).unwrap_or_default()
                        )
                    })
            })
            .collect()
    }
}
