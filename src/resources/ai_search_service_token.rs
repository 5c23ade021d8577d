//! `cfai_ai_search_service_token`: the API token AI Search uses to read R2,
//! registered at `/accounts/{account_id}/ai-search/tokens`.
//! Managed mode (no `cf_api_id`) mints that token; bring-your-own mode
//! takes `cf_api_id` and its key, preferably write-only.

use std::time::Duration;

use async_trait::async_trait;

use super::common::{capture, import_id, plan_account, state_account, ACCOUNT_ID};
use super::service_token_ops::{
    mint, minted_name, minted_request, register, still_in_use, unregister, DEFAULT_GROUPS,
};
use crate::cloudflare::models::{AiSearchToken, AiSearchTokenRequest};
use crate::cloudflare::ErrorKind;
use crate::context::{api_error, Configured};
use crate::cty::{Type, Value};
use crate::framework::{
    mapping, timeouts, AttrPath, Attribute, Diagnostics, PlanChange, Private, Resource, Schema,
    Validator,
};
use crate::secret::Secret;

pub struct AiSearchServiceToken;

const CREATE_TIMEOUT: Duration = Duration::from_secs(120);
const DELETE_TIMEOUT: Duration = Duration::from_secs(300);
/// Private-state flag: imported, so whether it is managed is still to learn.
const IMPORTED: &str = "imported";
/// Private state: the imported cf_api_id whose minter could not be told
/// (the answer left out the token's name). If the configuration then asks
/// for managed mode, that token is taken as the minted one, not a second
/// token minted beside it.
const MINTER_UNKNOWN: &str = "minter_unknown";
/// Attributes that are ours, not fields of the registration.
const NOT_FROM_API: &[&str] = &[
    "account_id",
    "cf_api_key_wo",
    "cf_api_key_wo_version",
    "cf_api_key",
    "permission_groups",
];

