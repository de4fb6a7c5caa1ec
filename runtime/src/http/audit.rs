//! The audit log over HTTP: `GET /api/audit` for the owner and scripts,
//! and the `/audit` page with filters.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generator::envelope::ErrorCode;
use serde_json::json;

use super::session::Signed;
use super::web::{Page, page, render};
use crate::errors::error;
use crate::http::{failure, success};
use crate::state::AppState;
use crate::store::AuditFilter;

/// The filter a query string asks for, or what is wrong with it.
fn filter(q: &HashMap<String, String>, limit: usize) -> Result<AuditFilter, String> {
    let since = match q.get("since").filter(|s| !s.is_empty()) {
        Some(s) => Some(since_ms(s).ok_or_else(|| {
            format!(
                "since {s:?}: give milliseconds since the epoch, or an age such as 30m, 2h or 7d"
            )
        })?),
        None => None,
    };
    Ok(AuditFilter {
        client: q.get("client").filter(|c| !c.is_empty()).cloned(),
        tool: q.get("tool").filter(|t| !t.is_empty()).cloned(),
        since,
        limit: q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(limit)
            .clamp(1, 100_000),
    })
}

/// `GET /api/audit?client=&tool=&since=&limit=`: calls on record, newest
/// first. `since`: milliseconds since the epoch, or `30m`, `2h`, `7d` ago.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    summary = "Calls on record, newest first",
    params(("client" = Option<String>, Query, description = "Only this client"), ("tool" = Option<String>, Query, description = "Only tool paths starting with this"), ("since" = Option<String>, Query, description = "Milliseconds since the epoch, or `30m`, `2h`, `7d` ago"), ("limit" = Option<u32>, Query, description = "At most this many (default 1000)")),
    responses((status = 200, description = "`{records}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let filter = match filter(&q, 1000) {
        Ok(f) => f,
        Err(message) => {
            return failure(
                StatusCode::BAD_REQUEST,
                error(ErrorCode::InvalidInput, message, None),
            );
        }
    };
    match state.audit.query(&state, &filter) {
        Ok(records) => success(json!({ "records": records })),
        Err(e) => failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::errors::internal_error(e, "read the audit log"),
        ),
    }
}

struct Row {
    when: String,
    who: String,
    via: String,
    tool: String,
    decision: String,
    outcome: String,
    ms: String,
    bytes: u64,
}

#[derive(Template)]
#[template(path = "web/audit.html")]
struct AuditPage {
    page: Page,
    client: String,
    tool: String,
    since: String,
    problem: String,
    rows: Vec<Row>,
}

/// `/audit`: the newest calls, filtered by client, tool and age.
pub async fn page_of_audit(
    State(state): State<Arc<AppState>>,
    Signed(csrf): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let text = |key: &str| q.get(key).cloned().unwrap_or_default();
    let (rows, problem) = match filter(&q, 200).map(|f| state.audit.query(&state, &f)) {
        Ok(Ok(records)) => (records, String::new()),
        Ok(Err(e)) => (Vec::new(), format!("The audit log could not be read: {e}")),
        Err(message) => (Vec::new(), message),
    };
    let rows = rows
        .into_iter()
        .map(|r| Row {
            when: crate::audit::utc(r.at),
            who: r.client.clone().unwrap_or_else(|| {
                if r.caller == "api" {
                    "owner"
                } else {
                    "MCP token"
                }
                .to_owned()
            }),
            via: r.via,
            tool: r.tool,
            decision: r.decision,
            outcome: r.outcome,
            ms: format!("{:.1}", r.duration_ms),
            bytes: r.bytes,
        })
        .collect();
    render(&AuditPage {
        page: page(&state, csrf),
        client: text("client"),
        tool: text("tool"),
        since: text("since"),
        problem,
        rows,
    })
    .into_response()
}

/// `1700000000000`, or an age: `45s`, `30m`, `2h`, `7d`.
pub fn since_ms(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    let unit = text.chars().last()?;
    let number = text.strip_suffix(unit)?.parse::<i64>().ok()?;
    let seconds = number.checked_mul(match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    })?;
    crate::store::now().checked_sub(seconds)?.checked_mul(1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_parse_and_bad_ones_do_not_panic() {
        let now = crate::store::now() * 1000;
        let two_hours = super::since_ms("2h").unwrap();
        assert!((now - two_hours - 7_200_000).abs() < 5_000);
        assert_eq!(super::since_ms("1700000000000"), Some(1_700_000_000_000));
        for bad in ["", "h", "1é", "é", "2w", "99999999999999999d", "-"] {
            assert_eq!(super::since_ms(bad), None, "{bad:?}");
        }
    }
}
