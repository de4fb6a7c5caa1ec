//! The CLI's side of the service: finds it (starting it when needed),
//! authenticates with the token from `EXECUTOR_HOME`, and sends requests.

use anyhow::Context;
use serde_json::Value;

use crate::home::Home;
use crate::service;

pub struct Client {
    pub url: String,
    token: String,
    http: reqwest::Client,
}

/// A failure to reach or use the service (not a tool's own failure).
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct ServiceError(pub anyhow::Error);

impl Client {
    /// Connects to the running service, starting it in the background
    /// when it is not running.
    pub async fn connect(home: &Home) -> Result<Client, ServiceError> {
        let http = reqwest::Client::new();
        let info = service::ensure_running(home, &http)
            .await
            .map_err(ServiceError)?;
        Client::of(home, info.url, http)
    }

    /// A client of the service at `url` (found or started by the caller).
    pub fn of(home: &Home, url: String, http: reqwest::Client) -> Result<Client, ServiceError> {
        let token = home
            .existing_token()
            .with_context(|| {
                format!(
                    "the service's token is missing from {}",
                    home.token_path().display()
                )
            })
            .map_err(ServiceError)?;
        Ok(Client { url, token, http })
    }

    /// `POST /api/tools/invoke/{path}`: the envelope, whatever the status.
    pub async fn invoke(&self, path: &str, input: &Value) -> Result<Value, ServiceError> {
        let response = self
            .http
            .post(format!("{}/api/tools/invoke/{path}", self.url))
            .bearer_auth(&self.token)
            .header("x-executor-via", "cli")
            .json(input)
            .send()
            .await
            .with_context(|| format!("cannot reach the service at {}", self.url))
            .map_err(ServiceError)?;
        envelope(response).await
    }

    /// `POST` (or another method) with a JSON body to an `/api` route: the
    /// envelope, whatever the status.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, ServiceError> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("x-executor-via", "cli")
            .json(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the service at {}", self.url))
            .map_err(ServiceError)?;
        envelope(response).await
    }

    /// `GET` an `/api` route: the envelope, whatever the status.
    pub async fn get(&self, path_and_query: &str) -> Result<Value, ServiceError> {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.url))
            .bearer_auth(&self.token)
            .header("x-executor-via", "cli")
            .send()
            .await
            .with_context(|| format!("cannot reach the service at {}", self.url))
            .map_err(ServiceError)?;
        envelope(response).await
    }
}

async fn envelope(response: reqwest::Response) -> Result<Value, ServiceError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .context("the service's answer broke off")
        .map_err(ServiceError)?;
    let value: Value = serde_json::from_slice(&body)
        .with_context(|| format!("the service answered {status} with something that is not JSON"))
        .map_err(ServiceError)?;
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("refused");
        return Err(ServiceError(anyhow::anyhow!(
            "the service refused the CLI: {message}"
        )));
    }
    Ok(value)
}
