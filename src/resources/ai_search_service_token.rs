//! `cfai_ai_search_service_token`: the API token AI Search uses to read R2,
//! registered at `/accounts/{account_id}/ai-search/tokens`.
//! Managed mode (no `cf_api_id`) mints that token, owned by the account or
//! (`token_owner = "user"`) by the user the provider authenticates as;
//! bring-your-own mode takes `cf_api_id` and its key, preferably
//! write-only.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{
    cached_schema, capture, capture_model, failed, from_answer, import_id, plan_account, session,
    to_state, ACCOUNT_ID,
};
use super::listing::{self, send_pages, Filter};
use super::service_token_ops::{
    mint, minted_name, minted_request, register, still_in_use, unregister, DEFAULT_GROUPS,
};
use crate::cloudflare::models::{AiSearchToken, AiSearchTokenRequest};
use crate::cloudflare::tokens::TokenOwner;
use crate::cloudflare::ErrorKind;
use crate::context::{api_error, Configured};
use crate::cty::{Number, Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::timeouts::{self, Timeouts};
use crate::framework::{
    mapping, AttrPath, Attribute, Diagnostics, IdentityAttribute, IdentitySchema, ListSink,
    PlanChange, Private, Resource, Schema, Sent, Validator,
};
use crate::secret::Secret;

pub struct AiSearchServiceToken;

cached_schema!(AiSearchServiceToken, Resource);

/// The configuration, plan and state alike: every attribute (and every
/// group) may be null or, in a configuration or plan, unknown.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTokenModel {
    account_id: Attr<String>,
    name: Attr<String>,
    cf_api_id: Attr<String>,
    cf_api_key_wo: Attr<Secret>,
    cf_api_key_wo_version: Attr<Number>,
    cf_api_key: Attr<Secret>,
    permission_groups: Attr<Vec<Attr<String>>>,
    token_owner: Attr<String>,
    legacy: Attr<bool>,
    id: Attr<String>,
    enabled: Attr<bool>,
    created_at: Attr<String>,
    modified_at: Attr<String>,
    timeouts: Attr<Timeouts>,
}

/// What a plan reads and writes: the mode and what follows from it.
#[derive(Serialize, Deserialize)]
struct ModePart {
    cf_api_id: Attr<String>,
    permission_groups: Attr<Vec<Attr<String>>>,
    token_owner: Attr<String>,
}

/// The owners a minted token may have.
const ACCOUNT_OWNER: &str = "account";
const USER_OWNER: &str = "user";

impl ServiceTokenModel {
    /// Managed mode: the provider mints the token (it has groups).
    fn managed(&self) -> bool {
        !self.permission_groups.is_null()
    }

    /// Whether the configuration gives the token's value (or will).
    fn has_key(&self) -> bool {
        !self.cf_api_key_wo.is_null() || !self.cf_api_key.is_null()
    }

    /// The known groups (names or ids).
    fn groups(&self) -> Vec<Option<String>> {
        let groups = self.permission_groups.known().map_or(&[][..], |g| g);
        groups.iter().map(|g| g.known().cloned()).collect()
    }

    /// The owner of the minted token, in `account`. States written before
    /// there was a choice have none: their tokens are the account's.
    fn owner<'a>(&self, account: &'a str) -> TokenOwner<'a> {
        match self.token_owner.as_str() {
            Some(USER_OWNER) => TokenOwner::User,
            _ => TokenOwner::Account(account),
        }
    }

    /// The groups as the set they are (order says nothing).
    fn group_set(&self) -> Attr<BTreeSet<Option<String>>> {
        match &self.permission_groups {
            Attr::Known(_) => Attr::Known(self.groups().into_iter().collect()),
            Attr::Unknown => Attr::Unknown,
            Attr::Null => Attr::Null,
        }
    }
}

