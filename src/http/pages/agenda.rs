//! The network's agenda (`/agenda`, signed in): digimentors propose items for the network
//! meeting and support each other's; the chair (an admin) sets a coming meeting's items from
//! them. Every form runs the API's own mutation as the reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::forms::checked;
use super::session::{see_other, to_sign_in_from};
use super::work::list;
use super::{Reader, page_with, query, run_as};
use crate::graphql::code_of;
use crate::http::HttpState;

/// `GET /agenda`.
pub async fn agenda(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/agenda");
    }
    let done = super::reader::query_param(reader.here.split_once('?').map(|(_, q)| q), "done");
    let notice = match done.as_deref() {
        Some("propose") => Some("saved_agenda_item"),
        Some("support") => Some("saved_support"),
        Some("set") => Some("saved_agenda"),
        _ => None,
    };
    show(&state, &reader, StatusCode::OK, notice, None).await
}

/// What the reader sent in the proposal form, with what went wrong.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    title: String,
    body: String,
    error: Option<&'static str>,
}

async fn show(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    notice: Option<&str>,
    draft: Option<Draft>,
) -> Response {
    let data = match query(
        state,
        reader,
        include_str!("ops/agenda.graphql"),
        json!({ "locale": reader.lang.graphql_locale() }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let chair = data["me"]["isAdmin"] == true;
    let mentor = list(&data["me"]["memberships"]).any(|m| m["role"] == "MENTOR");
    let me = reader.viewer.as_ref().map(|v| v.id().to_string());
    let proposed: Vec<Value> = list(&data["agendaItems"])
        .filter(|i| i["status"] == "PROPOSED")
        .map(|item| {
            let mut item = item.clone();
            let own = me
                .as_deref()
                .is_some_and(|me| item["proposedBy"]["id"] == me);
            item["own"] = Value::Bool(own);
            item
        })
        .collect();
    page_with(
        state,
        reader,
        status,
        "agenda.html",
        json!({
            "proposed": proposed,
            "meetings": data["meetings"],
            "topics": data["topics"],
            "may_propose": chair || mentor,
            "chair": chair,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "draft": draft,
        }),
        &[],
    )
}

/// The page for a refusal: 403 for a role the API refuses, the page again with the reason
/// for what the reader can put right.
async fn refused(
    state: &HttpState,
    reader: &Reader,
    errors: &[async_graphql::ServerError],
    draft: Draft,
) -> Response {
    match code_of(errors).as_deref() {
        Some("FORBIDDEN") => super::message(state, reader, StatusCode::FORBIDDEN, "not_your_role"),
        Some("BAD_USER_INPUT") => {
            let draft = Draft {
                error: Some("error_agenda_item"),
                ..draft
            };
            show(
                state,
                reader,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(draft),
            )
            .await
        }
        Some("CONFLICT" | "NOT_FOUND") => {
            let draft = Draft {
                error: Some("error_agenda_moved_on"),
                ..draft
            };
            show(state, reader, StatusCode::CONFLICT, None, Some(draft)).await
        }
        _ => {
            tracing::error!(?errors, "the agenda's form");
            super::error_page(state, reader.lang)
        }
    }
}

/// `POST /agenda`: a digimentor proposes an item.
pub async fn propose(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    act(&state, Action::Propose, &headers, &reader, &body).await
}

/// `POST /agenda/{id}/support`: a digimentor supports an item (`supported=false` withdraws).
pub async fn support(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    act(&state, Action::Support(id), &headers, &reader, &body).await
}

/// `POST /agenda/{meeting}/set`: the chair sets a coming meeting's items, in the order sent.
pub async fn set(
    State(state): State<HttpState>,
    Path(meeting): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    act(&state, Action::Set(meeting), &headers, &reader, &body).await
}

enum Action {
    Propose,
    Support(String),
    Set(String),
}

async fn act(
    state: &HttpState,
    action: Action,
    headers: &HeaderMap,
    reader: &Reader,
    body: &[u8],
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(reader, "/agenda");
    }
    let form = match checked(state, headers, reader, body) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let (operation, variables, done): (&'static str, Value, &str) = match action {
        Action::Propose => (
            include_str!("ops/propose_agenda_item.graphql"),
            json!({
                "title": form.text("title"),
                "body": form.text("body"),
                "topics": form.all("topic").collect::<Vec<_>>(),
            }),
            "propose",
        ),
        Action::Support(id) => (
            include_str!("ops/support_agenda_item.graphql"),
            json!({ "id": id, "supported": form.text("supported") != "false" }),
            "support",
        ),
        Action::Set(meeting) => (
            include_str!("ops/set_meeting_agenda.graphql"),
            json!({ "meeting": meeting, "items": form.all("item").collect::<Vec<_>>() }),
            "set",
        ),
    };
    let draft = Draft {
        title: form.text("title"),
        body: form.text("body"),
        error: None,
    };
    match run_as(state, reader, operation, variables).await {
        Ok(_) => see_other(&format!("/agenda?done={done}"), &reader.cookies()),
        Err(errors) => refused(state, reader, &errors, draft).await,
    }
}