#[async_trait]
impl Resource<Configured> for AiSearchServiceToken {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_service_token"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("The service API token AI Search uses to read R2 buckets, registered with AI Search. Without `cf_api_id` the provider mints and manages the token (managed mode).")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(ACCOUNT_ID)
                    .describe("The owning account (32 hex). Defaults to the provider's; a change replaces the registration."),
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .validate(Validator::Length { min: 1, max: 120 })
                    .describe("The registration's name. Updated in place (the key is sent again: in managed mode the minted token is rolled for it)."),
            )
            .attribute(
                Attribute::string("cf_api_id")
                    .optional()
                    .computed()
                    .validate(Validator::Regex("^[0-9a-fA-F]{32}$", "an API token id: 32 hexadecimal characters"))
                    .describe("Id of the API token to register (bring-your-own mode, e.g. `cfai_account_api_token.x.id`). Unset: the provider mints one (managed mode) and this shows its id."),
            )
            .attribute(
                Attribute::string("cf_api_key_wo")
                    .optional()
                    .write_only()
                    .sensitive()
                    .validate(Validator::NeedsWriteOnlyClient("cf_api_key"))
                    .validate(Validator::ConflictsWith(&["cf_api_key"]))
                    .describe("The value of the `cf_api_id` token. Write-only: sent, never stored (Terraform >= 1.11). Change `cf_api_key_wo_version` to send a new value."),
            )
            .attribute(
                Attribute::number("cf_api_key_wo_version")
                    .optional()
                    .describe("Any change re-sends `cf_api_key_wo` (in place)."),
            )
            .attribute(
                Attribute::string("cf_api_key")
                    .optional()
                    .sensitive()
                    .validate(Validator::ConflictsWith(&["cf_api_key_wo"]))
                    .describe("The value of the `cf_api_id` token, for clients without write-only support. Stored in the state (sensitive); prefer `cf_api_key_wo`."),
            )
            .attribute(
                Attribute::new("permission_groups", Type::set(Type::String))
                    .optional()
                    .computed()
                    .validate(Validator::Length { min: 1, max: usize::MAX })
                    .describe("Managed mode: the minted token's permission groups (names or ids), on the whole account. Default [\"AI Search Index Engine\", \"Workers R2 Storage Write\"]. Updated in place."),
            )
            .attribute(
                Attribute::bool("legacy")
                    .optional()
                    .computed()
                    .default(false)
                    .describe("Cloudflare's legacy registration flag; default false, sent explicitly (legacy registrations cannot be read or deleted by id)."),
            )
            .attribute(Attribute::string("id").computed().describe("The registration's id: pass it to `cfai_ai_search_instance.token_id`."))
            .attribute(Attribute::bool("enabled").computed().describe("Whether AI Search may use the token."))
            .attribute(Attribute::string("created_at").computed().describe("When the token was registered."))
            .attribute(Attribute::string("modified_at").computed().unknown_on_change().describe("When the registration last changed."))
            .block(timeouts::block(&[("create", "2m"), ("delete", "5m")]))
    }

    // ---------------------------------------------------------------- validate

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (id, wo, key) = (
            config.get("cf_api_id"),
            config.get("cf_api_key_wo"),
            config.get("cf_api_key"),
        );
        if !id.is_null() && !id.is_unknown() && wo.is_null() && key.is_null() {
            diags.error_at(
                AttrPath::root("cf_api_key_wo"),
                "Missing token value",
                "With cf_api_id (bring-your-own mode), give the token's value in cf_api_key_wo (write-only) or cf_api_key.",
            );
        }
        if id.is_null() {
            for field in ["cf_api_key_wo", "cf_api_key"] {
                let value = config.get(field);
                if !value.is_null() && !value.is_unknown() {
                    diags.error_at(
                        AttrPath::root(field),
                        "A token value without cf_api_id",
                        format!("{field} is the value of the cf_api_id token: set cf_api_id too, or remove {field} to let the provider mint the token (managed mode)."),
                    );
                }
            }
        } else if !id.is_unknown()
            && !matches!(
                config.get("permission_groups"),
                Value::Null | Value::Unknown
            )
        {
            diags.error_at(
                AttrPath::root("permission_groups"),
                "permission_groups is for managed mode",
                "The provider mints a token with these groups only when cf_api_id is not set; a bring-your-own token keeps its own policies.",
            );
        }
    }

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, diags);
        match change.config.get("cf_api_id") {
            Value::Null => {}
            Value::Unknown => {
                // The mode is decided at apply.
                if change.config.get("permission_groups").is_null() {
                    change.set("permission_groups", Value::Unknown);
                }
                return;
            }
            _ => {
                // No minted token, so no groups (a configured value is an
                // error validation reports once it is known).
                if change.config.get("permission_groups").is_null() {
                    change.set("permission_groups", Value::Null);
                }
                return;
            }
        }
        if change.config.get("permission_groups").is_null() {
            change.set("permission_groups", Value::string_set(DEFAULT_GROUPS));
        }
        if !change.is_create()
            && change.prior.get("permission_groups").is_null()
            && !minter_unknown(&change.private, change.prior.get("cf_api_id"))
        {
            // Leaving bring-your-own mode: a token is minted for it.
            change.set("cf_api_id", Value::Unknown);
        }
    }

    // ------------------------------------------------------------------ create

    async fn create(
        &self,
        data: &Configured,
        planned: &Value,
        config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = capture(diags, data.client())?;
        let account = planned.get("account_id").as_str()?.to_string();
        let name = planned.get("name").as_str()?.to_string();
        let within = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let legacy = planned.get("legacy").as_bool();
        let (cf_api_id, key, minted) = if planned.get("permission_groups").is_null() {
            let key = capture(diags, given_key(config))?;
            (planned.get("cf_api_id").as_str()?.to_string(), key, false)
        } else {
            let request = minted_request(
                data,
                &account,
                &name,
                planned.get("permission_groups"),
                diags,
            )
            .await?;
            let (token, value) = mint(client, &account, &request, diags).await?;
            (token.id, value, true)
        };
        let request = AiSearchTokenRequest {
            name,
            cf_api_id: cf_api_id.clone(),
            cf_api_key: key,
            legacy,
        };
        match register(client, &account, None, &request, within).await {
            Ok(registered) => self.state(planned, &registered, diags),
            Err(e) => {
                if minted {
                    // Nothing orphaned: the token minted for it goes too,
                    // even if Terraform has asked to stop meanwhile.
                    if let Err(d) = client.detached().delete_token(&account, &cf_api_id).await {
                        diags.push(api_error(
                            "Could not delete the token minted for the failed registration",
                            &d,
                        ));
                    }
                }
                diags.push(api_error("Could not register the token with AI Search", &e));
                None
            }
        }
    }

    // -------------------------------------------------------------------- read

    async fn read(
        &self,
        data: &Configured,
        state: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = capture(diags, data.client())?;
        let account = state_account(data, state, diags)?;
        let id = state.get("id").as_str()?.to_string();
        let registered = match data.read_ai_search_token(&account, &id).await {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                return capture(
                    diags,
                    Err(api_error("Could not read the AI Search service token", &e)),
                )
            }
        };
        let mut current = state.clone();
        current.set("account_id", Value::string(&account));
        let mut new_state = self.state(&current, &registered, diags)?;
        if private.remove(IMPORTED).is_some() {
            // Minted by this provider? Then it is managed, with its groups.
            // A token this account does not have is the user's own; a read
            // that fails (after the client's retries) fails the import
            // rather than guess: guessing "your own" for a minted token
            // would have the next apply mint a second one beside it.
            let found = match client.get_token(&account, &registered.cf_api_id).await {
                Ok(token) => Some(token),
                Err(e) if e.is_not_found() => None,
                Err(e) => {
                    diags.push(api_error(
                        "Could not tell whether this provider minted the service token's API token",
                        &e,
                    ));
                    diags.error(
                        "Import not completed",
                        format!("Whether cf_api_id {} was minted by this provider (managed mode) or is your own decides how it is managed; nothing was imported. Run the import again.", registered.cf_api_id),
                    );
                    return None;
                }
            };
            if let Some(token) = found {
                let minted_as = minted_name(&registered.name);
                if token.name.is_none() {
                    private.insert(MINTER_UNKNOWN.into(), registered.cf_api_id.clone().into());
                    diags.warning(
                        "Imported without knowing who minted its API token",
                        format!(
                            "GET /accounts/{account}/tokens/{} answered without the token's name, by which this provider recognises a token it minted ({minted_as:?}). The registration is imported with cf_api_id as your own token. If your configuration leaves cf_api_id unset (managed mode), the next apply takes {} as the minted token (its permission groups set, its value rolled) rather than minting a second one.",
                            registered.cf_api_id, registered.cf_api_id
                        ),
                    );
                }
                let minted = token.name.as_deref() == Some(minted_as.as_str());
                if let (true, Some(policies)) = (minted, token.policies) {
                    let catalog = data.permission_groups(&account).await.ok();
                    let names = policies.iter().flat_map(|p| &p.permission_groups).map(|g| {
                        catalog
                            .as_deref()
                            .and_then(|c| c.iter().find(|c| c.id == g.id))
                            .map_or(g.id.clone(), |c| c.name.clone())
                    });
                    new_state.set("permission_groups", Value::string_set(names));
                }
            }
        }
        Some(new_state)
    }

    // ------------------------------------------------------------------ update

    async fn update(
        &self,
        data: &Configured,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = capture(diags, data.client())?;
        let account = planned.get("account_id").as_str()?.to_string();
        let name = planned.get("name").as_str()?.to_string();
        let id = prior.get("id").as_str()?.to_string();
        let legacy = planned.get("legacy").as_bool();
        let changed = |f: &str| planned.get(f) != prior.get(f);
        let managed = !planned.get("permission_groups").is_null();
        // An imported token whose minter was unknown counts as minted once
        // the configuration asks for managed mode (and only then: as your
        // own it is never deleted).
        let adopted = managed && minter_unknown(private, prior.get("cf_api_id"));
        private.remove(MINTER_UNKNOWN);
        let was_managed = !prior.get("permission_groups").is_null() || adopted;
        let resend = [
            "name",
            "cf_api_id",
            "cf_api_key_wo_version",
            "cf_api_key",
            "legacy",
        ]
        .iter()
        .any(|f| changed(f))
            || managed != was_managed;
        let mut state = planned.clone();
        let mut newly_minted = None;
        let (cf_api_id, key) = if managed && was_managed {
            let token_id = prior.get("cf_api_id").as_str()?.to_string();
            if changed("permission_groups") || changed("name") {
                let request = minted_request(
                    data,
                    &account,
                    &name,
                    planned.get("permission_groups"),
                    diags,
                )
                .await?;
                if let Err(e) = client.update_token(&account, &token_id, &request).await {
                    return capture(
                        diags,
                        Err(api_error("Could not update the minted API token", &e)),
                    );
                }
            }
            if !resend {
                return Some(self.unchanged(prior, state));
            }
            match client.roll_token(&account, &token_id).await {
                Ok(value) => (token_id, value),
                Err(e) => {
                    return capture(
                        diags,
                        Err(api_error(
                            "Could not roll the minted API token for its new value",
                            &e,
                        )),
                    )
                }
            }
        } else if managed {
            let request = minted_request(
                data,
                &account,
                &name,
                planned.get("permission_groups"),
                diags,
            )
            .await?;
            let (token, value) = mint(client, &account, &request, diags).await?;
            newly_minted = Some(token.id.clone());
            (token.id, value)
        } else {
            if !resend {
                return Some(self.unchanged(prior, state));
            }
            let key = capture(diags, given_key(config))?;
            (planned.get("cf_api_id").as_str()?.to_string(), key)
        };
        let request = AiSearchTokenRequest {
            name,
            cf_api_id,
            cf_api_key: key,
            legacy,
        };
        let within = timeouts::get(planned, "create", CREATE_TIMEOUT);
        match register(client, &account, Some(&id), &request, within).await {
            Ok(registered) => {
                let answered = self.state(&state, &registered, diags)?;
                state = answered;
                mapping::keep_planned_computed(
                    &self.known_schema().attributes,
                    planned,
                    &mut state,
                );
            }
            Err(e) => {
                if let Some(minted) = newly_minted {
                    // Not registered: the token minted for it goes again.
                    if let Err(d) = client.detached().delete_token(&account, &minted).await {
                        diags.push(api_error(
                            &format!("Could not delete API token {minted}, minted for the failed registration: delete it in the Cloudflare dashboard"),
                            &d,
                        ));
                    }
                }
                return capture(
                    diags,
                    Err(api_error(
                        "Could not update the AI Search service token",
                        &e,
                    )),
                );
            }
        }
        if was_managed && !managed {
            // The minted token is no longer used by anything we manage.
            if let Some(old) = prior.get("cf_api_id").as_str() {
                if let Err(e) = client.detached().delete_token(&account, old).await {
                    if !e.is_not_found() {
                        diags.push(api_error("Could not delete the token minted earlier", &e));
                    }
                }
            }
        }
        Some(state)
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(client) = capture(diags, data.client()) else {
            return;
        };
        let (Some(account), Some(id)) =
            (state.get("account_id").as_str(), state.get("id").as_str())
        else {
            return;
        };
        let within = timeouts::get(state, "delete", DELETE_TIMEOUT);
        match unregister(client, account, id, within).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Conflict => {
                diags.push(still_in_use(client, account, id, &e).await);
                return;
            }
            Err(e) => {
                diags.push(api_error(
                    "Could not delete the AI Search service token",
                    &e,
                ));
                return;
            }
        }
        if state.get("permission_groups").is_null() {
            return;
        }
        if let Some(token) = state.get("cf_api_id").as_str() {
            // The registration is gone: its minted token goes too, even if
            // Terraform has asked to stop meanwhile, or nothing would ever
            // delete it.
            match client.detached().delete_token(account, token).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => diags.push(api_error(
                    &format!("The registration was deleted, but not API token {token} minted for it: delete it in the Cloudflare dashboard"),
                    &e,
                )),
            }
        }
    }

    // ------------------------------------------------------------------ import

    async fn import(
        &self,
        data: &Configured,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<(Value, Private)> {
        let (account, parts) = import_id(
            data,
            id,
            1,
            0,
            "<account_id>/<id> or <id> (the registration's id)",
            diags,
        )?;
        let mut state = self.known_schema().empty_value();
        state.set("account_id", Value::string(account));
        state.set("id", Value::string(&parts[0]));
        let mut private = Private::new();
        private.insert(IMPORTED.into(), true.into());
        Some((state, private))
    }
}

