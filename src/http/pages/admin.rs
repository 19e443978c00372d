//! The administrators' pages (`/admin`, admins only): people and roles, organizations and
//! topics, the outbox, and the audit log. Each page is the API's admin query run as its reader
//! and each form the API's admin mutation, so a page shows and does exactly what the API lets
//! an administrator do, and every change lands in the audit log.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::forms::checked;
use super::reader::query_param;
use super::session::{see_other, to_sign_in_from};
use super::{Reader, page_with, run_as};
use crate::graphql::code_of;
use crate::http::HttpState;

/// The reader's query string.
fn query_string(reader: &Reader) -> Option<&str> {
    reader.here.split_once('?').map(|(_, q)| q)
}

/// A query parameter, trimmed, `None` when empty.
fn param(reader: &Reader, name: &str) -> Option<String> {
    query_param(query_string(reader), name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// What the page shows above its content: the notice after a change, or what went wrong.
fn notice(state: &HttpState, reader: &Reader) -> Option<String> {
    (param(reader, "done").as_deref() == Some("1"))
        .then(|| state.pages.text(reader.lang, "admin_done"))
}

/// Runs an admin page's query; a visitor is sent to sign in, anyone but an admin gets 403.
async fn admin_query(
    state: &HttpState,
    reader: &Reader,
    page: &str,
    operation: &'static str,
    variables: Value,
) -> Result<Value, Response> {
    if reader.viewer.is_none() {
        return Err(to_sign_in_from(reader, page));
    }
    match run_as(state, reader, operation, variables).await {
        // Names and topics are public; the page and its forms are an administrator's.
        Ok(data) if data["me"]["isAdmin"] != true => Err(super::message(
            state,
            reader,
            StatusCode::FORBIDDEN,
            "not_your_role",
        )),
        Ok(data) => Ok(data),
        Err(errors) => Err(match code_of(&errors).as_deref() {
            Some("FORBIDDEN") => {
                super::message(state, reader, StatusCode::FORBIDDEN, "not_your_role")
            }
            Some("BAD_USER_INPUT") => {
                super::message(state, reader, StatusCode::BAD_REQUEST, "bad_address")
            }
            _ => {
                tracing::error!(?errors, page, "an admin page's query");
                super::error_page(state, reader.lang)
            }
        }),
    }
}

/// The address of the next page of a list, keeping the reader's filters.
fn next_page(path: &str, filters: &[(&str, Option<String>)], info: &Value) -> Option<String> {
    if info["hasNextPage"] != true {
        return None;
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.append_pair("after", info["endCursor"].as_str()?);
    Some(format!("{path}?{}", query.finish()))
}

/// `GET /admin`.
pub async fn hub(State(state): State<HttpState>, reader: Reader) -> Response {
    // The hub links only; its query proves the reader is an admin.
    let checked = admin_query(
        &state,
        &reader,
        "/admin",
        include_str!("ops/admin_audit.graphql"),
        json!({}),
    )
    .await;
    match checked {
        Ok(_) => page_with(
            &state,
            &reader,
            StatusCode::OK,
            "admin.html",
            json!({}),
            &[],
        ),
        Err(response) => response,
    }
}

/// `GET /admin/people?search=&active=`.
pub async fn people(State(state): State<HttpState>, reader: Reader) -> Response {
    people_page(&state, &reader, StatusCode::OK, None).await
}

async fn people_page(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let search = param(reader, "search");
    let active = param(reader, "active").filter(|a| a == "true" || a == "false");
    let variables = json!({
        "locale": reader.lang.graphql_locale(),
        "search": search,
        "active": active.as_deref().map(|a| a == "true"),
        "after": param(reader, "after"),
    });
    let data = match admin_query(
        state,
        reader,
        "/admin/people",
        include_str!("ops/admin_people.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let next = next_page(
        "/admin/people",
        &[("search", search.clone()), ("active", active.clone())],
        &data["users"]["pageInfo"],
    );
    page_with(
        state,
        reader,
        status,
        "admin_people.html",
        json!({
            "people": data["users"]["nodes"],
            "organizations": data["organizations"],
            "search": search.unwrap_or_default(),
            "active": active,
            "next": next,
            "notice": notice(state, reader),
            "error": error,
        }),
        &[],
    )
}

/// `GET /admin/organizations`.
pub async fn organizations(State(state): State<HttpState>, reader: Reader) -> Response {
    organizations_page(&state, &reader, StatusCode::OK, None).await
}

async fn organizations_page(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let data = match admin_query(
        state,
        reader,
        "/admin/organizations",
        include_str!("ops/admin_organizations.graphql"),
        json!({ "locale": reader.lang.graphql_locale() }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    page_with(
        state,
        reader,
        status,
        "admin_organizations.html",
        json!({
            "organizations": data["organizations"],
            "topics": data["topics"],
            "notice": notice(state, reader),
            "error": error,
        }),
        &[],
    )
}

/// The states the outbox page lists, the failed ones first.
const STATUSES: [&str; 4] = ["DEAD", "BOUNCED", "PENDING", "SENT"];

/// `GET /admin/outbox?status=`.
pub async fn outbox(State(state): State<HttpState>, reader: Reader) -> Response {
    outbox_page(&state, &reader, StatusCode::OK, None).await
}

async fn outbox_page(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let shown = param(reader, "status")
        .filter(|s| STATUSES.contains(&s.as_str()))
        .unwrap_or_else(|| STATUSES[0].to_owned());
    let data = match admin_query(
        state,
        reader,
        "/admin/outbox",
        include_str!("ops/admin_outbox.graphql"),
        json!({ "status": shown, "after": param(reader, "after") }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let next = next_page(
        "/admin/outbox",
        &[("status", Some(shown.clone()))],
        &data["deliveries"]["pageInfo"],
    );
    page_with(
        state,
        reader,
        status,
        "admin_outbox.html",
        json!({
            "status": shown,
            "deliveries": data["deliveries"]["nodes"],
            "suspended": data["suspendedAddresses"],
            "next": next,
            "notice": notice(state, reader),
            "error": error,
        }),
        &[],
    )
}

/// `GET /admin/audit?action=`.
pub async fn audit(State(state): State<HttpState>, reader: Reader) -> Response {
    let action = param(&reader, "action");
    let data = match admin_query(
        &state,
        &reader,
        "/admin/audit",
        include_str!("ops/admin_audit.graphql"),
        json!({ "action": action, "after": param(&reader, "after") }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    // Before and after, indented for reading.
    let pretty = |text: &Value| {
        text.as_str().map(|t| {
            serde_json::from_str::<Value>(t)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| t.to_owned())
        })
    };
    let entries: Vec<Value> = super::work::list(&data["auditLog"]["nodes"])
        .map(|e| {
            let mut e = e.clone();
            e["before"] = json!(pretty(&e["before"]));
            e["after"] = json!(pretty(&e["after"]));
            e
        })
        .collect();
    let next = next_page(
        "/admin/audit",
        &[("action", action.clone())],
        &data["auditLog"]["pageInfo"],
    );
    page_with(
        &state,
        &reader,
        StatusCode::OK,
        "admin_audit.html",
        json!({
            "entries": entries,
            "action": action.unwrap_or_default(),
            "next": next,
        }),
        &[],
    )
}

/// Which admin page a form belongs to.
#[derive(Clone, Copy)]
enum Section {
    People,
    Organizations,
    Outbox,
}

impl Section {
    fn path(self) -> &'static str {
        match self {
            Self::People => "/admin/people",
            Self::Organizations => "/admin/organizations",
            Self::Outbox => "/admin/outbox",
        }
    }
}

/// `POST /admin/{kind}/{id}/{action}`: one admin action, run as the API's mutation; back to
/// the page it was sent from with a notice, or that page again with what went wrong.
pub async fn act(
    State(state): State<HttpState>,
    Path((kind, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/admin");
    }
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let names =
        || json!({ "id": id, "fi": form.text("fi"), "sv": form.text("sv"), "en": form.text("en") });
    let (section, operation, variables): (Section, &'static str, Value) = match (
        kind.as_str(),
        action.as_str(),
    ) {
        ("people", "deactivate") => (
            Section::People,
            include_str!("ops/admin_deactivate_user.graphql"),
            json!({ "id": id }),
        ),
        ("people", "reactivate") => (
            Section::People,
            include_str!("ops/admin_reactivate_user.graphql"),
            json!({ "id": id }),
        ),
        // Erasure cannot be undone: the form asks for a tick first.
        ("people", "erase") if form.get("confirm") != Some("yes") => {
            let error = Some(state.pages.text(reader.lang, "admin_error_confirm"));
            return people_page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, error).await;
        }
        ("people", "erase") => (
            Section::People,
            include_str!("ops/admin_erase_person.graphql"),
            json!({ "id": id }),
        ),
        ("people", "add-role") => (
            Section::People,
            include_str!("ops/admin_add_membership.graphql"),
            json!({ "id": id, "organization": form.text("organization"), "role": form.text("role") }),
        ),
        ("memberships", "remove") => (
            Section::People,
            include_str!("ops/admin_remove_membership.graphql"),
            json!({ "id": id }),
        ),
        ("organizations", "rename") => (
            Section::Organizations,
            include_str!("ops/admin_update_organization.graphql"),
            names(),
        ),
        ("topics", "rename") => (
            Section::Organizations,
            include_str!("ops/admin_update_topic.graphql"),
            names(),
        ),
        ("topics", "merge") => (
            Section::Organizations,
            include_str!("ops/admin_merge_topics.graphql"),
            json!({ "id": form.text("from"), "into": form.text("into") }),
        ),
        ("outbox", "retry") => (
            Section::Outbox,
            include_str!("ops/admin_retry_delivery.graphql"),
            json!({ "id": id }),
        ),
        ("outbox", "resume") => (
            Section::Outbox,
            include_str!("ops/admin_resume_email.graphql"),
            json!({ "id": id }),
        ),
        _ => return super::not_available(&state, &reader),
    };
    match run_as(&state, &reader, operation, variables).await {
        Ok(_) => see_other(&format!("{}?done=1", section.path()), &[]),
        Err(errors) => {
            let (status, key) = match code_of(&errors).as_deref() {
                Some("FORBIDDEN") => {
                    return super::message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
                }
                Some("NOT_FOUND") => return super::not_available(&state, &reader),
                Some("CONFLICT") => (StatusCode::CONFLICT, "admin_error_conflict"),
                Some("BAD_USER_INPUT") => {
                    let field = crate::graphql::field_of(&errors).unwrap_or_default();
                    let key = if field.starts_with("name") {
                        "admin_error_names"
                    } else {
                        "admin_error_input"
                    };
                    (StatusCode::UNPROCESSABLE_ENTITY, key)
                }
                _ => {
                    tracing::error!(?errors, "an admin form");
                    return super::error_page(&state, reader.lang);
                }
            };
            let error = Some(state.pages.text(reader.lang, key));
            match section {
                Section::People => people_page(&state, &reader, status, error).await,
                Section::Organizations => organizations_page(&state, &reader, status, error).await,
                Section::Outbox => outbox_page(&state, &reader, status, error).await,
            }
        }
    }
}

/// `POST /admin/topics/merge`: the merge form has no id in its address.
pub async fn merge_topics(
    state: State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    act(
        state,
        Path(("topics".to_owned(), String::new(), "merge".to_owned())),
        headers,
        reader,
        body,
    )
    .await
}

/// `GET /me/data.json`: everything the service holds about the reader, as a download.
pub async fn my_data(State(state): State<HttpState>, reader: Reader) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/me/notifications");
    }
    match run_as(
        &state,
        &reader,
        include_str!("ops/my_data.graphql"),
        json!({}),
    )
    .await
    {
        Ok(data) => {
            let body = data["myData"].as_str().unwrap_or("{}").to_owned();
            (
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"digimentor-my-data.json\"",
                    ),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response()
        }
        Err(errors) => {
            tracing::error!(?errors, "downloading one's data");
            super::error_page(&state, reader.lang)
        }
    }
}