const CREATE_TIMEOUT: Duration = Duration::from_secs(120);
const DELETE_TIMEOUT: Duration = Duration::from_secs(300);
/// Private-state flag: imported, so whether it is managed is still to learn.
const IMPORTED: &str = "imported";
/// Private state: the imported cf_api_id whose minter could not be told
/// (the answer left out the token's name). If the configuration then asks
/// for managed mode, that token is taken as the minted one, not a second
/// token minted beside it.
const MINTER_UNKNOWN: &str = "minter_unknown";
/// Private state, beside [`MINTER_UNKNOWN`]: that token's owner (`account`
/// or `user`), which the lookup did learn. Absent, it is the account's.
const MINTER_UNKNOWN_OWNER: &str = "minter_unknown_owner";
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
                    .api(Sent::Always)
                    .describe("The registration's name. Updated in place (the key is sent again: in managed mode the minted token is rolled for it)."),
            )
            .attribute(
                Attribute::string("cf_api_id")
                    .optional()
                    .computed()
                    .validate(Validator::Regex("^[0-9a-fA-F]{32}$", "an API token id: 32 hexadecimal characters"))
                    .api(Sent::Always)
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
                Attribute::string("token_owner")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&[ACCOUNT_OWNER, USER_OWNER]))
                    .describe("Managed mode: who owns the minted token. `account` (default) mints it with POST /accounts/{account_id}/tokens; `user` with POST /user/tokens, for credentials that may only create user tokens. A change replaces the registration. Null in bring-your-own mode."),
            )
            .attribute(
                Attribute::bool("legacy")
                    .optional()
                    .computed()
                    .default(false)
                    .api(Sent::Always)
                    .describe("Cloudflare's legacy registration flag; default false, sent explicitly (legacy registrations cannot be read or deleted by id)."),
            )
            .attribute(Attribute::string("id").computed().api(Sent::Never).describe("The registration's id: pass it to `cfai_ai_search_instance.token_id`."))
            .attribute(Attribute::bool("enabled").computed().api(Sent::Never).describe("Whether AI Search may use the token."))
            .attribute(Attribute::string("created_at").computed().api(Sent::Never).describe("When the token was registered."))
            .attribute(Attribute::string("modified_at").computed().unknown_on_change().api(Sent::Never).describe("When the registration last changed."))
            .block(timeouts::block(&[("create", "2m"), ("delete", "5m")]))
    }

    fn identity(&self) -> IdentitySchema {
        IdentitySchema::new(vec![
            IdentityAttribute::optional(
                "account_id",
                "The owning account; the provider's when left out.",
            ),
            IdentityAttribute::required("id", "The registration's id."),
        ])
    }

    // ---------------------------------------------------------------- validate

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let Some(config) = capture_model::<ServiceTokenModel>(config, diags) else {
            return;
        };
        let id = &config.cf_api_id;
        // A missing key is judged at plan: an imported registration is
        // valid without it until an update has to send it.
        if id.is_null() {
            let keys = [
                ("cf_api_key_wo", &config.cf_api_key_wo),
                ("cf_api_key", &config.cf_api_key),
            ];
            for (field, value) in keys {
                if value.known().is_some() {
                    diags.error_at(
                        AttrPath::root(field),
                        "A token value without cf_api_id",
                        format!("{field} is the value of the cf_api_id token: set cf_api_id too, or remove {field} to let the provider mint the token (managed mode)."),
                    );
                }
            }
        } else if id.known().is_some() && config.has_key() {
            // Without a key, cf_api_id beside permission_groups may be a
            // managed registration written back from its state (Terraform
            // < 1.14 generates configuration that way): the plan decides.
            bring_your_own_only(&config, diags);
        }
    }

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, self.known_type(), diags);
        let (Some(config), Some(mut planned)) = (
            capture_model::<ModePart>(&change.config, diags),
            capture_model::<ModePart>(&change.planned, diags),
        ) else {
            return;
        };
        let groups_unset = config.permission_groups.is_null();
        let owner_unset = config.token_owner.is_null();
        match config.cf_api_id {
            Attr::Null => {
                if groups_unset {
                    let defaults = DEFAULT_GROUPS.map(|g| Attr::Known(g.to_string()));
                    planned.permission_groups = Attr::Known(defaults.into());
                }
                if owner_unset {
                    planned.token_owner = Attr::Known(ACCOUNT_OWNER.into());
                }
                if !change.is_create() {
                    let Some(mut prior) = capture_model::<ModePart>(&change.prior, diags) else {
                        return;
                    };
                    let adopting = minter_unknown(&change.private, prior.cf_api_id.as_str());
                    if prior.permission_groups.is_null() && !adopting {
                        // Leaving bring-your-own mode: a token is minted for it.
                        planned.cf_api_id = Attr::Unknown;
                    } else {
                        if adopting {
                            prior.token_owner = Attr::Known(adopted_owner(&change.private));
                        }
                        replace_for_owner(change, &prior, &config);
                    }
                }
            }
            // The mode is decided at apply.
            Attr::Unknown => {
                if groups_unset {
                    planned.permission_groups = Attr::Unknown;
                }
                if owner_unset {
                    planned.token_owner = Attr::Unknown;
                }
                if !change.is_create() {
                    let Some(prior) = capture_model::<ModePart>(&change.prior, diags) else {
                        return;
                    };
                    // Should it stay managed, it may be for another owner.
                    if !prior.permission_groups.is_null() {
                        replace_for_owner(change, &prior, &config);
                    }
                }
            }
            // No minted token, so no groups and no owner; unless this is the
            // managed registration's own state written back as configuration.
            Attr::Known(_) => {
                if groups_unset {
                    planned.permission_groups = Attr::Null;
                }
                if owner_unset {
                    planned.token_owner = Attr::Null;
                }
                let Some(full) = capture_model::<ServiceTokenModel>(&change.config, diags) else {
                    return;
                };
                if written_back_managed(change, &full) {
                    if let Some(prior) = capture_model::<ModePart>(&change.prior, diags) {
                        replace_for_owner(change, &prior, &config);
                    }
                } else {
                    bring_your_own_only(&full, diags);
                    key_needed(change, &full, diags);
                }
            }
        }
        capture(
            diags,
            model::put(&planned, &mut change.planned, self.known_type()),
        );
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
        let plan: ServiceTokenModel = capture_model(planned, diags)?;
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        let name = plan.name.as_str().unwrap_or_default().to_string();
        let within = Timeouts::of(&plan.timeouts, "create", CREATE_TIMEOUT);
        let legacy = plan.legacy.known().copied();
        let (cf_api_id, key, minted) = if !plan.managed() {
            let key = capture(diags, given_key(config))?;
            (plan.cf_api_id.as_str()?.to_string(), key, false)
        } else {
            let owner = plan.owner(&account);
            let request =
                minted_request(data, &account, owner, &name, &plan.groups(), diags).await?;
            let (token, value) = mint(client, owner, &request, diags).await?;
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
                    let owner = plan.owner(&account);
                    if let Err(d) = client.detached().delete_token(owner, &cf_api_id).await {
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
        let mut known: ServiceTokenModel = capture_model(state, diags)?;
        let (_, account) = session(data, known.account_id.as_str(), diags)?;
        let id = known.id.as_str()?.to_string();
        let registered = match data.read_ai_search_token(&account, &id).await {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => return failed("Could not read the AI Search service token", &e, diags),
        };
        known.account_id = Attr::Known(account.clone());
        if known.managed() && known.token_owner.is_null() {
            // Written before there was a choice: minted for the account.
            known.token_owner = Attr::Known(ACCOUNT_OWNER.into());
        }
        let current = to_state(&known, self.known_type(), diags)?;
        let new_state = self.state(&current, &registered, diags)?;
        if private.remove(IMPORTED).is_some() {
            // Minted by this provider? Then it is managed, with its groups.
            // A token this account does not have is the user's own; a read
            // that fails (after the client's retries) fails the import
            // rather than guess: guessing "your own" for a minted token
            // would have the next apply mint a second one beside it.
            let found = match find_token(data, &account, &registered.cf_api_id).await {
                Ok(found) => found,
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
            if let Some((token, owner)) = found {
                let minted_as = minted_name(&registered.name);
                if token.name.is_none() {
                    private.insert(MINTER_UNKNOWN.into(), registered.cf_api_id.clone().into());
                    private.insert(MINTER_UNKNOWN_OWNER.into(), owner.into());
                    diags.warning(
                        "Imported without knowing who minted its API token",
                        format!(
                            "Cloudflare answered without the name of token {}, by which this provider recognises a token it minted ({minted_as:?}). The registration is imported with cf_api_id as your own token. If your configuration leaves cf_api_id unset (managed mode), the next apply takes {} as the minted token (its permission groups set, its value rolled) rather than minting a second one.",
                            registered.cf_api_id, registered.cf_api_id
                        ),
                    );
                }
                let minted = token.name.as_deref() == Some(minted_as.as_str());
                if let (true, Some(policies)) = (minted, token.policies) {
                    let owner_api = match owner {
                        USER_OWNER => TokenOwner::User,
                        _ => TokenOwner::Account(&account),
                    };
                    let catalog = data.permission_groups(owner_api).await.ok();
                    let names = policies.iter().flat_map(|p| &p.permission_groups).map(|g| {
                        catalog
                            .as_deref()
                            .and_then(|c| c.iter().find(|c| c.id == g.id))
                            .map_or(g.id.clone(), |c| c.name.clone())
                    });
                    let mut imported: ServiceTokenModel = capture_model(&new_state, diags)?;
                    imported.permission_groups = Attr::Known(names.map(Attr::Known).collect());
                    imported.token_owner = Attr::Known(owner.into());
                    return to_state(&imported, self.known_type(), diags);
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
        let mut before: ServiceTokenModel = capture_model(prior, diags)?;
        let plan: ServiceTokenModel = capture_model(planned, diags)?;
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        let name = plan.name.as_str().unwrap_or_default().to_string();
        let id = before.id.as_str()?.to_string();
        let legacy = plan.legacy.known().copied();
        let managed = plan.managed();
        // An imported token whose minter was unknown counts as minted once
        // the configuration asks for managed mode (and only then: as your
        // own it is never deleted).
        let adopted = managed && minter_unknown(private, before.cf_api_id.as_str());
        if adopted {
            before.token_owner = Attr::Known(adopted_owner(private));
        }
        private.remove(MINTER_UNKNOWN);
        private.remove(MINTER_UNKNOWN_OWNER);
        let was_managed = before.managed() || adopted;
        let resend = plan.name != before.name
            || plan.cf_api_id != before.cf_api_id
            || plan.cf_api_key_wo_version != before.cf_api_key_wo_version
            || plan.cf_api_key != before.cf_api_key
            || plan.legacy != before.legacy
            || managed != was_managed;
        let mut state = planned.clone();
        let mut newly_minted = None;
        let (cf_api_id, key) = if managed && was_managed {
            let token_id = before.cf_api_id.as_str()?.to_string();
            // Replaced, not updated, when the owner changes.
            let owner = before.owner(&account);
            if plan.group_set() != before.group_set() || plan.name != before.name {
                let request =
                    minted_request(data, &account, owner, &name, &plan.groups(), diags).await?;
                if let Err(e) = client.update_token(owner, &token_id, &request).await {
                    return failed("Could not update the minted API token", &e, diags);
                }
            }
            if !resend {
                return self.unchanged(&before, plan, diags);
            }
            match client.roll_token(owner, &token_id).await {
                Ok(value) => (token_id, value),
                Err(e) => {
                    return failed(
                        "Could not roll the minted API token for its new value",
                        &e,
                        diags,
                    )
                }
            }
        } else if managed {
            let owner = plan.owner(&account);
            let request =
                minted_request(data, &account, owner, &name, &plan.groups(), diags).await?;
            let (token, value) = mint(client, owner, &request, diags).await?;
            newly_minted = Some(token.id.clone());
            (token.id, value)
        } else {
            if !resend {
                return self.unchanged(&before, plan, diags);
            }
            let key = capture(diags, given_key(config))?;
            (plan.cf_api_id.as_str()?.to_string(), key)
        };
        let request = AiSearchTokenRequest {
            name,
            cf_api_id,
            cf_api_key: key,
            legacy,
        };
        let within = Timeouts::of(&plan.timeouts, "create", CREATE_TIMEOUT);
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
                    let owner = plan.owner(&account);
                    if let Err(d) = client.detached().delete_token(owner, &minted).await {
                        diags.push(api_error(
                            &format!("Could not delete API token {minted}, minted for the failed registration: delete it in the Cloudflare dashboard"),
                            &d,
                        ));
                    }
                }
                return failed("Could not update the AI Search service token", &e, diags);
            }
        }
        if was_managed && !managed {
            // The minted token is no longer used by anything we manage.
            if let Some(old) = before.cf_api_id.as_str() {
                let owner = before.owner(&account);
                if let Err(e) = client.detached().delete_token(owner, old).await {
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
        let Some(known) = capture_model::<ServiceTokenModel>(state, diags) else {
            return;
        };
        let Some((client, account)) = session(data, known.account_id.as_str(), diags) else {
            return;
        };
        let (account, Some(id)) = (account.as_str(), known.id.as_str()) else {
            return;
        };
        let within = Timeouts::of(&known.timeouts, "delete", DELETE_TIMEOUT);
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
        if !known.managed() {
            return;
        }
        if let Some(token) = known.cf_api_id.as_str() {
            // The registration is gone: its minted token goes too, even if
            // Terraform has asked to stop meanwhile, or nothing would ever
            // delete it.
            match client.detached().delete_token(known.owner(account), token).await {
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
        let (account, mut parts) = import_id(
            data,
            id,
            1,
            0,
            "<account_id>/<id> or <id> (the registration's id)",
            diags,
        )?;
        let skeleton = ServiceTokenModel {
            account_id: Attr::Known(account),
            id: Attr::Known(parts.remove(0)),
            ..ServiceTokenModel::default()
        };
        let state = to_state(&skeleton, self.known_type(), diags)?;
        let mut private = Private::new();
        private.insert(IMPORTED.into(), true.into());
        Some((state, private))
    }

    // ----------------------------------------------------- generated config

    /// A managed registration is written as managed mode: without the
    /// minted token's id (which would ask for bring-your-own), and without
    /// what is the default (the default groups, the account as owner).
    fn generate_config(&self, state: &Value) -> Value {
        let mut config = state.clone();
        if state.get("permission_groups").is_null() {
            return config;
        }
        config.set("cf_api_id", Value::Null);
        let defaults: BTreeSet<String> = DEFAULT_GROUPS.iter().map(|g| g.to_string()).collect();
        let groups: BTreeSet<String> = state
            .get("permission_groups")
            .strings()
            .into_iter()
            .collect();
        if groups == defaults {
            config.set("permission_groups", Value::Null);
        }
        if state.get("token_owner").as_str() == Some(ACCOUNT_OWNER) {
            config.set("token_owner", Value::Null);
        }
        config
    }

    // -------------------------------------------------------------------- list

    fn list_schema(&self) -> Option<Schema> {
        Some(listing::list_schema(
            "The AI Search service tokens registered in an account.",
            vec![
                listing::account_argument(),
                listing::name_argument("registration"),
            ],
        ))
    }

    async fn list(
        &self,
        data: &Configured,
        config: &Value,
        sink: &ListSink,
        diags: &mut Diagnostics,
    ) {
        let Some((client, account)) = session(data, config.get("account_id").as_str(), diags)
        else {
            return;
        };
        let filter = Filter::of(config);
        let pages = client.ai_search_token_pages(&account);
        send_pages(pages, "AI Search service tokens", sink, diags, |token| {
            if !filter.keeps(Some(&token.name), None) {
                return None;
            }
            data.prime_ai_search_token(&account, token);
            Some(format!("{account}/{}", token.id))
        })
        .await;
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<ServiceTokenModel>(self.known_schema())
    }
}

impl AiSearchServiceToken {
    /// `base` updated with what the API says of the registration.
    fn state(
        &self,
        base: &Value,
        registered: &AiSearchToken,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut state = from_answer(
            self.known_schema(),
            base,
            registered,
            ("service token", "registration"),
            diags,
        )?;
        // What the plan left to the API and the answer did not say is
        // null: computed attributes hold only what the API returns.
        state.unknowns_to_null();
        Some(state)
    }

    /// Nothing was sent: what the registration was stays.
    fn unchanged(
        &self,
        before: &ServiceTokenModel,
        mut plan: ServiceTokenModel,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        plan.modified_at = before.modified_at.clone();
        to_state(&plan, self.known_type(), diags)
    }
}

/// A managed token cannot change owner: when the configuration asks for
/// another owner (or one not known until apply), a new token is minted for
/// a new registration. A prior without an owner was written before there
/// was a choice: its owner is the account.
/// The managed registration's state written back as configuration: the
/// minted token's id beside its groups or owner, and no key. It stays
/// managed: nothing in it asks for bring-your-own.
fn written_back_managed(change: &PlanChange, config: &ServiceTokenModel) -> bool {
    let asks_managed = !config.permission_groups.is_null() || !config.token_owner.is_null();
    asks_managed
        && !config.has_key()
        && !change.is_create()
        && !change.prior.get("permission_groups").is_null()
        && change.prior.get("cf_api_id") == change.config.get("cf_api_id")
}

/// Bring-your-own mode has no minted token: no groups, no owner.
fn bring_your_own_only(config: &ServiceTokenModel, diags: &mut Diagnostics) {
    if config.permission_groups.known().is_some() {
        diags.error_at(
            AttrPath::root("permission_groups"),
            "permission_groups is for managed mode",
            "The provider mints a token with these groups only when cf_api_id is not set; a bring-your-own token keeps its own policies.",
        );
    }
    if config.token_owner.known().is_some() {
        diags.error_at(
            AttrPath::root("token_owner"),
            "token_owner is for managed mode",
            "The provider mints a token for this owner only when cf_api_id is not set; a bring-your-own token already has its owner.",
        );
    }
}

/// Bring-your-own mode without the token's value: fine while nothing has
/// to be sent (an imported registration), an error naming the arguments to
/// add as soon as the plan would send the registration.
fn key_needed(change: &PlanChange, config: &ServiceTokenModel, diags: &mut Diagnostics) {
    if config.has_key() {
        return;
    }
    let detail = if change.is_create() {
        "With cf_api_id (bring-your-own mode), give the token's value in cf_api_key_wo (write-only) or cf_api_key."
    } else {
        let resent = ["name", "cf_api_id", "cf_api_key_wo_version", "legacy"]
            .iter()
            .any(|a| change.planned.get(a) != change.prior.get(a));
        let was_managed = !change.prior.get("permission_groups").is_null();
        let drops_stored_key = !change.prior.get("cf_api_key").is_null();
        if !(resent || was_managed || drops_stored_key) {
            return;
        }
        "This change sends the registration again, which needs the token's value (an imported registration has none stored): add cf_api_key_wo (write-only, Terraform >= 1.11) with cf_api_key_wo_version, or cf_api_key."
    };
    diags.error_at(
        AttrPath::root("cf_api_key_wo"),
        "Missing token value",
        detail,
    );
}

fn replace_for_owner(change: &mut PlanChange, prior: &ModePart, config: &ModePart) {
    let before = prior.token_owner.as_str().unwrap_or(ACCOUNT_OWNER);
    let changes = match &config.token_owner {
        Attr::Known(owner) => owner != before,
        Attr::Null => before != ACCOUNT_OWNER,
        Attr::Unknown => true,
    };
    if changes {
        change.requires_replace.push(AttrPath::root("token_owner"));
    }
}

/// The API token `id`, and its owner (`account` or `user`): the account's
/// tokens are looked at first. `None` when neither has it; a user listing
/// refused to these credentials counts as not having it (they could not
/// have minted it there). Both owners' listings answer (batched:
/// importing or listing many registrations costs no request per token).
async fn find_token(
    data: &Configured,
    account: &str,
    id: &str,
) -> Result<Option<(crate::cloudflare::models::Token, &'static str)>, crate::cloudflare::ApiError> {
    if let Some(token) = data.read_token(TokenOwner::Account(account), id).await? {
        return Ok(Some((token, ACCOUNT_OWNER)));
    }
    match data.read_token(TokenOwner::User, id).await {
        Ok(found) => Ok(found.map(|token| (token, USER_OWNER))),
        Err(e) if e.kind == ErrorKind::Auth => Ok(None),
        Err(e) => Err(e),
    }
}

/// The owner of the token an import could not tell the minter of.
fn adopted_owner(private: &Private) -> String {
    let owner = private.get(MINTER_UNKNOWN_OWNER).and_then(|v| v.as_str());
    owner.unwrap_or(ACCOUNT_OWNER).to_string()
}

fn minter_unknown(private: &Private, cf_api_id: Option<&str>) -> bool {
    let flagged = private.get(MINTER_UNKNOWN).and_then(|v| v.as_str());
    flagged.is_some() && flagged == cf_api_id
}

/// The bring-your-own key, from the configuration (write-only values are
/// only there, never in the plan).
fn given_key(config: &Value) -> Result<Secret, crate::framework::Diagnostic> {
    let config: ServiceTokenModel = model::get(config)?;
    config
        .cf_api_key_wo
        .into_known()
        .or(config.cf_api_key.into_known())
        .ok_or_else(|| {
            crate::framework::Diagnostic::error(
                "Missing token value",
                "Sending the registration needs the token's value: set cf_api_key_wo (and bump cf_api_key_wo_version) or cf_api_key.",
            )
            .at(AttrPath::root("cf_api_key_wo"))
        })
}