impl AiSearchServiceToken {
    /// The schema, built once: reads, plans and mappings consult it for
    /// every object, and building it allocates every attribute.
    fn known_schema(&self) -> &'static Schema {
        static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| Resource::<Configured>::schema(&AiSearchServiceToken))
    }

    /// `base` updated with what the API says of the registration.
    fn state(
        &self,
        base: &Value,
        registered: &AiSearchToken,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut state = base.clone();
        let json = serde_json::to_value(registered).unwrap_or_default();
        match mapping::update_from_api(
            &self.known_schema().attributes,
            &mut state,
            &json,
            NOT_FROM_API,
        ) {
            Ok(()) => {
                // What the plan left to the API and the answer did not say
                // is null: computed attributes hold only what the API returns.
                state.unknowns_to_null();
                Some(state)
            }
            Err(e) => {
                diags.error(
                    "Unexpected service token from the API",
                    format!("The registration could not be read: {e}."),
                );
                None
            }
        }
    }

    /// Nothing was sent: what the registration was stays.
    fn unchanged(&self, prior: &Value, mut state: Value) -> Value {
        state.set("modified_at", prior.get("modified_at").clone());
        state
    }
}

fn minter_unknown(private: &Private, cf_api_id: &Value) -> bool {
    let flagged = private.get(MINTER_UNKNOWN).and_then(|v| v.as_str());
    flagged.is_some() && flagged == cf_api_id.as_str()
}

/// The bring-your-own key, from the configuration (write-only values are
/// only there, never in the plan).
fn given_key(config: &Value) -> Result<Secret, crate::framework::Diagnostic> {
    config
        .get("cf_api_key_wo")
        .as_str()
        .or_else(|| config.get("cf_api_key").as_str())
        .map(Secret::new)
        .ok_or_else(|| {
            crate::framework::Diagnostic::error(
                "Missing token value",
                "Sending the registration needs the token's value: set cf_api_key_wo (and bump cf_api_key_wo_version) or cf_api_key.",
            )
            .at(AttrPath::root("cf_api_key_wo"))
        })
}
