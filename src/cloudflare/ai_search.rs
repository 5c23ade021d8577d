//! AI Search: service tokens, instances (account and namespaced routes)
//! and namespaces.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::models::{AiSearchToken, AiSearchTokenRequest, Instance, Job, JobLog, Namespace};
use super::{segment, ApiError, Client};

fn base(account: &str) -> String {
    format!("/accounts/{}/ai-search", segment(account))
}

/// Instances in the `default` namespace use the account route; others live
/// under `/ai-search/namespaces/{name}/instances`.
fn instances_path(account: &str, namespace: Option<&str>) -> String {
    match namespace {
        None | Some("default") => format!("{}/instances", base(account)),
        Some(ns) => format!("{}/namespaces/{}/instances", base(account), segment(ns)),
    }
}

/// Log lines asked for at once (the most a page holds).
pub const JOB_LOG_PAGE: u64 = 500;

fn instance_path(account: &str, namespace: Option<&str>, id: &str) -> String {
    format!("{}/{}", instances_path(account, namespace), segment(id))
}

impl Client {
    // ---- service tokens

    /// The registrations a page at a time (see [`super::Pages`]).
    pub fn ai_search_token_pages<'a>(&'a self, account: &str) -> super::Pages<'a, AiSearchToken> {
        super::Pages::new(self, format!("{}/tokens", base(account)), 100)
    }

    /// A namespace's instances a page at a time (see [`super::Pages`]).
    pub fn instance_pages<'a>(
        &'a self,
        account: &str,
        namespace: &str,
    ) -> super::Pages<'a, Instance> {
        super::Pages::new(self, instances_path(account, Some(namespace)), 50)
    }

    pub async fn list_ai_search_tokens(
        &self,
        account: &str,
    ) -> Result<Vec<AiSearchToken>, ApiError> {
        self.list_all(&format!("{}/tokens", base(account)), 100, &[])
            .await
    }

    pub async fn create_ai_search_token(
        &self,
        account: &str,
        request: &AiSearchTokenRequest,
    ) -> Result<AiSearchToken, ApiError> {
        let body = serde_json::to_value(request).unwrap_or_default();
        self.send(Method::POST, &format!("{}/tokens", base(account)), &body)
            .await
    }

    pub async fn get_ai_search_token(
        &self,
        account: &str,
        id: &str,
    ) -> Result<AiSearchToken, ApiError> {
        self.get(&format!("{}/tokens/{}", base(account), segment(id)), &[])
            .await
            .map(|p| p.result)
    }

    pub async fn update_ai_search_token(
        &self,
        account: &str,
        id: &str,
        request: &AiSearchTokenRequest,
    ) -> Result<AiSearchToken, ApiError> {
        let body = serde_json::to_value(request).unwrap_or_default();
        self.send(
            Method::PUT,
            &format!("{}/tokens/{}", base(account), segment(id)),
            &body,
        )
        .await
    }

    /// 409 (`ErrorKind::Conflict`) while an instance uses the token.
    pub async fn delete_ai_search_token(&self, account: &str, id: &str) -> Result<(), ApiError> {
        self.delete(&format!("{}/tokens/{}", base(account), segment(id)))
            .await
    }

    // ---- instances

    pub async fn list_instances(
        &self,
        account: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Instance>, ApiError> {
        self.list_all(&instances_path(account, namespace), 50, &[])
            .await
    }

    /// `body` holds `id` and the configuration fields.
    pub async fn create_instance(
        &self,
        account: &str,
        namespace: Option<&str>,
        body: &Map<String, Value>,
    ) -> Result<Instance, ApiError> {
        self.send(
            Method::POST,
            &instances_path(account, namespace),
            &Value::Object(body.clone()),
        )
        .await
    }

    pub async fn get_instance(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
    ) -> Result<Instance, ApiError> {
        self.get(&instance_path(account, namespace, id), &[])
            .await
            .map(|p| p.result)
    }

    pub async fn update_instance(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<Instance, ApiError> {
        self.send(
            Method::PUT,
            &instance_path(account, namespace, id),
            &Value::Object(body.clone()),
        )
        .await
    }

    pub async fn delete_instance(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
    ) -> Result<(), ApiError> {
        self.delete(&instance_path(account, namespace, id)).await
    }

    pub async fn instance_stats(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
    ) -> Result<Map<String, Value>, ApiError> {
        let path = format!("{}/stats", instance_path(account, namespace, id));
        self.get(&path, &[]).await.map(|p| p.result)
    }

    /// Starts a sync job; it runs asynchronously (7020 within the cooldown).
    pub async fn start_sync_job(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
    ) -> Result<Value, ApiError> {
        let path = format!("{}/jobs", instance_path(account, namespace, id));
        self.send(Method::POST, &path, &json!({})).await
    }

    /// A sync job as it stands (`ended_at` once it has ended).
    pub async fn get_job(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
        job_id: &str,
    ) -> Result<Job, ApiError> {
        let path = format!(
            "{}/jobs/{}",
            instance_path(account, namespace, id),
            segment(job_id)
        );
        self.get(&path, &[]).await.map(|p| p.result)
    }

    /// One page of a sync job's log lines (up to 500 a page).
    pub async fn job_logs(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
        job_id: &str,
        page: u64,
    ) -> Result<Vec<JobLog>, ApiError> {
        let path = format!(
            "{}/jobs/{}/logs",
            instance_path(account, namespace, id),
            segment(job_id)
        );
        let query = [
            ("page", page.to_string()),
            ("per_page", JOB_LOG_PAGE.to_string()),
        ];
        self.get(&path, &query).await.map(|p| p.result)
    }

    /// Purges an instance's search cache. The route exists on the
    /// namespaced path only (`default` for the default namespace); the
    /// answer carries nothing but success.
    pub async fn purge_cache(
        &self,
        account: &str,
        namespace: Option<&str>,
        id: &str,
    ) -> Result<(), ApiError> {
        let path = format!(
            "{}/namespaces/{}/instances/{}/purge_cache",
            base(account),
            segment(namespace.unwrap_or("default")),
            segment(id)
        );
        self.call(Method::POST, &path, &[], None, false)
            .await
            .map(|_| ())
    }

    /// Moves an instance to another namespace (`PATCH` on the namespaced
    /// route); the answer is empty, so the moved instance is read back.
    pub async fn move_instance(
        &self,
        account: &str,
        from: &str,
        id: &str,
        to: &str,
    ) -> Result<Instance, ApiError> {
        let path = format!(
            "{}/namespaces/{}/instances/{}",
            base(account),
            segment(from),
            segment(id)
        );
        let _: Value = self
            .send(Method::PATCH, &path, &json!({ "new_namespace": to }))
            .await?;
        // Moved: reading it back must not be cut short by a stop, and its
        // failure does not undo the move.
        self.detached()
            .get_instance(account, Some(to), id)
            .await
            .map_err(ApiError::maybe_applied)
    }

    // ---- namespaces

    pub async fn list_namespaces(&self, account: &str) -> Result<Vec<Namespace>, ApiError> {
        self.list_all(&format!("{}/namespaces", base(account)), 100, &[])
            .await
    }

    pub async fn create_namespace(
        &self,
        account: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Namespace, ApiError> {
        let mut body = json!({ "name": name });
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        self.send(
            Method::POST,
            &format!("{}/namespaces", base(account)),
            &body,
        )
        .await
    }

    pub async fn get_namespace(&self, account: &str, name: &str) -> Result<Namespace, ApiError> {
        self.get(
            &format!("{}/namespaces/{}", base(account), segment(name)),
            &[],
        )
        .await
        .map(|p| p.result)
    }

    pub async fn update_namespace(
        &self,
        account: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Namespace, ApiError> {
        let body = json!({ "description": description });
        self.send(
            Method::PUT,
            &format!("{}/namespaces/{}", base(account), segment(name)),
            &body,
        )
        .await
    }

    pub async fn delete_namespace(&self, account: &str, name: &str) -> Result<(), ApiError> {
        self.delete(&format!("{}/namespaces/{}", base(account), segment(name)))
            .await
    }
}
