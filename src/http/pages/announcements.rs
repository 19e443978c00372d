//! Announcements to staff through the mentors: the list (`/announcements`), sending one
//! (`/announcements/new`, contacts and leads) and one announcement's page, where the
//! addressed communities' mentors mark it relayed and the sender follows the coverage. Every
//! form runs the API's own mutation as the reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::forms::checked;
use super::session::{see_other, to_sign_in_from};
use super::work::{held, list};
use super::{Reader, not_available, page_with, query, run_as};
use crate::graphql::code_of;
use crate::http::HttpState;

/// `GET /announcements`: what the reader may read, newest first; for a mentor, those still
/// waiting for their community's relay are marked.
pub async fn announcements(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/announcements");
    }
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/announcements.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let mentor = held(&data, "MENTOR");
    let items: Vec<Value> = list(&data["announcements"]["nodes"])
        .map(|a| {
            let mut a = a.clone();
            let waiting = list(&a["targets"]).any(|t| {
                t["relayedAt"].is_null()
                    && t["community"]["id"]
                        .as_str()
                        .is_some_and(|id| mentor.iter().any(|m| m == id))
            });
            a["waiting"] = Value::Bool(waiting);
            a
        })
        .collect();
    let sends = senders(&data).next().is_some();
    page_with(
        &state,
        &reader,
        StatusCode::OK,
        "announcements.html",
        json!({ "items": items, "sends": sends }),
        &[],
    )
}

/// The organizations the reader sends announcements for (contact of a service unit, lead of
/// management).
fn senders(data: &Value) -> impl Iterator<Item = &Value> {
    list(&data["me"]["memberships"])
        .filter(|m| {
            matches!(
                (m["role"].as_str(), m["organization"]["kind"].as_str()),
                (Some("CONTACT"), Some("SERVICE_UNIT")) | (Some("LEAD"), Some("MANAGEMENT"))
            )
        })
        .map(|m| &m["organization"])
}

/// What the reader sent in the announcement form, with what went wrong.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    fields: serde_json::Map<String, Value>,
    communities: Vec<String>,
    topics: Vec<String>,
    error: Option<&'static str>,
}

/// `GET /announcements/new`.
pub async fn new_form(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/announcements/new");
    }
    show_form(&state, &reader, StatusCode::OK, None).await
}

async fn show_form(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    draft: Option<Draft>,
) -> Response {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        state,
        reader,
        include_str!("ops/announce_form.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let senders: Vec<&Value> = senders(&data).collect();
    if senders.is_empty() {
        return super::message(state, reader, StatusCode::FORBIDDEN, "not_your_role");
    }
    let communities: Vec<&Value> = list(&data["communities"])
        .filter(|o| matches!(o["kind"].as_str(), Some("FACULTY" | "EDUCATION_UNIT")))
        .collect();
    page_with(
        state,
        reader,
        status,
        "announce.html",
        json!({ "senders": senders, "communities": communities, "topics": data["topics"], "draft": draft }),
        &[],
    )
}

/// `POST /announcements/new`: sends it (`publishAnnouncement`) and opens its page.
pub async fn publish(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/announcements/new");
    }
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let communities: Vec<String> = form.all("community").map(str::to_owned).collect();
    let variables = json!({
        "org": form.text("organization"),
        "title": form.text("title"),
        "body": form.text("body"),
        "communities": communities,
        "all": form.get("all").is_some(),
        "staff": form.get("staff").is_some(),
        "topics": form.all("topic").collect::<Vec<_>>(),
    });
    match run_as(
        &state,
        &reader,
        include_str!("ops/publish_announcement.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => {
            let id = data["publishAnnouncement"]["id"]
                .as_str()
                .unwrap_or_default();
            see_other(&format!("/announcements/{id}?done=send"), &reader.cookies())
        }
        Err(errors) => {
            if code_of(&errors).as_deref() == Some("FORBIDDEN") {
                return super::message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
            }
            if code_of(&errors).as_deref() != Some("BAD_USER_INPUT") {
                tracing::error!(?errors, "sending an announcement");
                return super::error_page(&state, reader.lang);
            }
            let fields = ["organization", "title", "body", "all", "staff"]
                .into_iter()
                .map(|name| (name.to_owned(), Value::String(form.text(name))))
                .collect();
            let draft = Draft {
                fields,
                communities,
                topics: form.all("topic").map(str::to_owned).collect(),
                error: Some(match crate::graphql::field_of(&errors).as_deref() {
                    Some("title") => "error_title_text",
                    Some("communityIds") => "error_announcement_communities",
                    _ => "error_answer_text",
                }),
            };
            show_form(
                &state,
                &reader,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(draft),
            )
            .await
        }
    }
}

/// `GET /announcements/{id}`: the announcement, its coverage community by community, and for
/// a mentor of an addressed community that has not relayed it, the form to mark it relayed.
pub async fn announcement(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let done = super::reader::query_param(reader.here.split_once('?').map(|(_, q)| q), "done");
    let notice = match done.as_deref() {
        Some("send") => Some("saved_announcement"),
        Some("relay") => Some("saved_relay"),
        _ => None,
    };
    show(&state, &reader, &id, StatusCode::OK, notice, None).await
}

async fn show(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let data =
        match super::work::load_item(state, reader, id, include_str!("ops/announcement.graphql"))
            .await
        {
            Ok(data) => data,
            Err(response) => return response,
        };
    let item = &data["announcement"];
    if item.is_null() {
        return not_available(state, reader);
    }
    let mentor = held(&data, "MENTOR");
    let to_relay: Vec<&Value> = list(&item["targets"])
        .filter(|t| t["relayedAt"].is_null())
        .filter(|t| {
            t["community"]["id"]
                .as_str()
                .is_some_and(|id| mentor.iter().any(|m| m == id))
        })
        .map(|t| &t["community"])
        .collect();
    page_with(
        state,
        reader,
        status,
        "announcement.html",
        json!({
            "item": item,
            "to_relay": to_relay,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "error": error.map(|key| state.pages.text(reader.lang, key)),
        }),
        &[],
    )
}

/// `POST /announcements/{id}/relayed`: a mentor marks it relayed for their community.
pub async fn relayed(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (announcement, page_path, form) =
        match super::work::posted_to_item(&state, &reader, &headers, &body, "announcements", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let variables = json!({
        "id": announcement,
        "community": form.text("community"),
        "how": form.text("how"),
    });
    match run_as(
        &state,
        &reader,
        include_str!("ops/mark_relayed.graphql"),
        variables,
    )
    .await
    {
        Ok(_) => see_other(&format!("{page_path}?done=relay"), &reader.cookies()),
        Err(errors) => match code_of(&errors).as_deref() {
            Some("FORBIDDEN") => {
                super::message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role")
            }
            Some("NOT_FOUND") => not_available(&state, &reader),
            Some("BAD_USER_INPUT") => {
                show(
                    &state,
                    &reader,
                    &id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some("error_relay_how"),
                )
                .await
            }
            Some("CONFLICT") => {
                show(
                    &state,
                    &reader,
                    &id,
                    StatusCode::CONFLICT,
                    None,
                    Some("error_relayed_already"),
                )
                .await
            }
            _ => {
                tracing::error!(?errors, "marking an announcement relayed");
                super::error_page(&state, reader.lang)
            }
        },
    }
}
