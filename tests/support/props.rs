//! Plan-validity property testing: the provider's gRPC service in process
//! (the same code Terraform reaches, msgpack included), Terraform's side of
//! each step played from its own rules (`ProposedNew`, the final plan at
//! apply time), and every answer judged by `cfai::framework::oracle`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cfai::cty::{msgpack, Type, Value};
use cfai::framework::oracle::{self, Violation};
use cfai::framework::ProviderDef;
use cfai::framework::{AttrPath, Attribute, IdentitySchema, Nesting, PathStep, Schema};
use cfai::provider::CfaiProvider;
use cfai::tfplugin::proto;
use cfai::tfplugin::proto::provider_server::Provider as _;
use cfai::tfplugin::ProviderServer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::Request;

/// Cases per property: `CFAI_PROPERTY_CASES` raises it on demand.
pub fn cases(default: u32) -> u32 {
    std::env::var("CFAI_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Plugin {
    server: ProviderServer<CfaiProvider>,
    pub resources: BTreeMap<String, Schema>,
    /// Each resource's identity, as Terraform >= 1.12 keeps it beside the
    /// state and sends it back; every answer's identity is judged.
    identities: BTreeMap<String, IdentitySchema>,
    pub data_sources: BTreeMap<String, Schema>,
    provider_schema: Schema,
    /// Base URL, account and token it was configured with.
    connection: [String; 3],
    /// Whether the imitated client supports write-only arguments.
    write_only: bool,
    /// How long the provider took over the last plan, apply or read:
    /// the call alone, without the encoding and the proposed new state
    /// that Terraform's side of it costs.
    last_rpc: std::sync::Mutex<std::time::Duration>,
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub private: Vec<u8>,
}

fn dv(value: &Value, ty: &Type) -> Option<proto::DynamicValue> {
    Some(proto::DynamicValue {
        msgpack: msgpack::encode(value, ty).expect("encode"),
        json: Vec::new(),
    })
}

fn undv(v: Option<proto::DynamicValue>, ty: &Type) -> Value {
    match v {
        Some(v) if !v.msgpack.is_empty() => msgpack::decode(&v.msgpack, ty).expect("decode"),
        _ => Value::Null,
    }
}

fn errors(diags: &[proto::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// The value, unless the diagnostics hold errors.
fn answer<T>(diags: &[proto::Diagnostic], value: impl FnOnce() -> T) -> Result<T, Vec<String>> {
    let errs = errors(diags);
    if errs.is_empty() {
        Ok(value())
    } else {
        Err(errs)
    }
}

fn path(p: &proto::AttributePath) -> AttrPath {
    use proto::attribute_path::step::Selector;
    AttrPath(
        p.steps
            .iter()
            .filter_map(|s| match s.selector.as_ref()? {
                Selector::AttributeName(n) => Some(PathStep::Attribute(n.clone())),
                Selector::ElementKeyString(k) => Some(PathStep::Key(k.clone())),
                Selector::ElementKeyInt(i) => Some(PathStep::Index(*i)),
            })
            .collect(),
    )
}

/// What the imitated client announces: Terraform >= 1.11 (write-only
/// arguments), or an older client / OpenTofu 1.6 (nothing).
fn announced(write_only: bool) -> Option<proto::ClientCapabilities> {
    write_only.then_some(proto::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

impl Plugin {
    pub async fn configured(base_url: &str, account: &str, token: &str) -> Plugin {
        Plugin::configured_as(base_url, account, token, true).await
    }

    /// As a client with (`write_only`) or without write-only support.
    pub async fn configured_as(
        base_url: &str,
        account: &str,
        token: &str,
        write_only: bool,
    ) -> Plugin {
        let provider = CfaiProvider;
        let resources = provider
            .resources()
            .iter()
            .map(|r| (r.type_name().to_string(), r.schema()))
            .collect();
        let identities = provider
            .resources()
            .iter()
            .map(|r| (r.type_name().to_string(), r.identity()))
            .collect();
        let data_sources = provider
            .data_sources()
            .iter()
            .map(|d| (d.type_name().to_string(), d.schema()))
            .collect();
        let provider_schema = provider.schema();
        let plugin = Plugin {
            server: ProviderServer::new(provider),
            resources,
            identities,
            data_sources,
            provider_schema,
            connection: [base_url.into(), account.into(), token.into()],
            write_only,
            last_rpc: Default::default(),
        };
        let mut config = plugin.provider_schema.empty_value();
        config.set("api_token", token.into());
        config.set("account_id", account.into());
        config.set("base_url", base_url.into());
        config.set("max_retries", 0i64.into());
        config.set("rate_limit_per_second", 10000i64.into());
        config.set("rate_limit_per_5_minutes", 1_000_000i64.into());
        let response = plugin
            .server
            .configure_provider(Request::new(proto::configure_provider::Request {
                terraform_version: "1.11.4".into(),
                config: dv(&config, &plugin.provider_schema.cty_type()),
                client_capabilities: announced(write_only),
            }))
            .await
            .expect("configure")
            .into_inner();
        assert!(
            errors(&response.diagnostics).is_empty(),
            "{:?}",
            response.diagnostics
        );
        plugin
    }

    /// The same provider in a new process, as the next terraform command
    /// starts one: nothing cached (a change made outside is seen).
    pub async fn fresh(&self) -> Plugin {
        let [base_url, account, token] = &self.connection;
        Plugin::configured_as(base_url, account, token, self.write_only).await
    }

    fn capabilities(&self) -> Option<proto::ClientCapabilities> {
        announced(self.write_only)
    }

    fn schema(&self, type_name: &str) -> &Schema {
        self.resources.get(type_name).expect("known resource type")
    }

    /// Data sources may share a resource's type name.
    fn data_schema(&self, type_name: &str) -> &Schema {
        self.data_sources
            .get(type_name)
            .expect("known data source type")
    }

    pub async fn validate(&self, type_name: &str, config: &Value) -> Vec<String> {
        self.validate_as(type_name, config, self.capabilities())
            .await
    }

    /// Validation as a client announcing `caps` (none: an older client).
    pub async fn validate_as(
        &self,
        type_name: &str,
        config: &Value,
        caps: Option<proto::ClientCapabilities>,
    ) -> Vec<String> {
        let ty = self.schema(type_name).cty_type();
        let r = self
            .server
            .validate_resource_config(Request::new(proto::validate_resource_config::Request {
                type_name: type_name.into(),
                config: dv(config, &ty),
                client_capabilities: caps,
            }))
            .await
            .expect("validate")
            .into_inner();
        errors(&r.diagnostics)
    }

    pub async fn validate_data(&self, type_name: &str, config: &Value) -> Vec<String> {
        let ty = self.data_schema(type_name).cty_type();
        let r = self
            .server
            .validate_data_resource_config(Request::new(
                proto::validate_data_resource_config::Request {
                    type_name: type_name.into(),
                    config: dv(config, &ty),
                },
            ))
            .await
            .expect("validate")
            .into_inner();
        errors(&r.diagnostics)
    }

    pub async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, Vec<String>> {
        let ty = self.data_schema(type_name).cty_type();
        let r = self
            .server
            .read_data_source(Request::new(proto::read_data_source::Request {
                type_name: type_name.into(),
                config: dv(config, &ty),
                provider_meta: None,
                client_capabilities: self.capabilities(),
            }))
            .await
            .expect("read data")
            .into_inner();
        answer(&r.diagnostics, || undv(r.state, &ty))
    }

    pub fn ephemeral_schema(&self, type_name: &str) -> Schema {
        CfaiProvider
            .ephemeral_resources()
            .into_iter()
            .find(|e| e.type_name() == type_name)
            .map(|e| e.schema())
            .expect("known ephemeral type")
    }

    /// ValidateEphemeralResourceConfig then OpenEphemeralResource; the
    /// result, with its private bytes.
    pub async fn open(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<(Value, Option<Vec<u8>>), Vec<String>> {
        let ty = self.ephemeral_schema(type_name).cty_type();
        let v = self
            .server
            .validate_ephemeral_resource_config(Request::new(
                proto::validate_ephemeral_resource_config::Request {
                    type_name: type_name.into(),
                    config: dv(config, &ty),
                },
            ))
            .await
            .expect("validate")
            .into_inner();
        let errs = errors(&v.diagnostics);
        if !errs.is_empty() {
            return Err(errs);
        }
        let r = self
            .server
            .open_ephemeral_resource(Request::new(proto::open_ephemeral_resource::Request {
                type_name: type_name.into(),
                config: dv(config, &ty),
                client_capabilities: self.capabilities(),
            }))
            .await
            .expect("open")
            .into_inner();
        answer(&r.diagnostics, || (undv(r.result, &ty), r.private))
    }

    pub async fn close(&self, type_name: &str, private: Option<Vec<u8>>) -> Vec<String> {
        let r = self
            .server
            .close_ephemeral_resource(Request::new(proto::close_ephemeral_resource::Request {
                type_name: type_name.into(),
                private,
            }))
            .await
            .expect("close")
            .into_inner();
        errors(&r.diagnostics)
    }

    /// Open under Terraform's rules: with unknowns, nothing is opened and
    /// the result keeps the configuration; known, the result keeps every
    /// configured value and is wholly known. Then Close.
    pub async fn open_and_close(&self, type_name: &str, case: &Case) -> Result<(), String> {
        let schema = self.ephemeral_schema(type_name);
        let (planned, private) = self
            .open(type_name, &case.config)
            .await
            .map_err(|e| format!("open (plan): {e:?}\n  config: {:?}", case.config))?;
        let v = oracle::check_plan(
            &schema,
            &schema.cty_type(),
            &Value::Null,
            &case.config,
            &planned,
            &[],
        );
        if !v.is_empty() {
            return Err(format!("open with unknowns: {}", show(&v, &planned)));
        }
        if !case.config.is_wholly_known() && private.is_some() {
            return Err("opened although the configuration has unknowns".into());
        }
        let errs = self.close(type_name, private).await;
        if !errs.is_empty() {
            return Err(format!("close (plan): {errs:?}"));
        }
        let (result, private) = self
            .open(type_name, &case.resolved)
            .await
            .map_err(|e| format!("open (apply): {e:?}\n  config: {:?}", case.resolved))?;
        let mut v = oracle::check_plan(
            &schema,
            &schema.cty_type(),
            &Value::Null,
            &case.resolved,
            &result,
            &[],
        );
        v.extend(oracle::check_read(&schema, &result));
        if !v.is_empty() {
            return Err(format!("open result: {}", show(&v, &result)));
        }
        let errs = self.close(type_name, private).await;
        if errs.is_empty() {
            Ok(())
        } else {
            Err(format!("close: {errs:?}"))
        }
    }

    /// The identity Terraform keeps for the object `state` describes.
    fn identity_sent(&self, type_name: &str, state: &Value) -> Option<proto::ResourceIdentityData> {
        let schema = &self.identities[type_name];
        let identity = schema.of(state);
        (!identity.is_null()).then(|| proto::ResourceIdentityData {
            identity_data: dv(&identity, &schema.cty_type()),
        })
    }

    /// An answer's identity: that of `state` (its identity attributes),
    /// wholly known; none for no object.
    fn judge_identity(
        &self,
        type_name: &str,
        got: Option<proto::ResourceIdentityData>,
        state: &Value,
    ) -> Result<Value, String> {
        let schema = &self.identities[type_name];
        let expected = schema.of(state);
        let got = got
            .and_then(|g| g.identity_data)
            .map(|d| undv(Some(d), &schema.cty_type()))
            .unwrap_or(Value::Null);
        if got != expected {
            return Err(format!("identity {got:?} is not the state's {expected:?}"));
        }
        if !got.is_wholly_known() {
            return Err(format!("identity {got:?} is not wholly known"));
        }
        Ok(got)
    }

    fn note_rpc(&self, started: std::time::Instant) {
        *self.last_rpc.lock().expect("not poisoned") = started.elapsed();
    }

    /// How long the provider took over the last plan, apply or read.
    #[allow(dead_code)]
    pub fn last_rpc(&self) -> std::time::Duration {
        *self.last_rpc.lock().expect("not poisoned")
    }

    /// PlanResourceChange as Terraform sends it: the proposed new state is
    /// Terraform's `ProposedNew`.
    pub async fn plan(
        &self,
        type_name: &str,
        prior: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> Result<Planned, Vec<String>> {
        let schema = self.schema(type_name);
        let ty = schema.cty_type();
        let proposed = oracle::proposed_new(schema, prior, config);
        let started = std::time::Instant::now();
        let r = self
            .server
            .plan_resource_change(Request::new(proto::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, &ty),
                proposed_new_state: dv(&proposed, &ty),
                config: dv(config, &ty),
                prior_private: prior_private.to_vec(),
                provider_meta: None,
                client_capabilities: self.capabilities(),
                prior_identity: self.identity_sent(type_name, prior),
            }))
            .await
            .expect("plan")
            .into_inner();
        self.note_rpc(started);
        let errs = errors(&r.diagnostics);
        if !errs.is_empty() {
            return Err(errs);
        }
        // A planned identity goes into the saved plan, whose JSON cannot
        // hold unknowns: none for a new object; an existing object's is
        // known, and its own until the apply says otherwise.
        let planned = undv(r.planned_state.clone(), &ty);
        let named = if prior.is_null() {
            &Value::Null
        } else if r.requires_replace.is_empty()
            && self.identities[type_name].of(&planned).is_wholly_known()
        {
            &planned
        } else {
            prior
        };
        self.judge_identity(type_name, r.planned_identity, named)
            .map_err(|e| vec![format!("planned {e}")])?;
        Ok(Planned {
            planned: undv(r.planned_state, &ty),
            requires_replace: r.requires_replace.iter().map(path).collect(),
            private: r.planned_private,
        })
    }

    pub async fn apply(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Planned,
        config: &Value,
    ) -> Result<(Value, Vec<u8>), Vec<String>> {
        let ty = self.schema(type_name).cty_type();
        let started = std::time::Instant::now();
        let r = self
            .server
            .apply_resource_change(Request::new(proto::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, &ty),
                planned_state: dv(&planned.planned, &ty),
                config: dv(config, &ty),
                planned_private: planned.private.clone(),
                provider_meta: None,
                planned_identity: self.identity_sent(type_name, &planned.planned),
            }))
            .await
            .expect("apply")
            .into_inner();
        self.note_rpc(started);
        let (new_state, private) = answer(&r.diagnostics, || (undv(r.new_state, &ty), r.private))?;
        let identity = self
            .judge_identity(type_name, r.new_identity, &new_state)
            .map_err(|e| vec![format!("applied {e}")])?;
        // An update names the same object: an identity attribute changes
        // only where the plan changed it (an instance moved to another
        // namespace).
        if !prior.is_null() && !new_state.is_null() {
            let schema = &self.identities[type_name];
            let before = schema.of(prior);
            for attr in &schema.attributes {
                let asked = planned.planned.get(attr.name) != prior.get(attr.name);
                if !asked && identity.get(attr.name) != before.get(attr.name) {
                    return Err(vec![format!(
                        "the update changed identity attribute {}: {:?} -> {:?}",
                        attr.name,
                        before.get(attr.name),
                        identity.get(attr.name)
                    )]);
                }
            }
        }
        Ok((new_state, private))
    }

    pub async fn read(
        &self,
        type_name: &str,
        state: &Value,
        private: &[u8],
    ) -> Result<(Value, Vec<u8>), Vec<String>> {
        let ty = self.schema(type_name).cty_type();
        let started = std::time::Instant::now();
        let r = self
            .server
            .read_resource(Request::new(proto::read_resource::Request {
                type_name: type_name.into(),
                current_state: dv(state, &ty),
                private: private.to_vec(),
                provider_meta: None,
                client_capabilities: self.capabilities(),
                current_identity: self.identity_sent(type_name, state),
            }))
            .await
            .expect("read")
            .into_inner();
        self.note_rpc(started);
        let (new_state, private) = answer(&r.diagnostics, || (undv(r.new_state, &ty), r.private))?;
        self.judge_identity(type_name, r.new_identity, &new_state)
            .map_err(|e| vec![format!("refreshed {e}")])?;
        Ok((new_state, private))
    }

    /// One object's whole life under Terraform's rules, from configurations
    /// that may hold unknowns (`config`) and what they become at apply
    /// (`resolved`): validate, plan, final plan, apply, refresh, empty
    /// re-plan. Returns the refreshed state and private state.
    pub async fn converge(
        &self,
        type_name: &str,
        prior: (&Value, &[u8]),
        config: &Value,
        resolved: &Value,
    ) -> Result<(Value, Vec<u8>), String> {
        let schema = self.schema(type_name).clone();
        let fail = |stage: &str, what: String| {
            Err(format!(
                "{stage}: {what}\n  config:   {config:?}\n  resolved: {resolved:?}\n  prior:    {:?}",
                prior.0
            ))
        };
        let errs = self.validate(type_name, config).await;
        if !errs.is_empty() {
            return fail("validate (with unknowns)", format!("{errs:?}"));
        }
        // `terraform plan` refreshes an existing object first.
        let refreshed_prior;
        let prior: (&Value, &[u8]) = if prior.0.is_null() {
            prior
        } else {
            match self.read(type_name, prior.0, prior.1).await {
                Ok(r) => {
                    let v = oracle::check_read(&schema, &r.0);
                    if !v.is_empty() {
                        return fail("refresh before plan", show(&v, &r.0));
                    }
                    refreshed_prior = r;
                    (&refreshed_prior.0, &refreshed_prior.1)
                }
                Err(e) => return fail("refresh before plan", format!("{e:?}")),
            }
        };
        let first = match self.plan(type_name, prior.0, config, prior.1).await {
            Ok(p) => p,
            Err(e) => return fail("plan", format!("{e:?}")),
        };
        let v = oracle::check_plan(
            &schema,
            &schema.cty_type(),
            prior.0,
            config,
            &first.planned,
            &first.requires_replace,
        );
        if !v.is_empty() {
            return fail("plan invalid", show(&v, &first.planned));
        }
        // A replacement's new object is planned as a create there and then,
        // so that its errors stop the plan rather than the apply.
        if !first.requires_replace.is_empty() {
            if let Err(e) = self.plan(type_name, &Value::Null, config, &[]).await {
                return fail("plan (the replacement's create)", format!("{e:?}"));
            }
        }
        // Terraform plans again at apply time, with every value known.
        let errs = self.validate(type_name, resolved).await;
        if !errs.is_empty() {
            return fail("validate (resolved)", format!("{errs:?}"));
        }
        let replacing = !first.requires_replace.is_empty();
        let (prior_state, prior_private): (Value, Vec<u8>) = if replacing {
            (Value::Null, Vec::new())
        } else {
            (prior.0.clone(), prior.1.to_vec())
        };
        if replacing {
            // Replace: destroy the old object, create the new one.
            let destroy = Planned {
                planned: Value::Null,
                requires_replace: Vec::new(),
                private: prior.1.to_vec(),
            };
            if let Err(e) = self.apply(type_name, prior.0, &destroy, &Value::Null).await {
                return fail("destroy for replacement", format!("{e:?}"));
            }
        }
        let last = match self
            .plan(type_name, &prior_state, resolved, &prior_private)
            .await
        {
            Ok(p) => p,
            Err(e) => return fail("final plan", format!("{e:?}")),
        };
        let v = oracle::check_plan(
            &schema,
            &schema.cty_type(),
            &prior_state,
            resolved,
            &last.planned,
            &last.requires_replace,
        );
        if !v.is_empty() {
            return fail("final plan invalid", show(&v, &last.planned));
        }
        if !replacing {
            let v = oracle::check_final_plan(&first.planned, &last.planned);
            if !v.is_empty() {
                return fail(
                    "final plan inconsistent with the first",
                    show(&v, &last.planned),
                );
            }
        }
        let (applied, private) = match self.apply(type_name, &prior_state, &last, resolved).await {
            Ok(s) => s,
            Err(e) => return fail("apply", format!("{e:?}")),
        };
        let v = oracle::check_apply(&schema, &last.planned, &applied);
        if !v.is_empty() {
            return fail("inconsistent result after apply", show(&v, &applied));
        }
        let (refreshed, private) = match self.read(type_name, &applied, &private).await {
            Ok(s) => s,
            Err(e) => return fail("refresh", format!("{e:?}")),
        };
        let v = oracle::check_read(&schema, &refreshed);
        if !v.is_empty() {
            return fail("refresh result", show(&v, &refreshed));
        }
        if refreshed.is_null() {
            return fail("refresh", "the object vanished".into());
        }
        let again = match self.plan(type_name, &refreshed, resolved, &private).await {
            Ok(p) => p,
            Err(e) => return fail("re-plan", format!("{e:?}")),
        };
        let v = oracle::check_plan(
            &schema,
            &schema.cty_type(),
            &refreshed,
            resolved,
            &again.planned,
            &again.requires_replace,
        );
        if !v.is_empty() {
            return fail("re-plan invalid", show(&v, &again.planned));
        }
        if again.planned != refreshed || !again.requires_replace.is_empty() {
            return fail(
                "re-plan not empty",
                format!(
                    "diff: {}\n  replace: {:?}",
                    diff(&refreshed, &again.planned, ""),
                    again.requires_replace
                ),
            );
        }
        Ok((refreshed, private))
    }

    /// ImportResourceState then ReadResource, as `terraform import` does;
    /// both answers are judged. Returns the imported state and private state.
    pub async fn import(&self, type_name: &str, id: &str) -> Result<(Value, Vec<u8>), String> {
        let schema = self.schema(type_name).clone();
        let ty = schema.cty_type();
        let r = self
            .server
            .import_resource_state(Request::new(proto::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                client_capabilities: self.capabilities(),
                identity: None,
            }))
            .await
            .expect("import")
            .into_inner();
        let errs = errors(&r.diagnostics);
        if !errs.is_empty() {
            return Err(format!("import: {errs:?}"));
        }
        let imported = r
            .imported_resources
            .into_iter()
            .next()
            .ok_or("import returned nothing")?;
        let stub = undv(imported.state, &ty);
        let (state, private) = self
            .read(type_name, &stub, &imported.private)
            .await
            .map_err(|e| format!("read after import: {e:?}"))?;
        let v = oracle::check_read(&schema, &state);
        if !v.is_empty() {
            return Err(format!("imported state: {}", show(&v, &state)));
        }
        Ok((state, private))
    }

    /// A list type's configuration schema (`terraform query`).
    pub fn list_schema(&self, type_name: &str) -> Schema {
        CfaiProvider
            .resources()
            .into_iter()
            .find(|r| r.type_name() == type_name)
            .and_then(|r| r.list_schema())
            .expect("a listable resource type")
    }

    /// ListResource as `terraform query` calls it: every event of the
    /// stream, as (identity, display name, object if asked). Errors fail.
    pub async fn list(
        &self,
        type_name: &str,
        config: &Value,
        include_resource: bool,
        limit: i64,
    ) -> Result<Vec<Listed>, Vec<String>> {
        use futures_util::StreamExt;
        let list_ty = self.list_schema(type_name).cty_type();
        let validated = self
            .server
            .validate_list_resource_config(Request::new(
                proto::validate_list_resource_config::Request {
                    type_name: type_name.into(),
                    config: dv(config, &list_ty),
                    include_resource_object: None,
                    limit: None,
                },
            ))
            .await
            .expect("validate list")
            .into_inner();
        let errs = errors(&validated.diagnostics);
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut stream = self
            .server
            .list_resource(Request::new(proto::list_resource::Request {
                type_name: type_name.into(),
                config: dv(config, &list_ty),
                include_resource_object: include_resource,
                limit,
            }))
            .await
            .expect("list")
            .into_inner();
        let ty = self.schema(type_name).cty_type();
        let identity_ty = self.identities[type_name].cty_type();
        let mut listed = Vec::new();
        while let Some(event) = stream.next().await {
            let event = event.expect("an event, not a gRPC error");
            let errs = errors(&event.diagnostic);
            if !errs.is_empty() {
                return Err(errs);
            }
            listed.push(Listed {
                identity: undv(event.identity.and_then(|i| i.identity_data), &identity_ty),
                display_name: event.display_name,
                object: event.resource_object.map(|o| undv(Some(o), &ty)),
            });
        }
        Ok(listed)
    }

    /// The import id a listed identity names.
    pub fn import_id_of(&self, type_name: &str, identity: &Value) -> String {
        self.identities[type_name]
            .import_id(identity)
            .expect("an identity names an import id")
    }

    /// The identity of `state`, as the list should give it.
    pub fn identity_of(&self, type_name: &str, state: &Value) -> Value {
        self.identities[type_name].of(state)
    }

    pub async fn destroy(&self, type_name: &str, state: &Value, private: &[u8]) {
        let destroy = Planned {
            planned: Value::Null,
            requires_replace: Vec::new(),
            private: private.to_vec(),
        };
        self.apply(type_name, state, &destroy, &Value::Null)
            .await
            .expect("destroy");
    }
}

/// One result of a listing.
pub struct Listed {
    pub identity: Value,
    pub display_name: String,
    pub object: Option<Value>,
}

fn show(v: &[Violation], value: &Value) -> String {
    let lines: Vec<String> = v.iter().map(|x| format!("    {x}")).collect();
    format!("\n{}\n  value: {value:?}", lines.join("\n"))
}

/// Where two values differ, attribute by attribute.
pub fn diff(a: &Value, b: &Value, at: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .filter_map(|(k, v)| {
                let w = y.get(k).unwrap_or(&Value::Null);
                (v != w).then(|| diff(v, w, &format!("{at}.{k}")))
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => format!("{at}: {a:?} -> {b:?}"),
    }
}

// ------------------------------------------------------------ generation

/// A configuration as planned (some values unknown or dropped) and what it
/// becomes at apply time.
#[derive(Debug, Clone)]
pub struct Case {
    pub config: Value,
    pub resolved: Value,
}

/// From a valid configuration, every attribute at every depth
/// independently kept, made null (when optional) or made unknown; a kept
/// collection may get an unknown element, a kept nested object is varied in
/// turn. Unknowns resolve to the base's value at apply.
pub fn vary(schema: &Schema, base: &Value, rng: &mut StdRng) -> Case {
    vary_keeping(schema, base, rng, &[])
}

/// As [`vary`], but the top-level attributes in `keep` are never made null
/// (a resource rule may require them); they can still be unknown.
pub fn vary_keeping(schema: &Schema, base: &Value, rng: &mut StdRng, keep: &[&str]) -> Case {
    vary_leaving(schema, base, rng, keep, &[])
}

/// As [`vary_keeping`], and the attributes in `leave` stay as in the base
/// (e.g. an argument the imitated client cannot send at all).
pub fn vary_leaving(
    schema: &Schema,
    base: &Value,
    rng: &mut StdRng,
    keep: &[&str],
    leave: &[&str],
) -> Case {
    let mut config = base.clone();
    let mut resolved = base.clone();
    let attrs: Vec<Attribute> = schema
        .attributes
        .iter()
        .filter(|a| !leave.contains(&a.name.as_str()))
        .map(|a| {
            let mut a = a.clone();
            if keep.contains(&a.name.as_str()) {
                a.required = true;
            }
            a
        })
        .collect();
    vary_attrs(&attrs, base, &mut config, &mut resolved, rng);
    for b in &schema.blocks {
        // Blocks are never unknown unless dynamic; dropping one is allowed.
        if rng.random_bool(0.3) {
            config.set(&b.name, b.empty_value());
            resolved.set(&b.name, b.empty_value());
        }
    }
    Case { config, resolved }
}

fn vary_attrs(
    attrs: &[Attribute],
    base: &Value,
    config: &mut Value,
    resolved: &mut Value,
    rng: &mut StdRng,
) {
    for attr in attrs {
        let b = base.get(&attr.name).clone();
        if attr.computed && !attr.optional {
            config.set(&attr.name, Value::Null);
            resolved.set(&attr.name, Value::Null);
            continue;
        }
        let roll: f64 = rng.random();
        if roll < 0.2 {
            config.set(&attr.name, Value::Unknown);
            resolved.set(&attr.name, b);
        } else if roll < 0.35 && !attr.required {
            config.set(&attr.name, Value::Null);
            resolved.set(&attr.name, Value::Null);
        } else {
            let (c, r) = vary_value(attr, &b, rng);
            config.set(&attr.name, c);
            resolved.set(&attr.name, r);
        }
    }
}

fn vary_value(attr: &Attribute, base: &Value, rng: &mut StdRng) -> (Value, Value) {
    if base.is_null() {
        return (Value::Null, Value::Null);
    }
    match attr.nested_attributes() {
        Some((Nesting::Single, inner)) => {
            let (mut c, mut r) = (base.clone(), base.clone());
            vary_attrs(inner, base, &mut c, &mut r, rng);
            (c, r)
        }
        Some((Nesting::List, inner)) => {
            let (mut cs, mut rs) = (Vec::new(), Vec::new());
            for e in base.elements() {
                let (mut c, mut r) = (e.clone(), e.clone());
                if rng.random_bool(0.1) {
                    // A known list whose element is a whole unknown object.
                    c = Value::Unknown;
                } else {
                    vary_attrs(inner, e, &mut c, &mut r, rng);
                }
                cs.push(c);
                rs.push(r);
            }
            (Value::List(cs), Value::List(rs))
        }
        Some(_) => (base.clone(), base.clone()),
        None => {
            let mut c = base.clone();
            if rng.random_bool(0.2) {
                match &mut c {
                    Value::List(items) | Value::Set(items) if !items.is_empty() => {
                        let i = rng.random_range(0..items.len());
                        items[i] = Value::Unknown;
                    }
                    Value::Map(m) if !m.is_empty() => {
                        let i = rng.random_range(0..m.len());
                        if let Some(v) = m.values_mut().nth(i) {
                            *v = Value::Unknown;
                        }
                    }
                    _ => {}
                }
            }
            (c, base.clone())
        }
    }
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
