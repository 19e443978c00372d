//! The signed-in reader's own pages: what waits for them ("My work"), and the inquiry and
//! question pages with what their reader may see of them. A visitor is sent to sign in first; a
//! reader who may not see one gets "not available".

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::forms::checked;
use super::{Reader, not_available, page, page_with, query, run_as};
use crate::graphql::{code_of, field_of};
use crate::http::HttpState;

/// `GET /me`: what waits for the reader, by the roles they hold — for a mentor, the open
/// inquiries still pending for their community (nearest deadline first, overdue marked) and the
/// staff questions to handle; for a contact, the questions forwarded to their unit; for a lead
/// or contact, their organization's inquiries with coverage; for everyone, their own questions.
pub async fn my_work(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return not_available(&state, &reader);
    }
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/my_work.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    page(
        &state,
        &reader,
        "my_work.html",
        json!({ "work": sort_work(&data, Utc::now()), "follow": "events" }),
    )
}

/// The organizations where the reader holds `role`.
pub(super) fn held(data: &Value, role: &str) -> Vec<String> {
    list(&data["me"]["memberships"])
        .filter(|m| m["role"] == role)
        .filter_map(|m| m["organization"]["id"].as_str().map(str::to_owned))
        .collect()
}

pub(super) fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

pub(super) fn id_in(value: &Value, ids: &[String]) -> bool {
    value.as_str().is_some_and(|id| ids.iter().any(|i| i == id))
}

/// Sorts the page's data into its sections (only what the API let the reader read).
fn sort_work(data: &Value, now: DateTime<Utc>) -> Value {
    let mentor = held(data, "MENTOR");
    let contact = held(data, "CONTACT");
    let asking: Vec<String> = held(data, "LEAD")
        .into_iter()
        .chain(contact.clone())
        .collect();
    let me = data["me"]["id"].clone();
    let mut waiting: Vec<Value> = list(&data["waiting"]["nodes"])
        .flat_map(|inquiry| {
            let mentor = &mentor;
            list(&inquiry["targets"])
                .filter(move |t| t["status"] == "PENDING" && id_in(&t["community"]["id"], mentor))
                .map(move |t| {
                    let deadline = inquiry["deadline"].as_str();
                    let overdue = deadline
                        .and_then(|d| d.parse::<DateTime<Utc>>().ok())
                        .is_some_and(|d| d < now);
                    json!({
                        "id": inquiry["id"],
                        "title": inquiry["title"],
                        "inquirer": inquiry["organization"]["name"],
                        "community": t["community"]["name"],
                        "deadline": deadline,
                        "overdue": overdue,
                    })
                })
        })
        .collect();
    // Nearest deadline first; those without one last.
    waiting.sort_by_key(|slot| {
        slot["deadline"]
            .as_str()
            .and_then(|d| d.parse::<DateTime<Utc>>().ok())
            .map_or((1, DateTime::<Utc>::MAX_UTC), |d| (0, d))
    });
    let questions: Vec<&Value> = list(&data["questions"]["nodes"]).collect();
    let triage: Vec<&Value> = questions
        .iter()
        .copied()
        .filter(|q| q["status"] == "SUBMITTED" && id_in(&q["community"]["id"], &mentor))
        .collect();
    let forwarded: Vec<&Value> = questions
        .iter()
        .copied()
        .filter(|q| q["status"] == "FORWARDED" && id_in(&q["serviceUnit"]["id"], &contact))
        .collect();
    let mine: Vec<&Value> = questions
        .iter()
        .copied()
        .filter(|q| q["asker"]["id"] == me)
        .collect();
    let inquiries: Vec<&Value> = list(&data["inquiries"]["nodes"])
        .filter(|i| id_in(&i["organization"]["id"], &asking))
        .collect();
    json!({
        "mentor": !mentor.is_empty(),
        "contact": !contact.is_empty(),
        "asks": !asking.is_empty(),
        "waiting": waiting,
        "triage": triage,
        "forwarded": forwarded,
        "inquiries": inquiries,
        "mine": mine,
    })
}

/// A signed-in reader's item page's data: the operation run for the id of the address, or the
/// page to answer instead (sign in, "not available", the error page).
pub(super) async fn load_item(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    operation: &'static str,
) -> Result<Value, Response> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_available(state, reader));
    };
    if reader.viewer.is_none() {
        return Err(not_available(state, reader));
    }
    let variables = json!({ "id": id, "locale": reader.lang.graphql_locale() });
    query(state, reader, operation, variables).await
}

/// An inquiry page's data (the inquiry with the reader's roles), or the page to answer instead;
/// an inquiry the reader may not read is "not available".
pub(super) async fn load_inquiry(
    state: &HttpState,
    reader: &Reader,
    id: &str,
) -> Result<Value, Response> {
    let data = load_item(state, reader, id, include_str!("ops/inquiry.graphql")).await?;
    if data["inquiry"].is_null() {
        return Err(not_available(state, reader));
    }
    Ok(data)
}

/// What the reader wrote in one of an inquiry page's forms, shown again with the page: to
/// preview it, or with what went wrong beside the field.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    /// `answer`, `decline` or `message`.
    form: String,
    /// The target (slot) the form is about.
    target: String,
    text: String,
    /// The key of the error text, if the API refused it.
    error: Option<&'static str>,
    /// A co-mentor changed the answer meanwhile: the page shows theirs beside this one.
    conflict: bool,
    /// Show the text rendered, as it would be saved.
    preview: bool,
}

/// `GET /inquiries/{id}`: title, body, state, deadline, coverage and the answers the reader
/// may see; for a mentor of an addressed community, the forms that answer or decline for it and
/// its follow-up thread; for the inquiring side, the follow-up threads.
pub async fn inquiry(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let done = super::reader::query_param(reader.here.split_once('?').map(|(_, q)| q), "done");
    let notice = match done.as_deref() {
        Some("answer") => Some("saved_answer"),
        Some("decline") => Some("saved_decline"),
        Some("message") => Some("saved_message"),
        Some("promote") => Some("saved_promote"),
        Some("draft") => Some("saved_draft"),
        Some("publish") => Some("saved_publish"),
        Some("close") => Some("saved_inquiry_close"),
        _ => None,
    };
    show_inquiry(&state, &reader, &id, StatusCode::OK, notice, None).await
}

async fn show_inquiry(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    draft: Option<Draft>,
) -> Response {
    let data = match load_inquiry(state, reader, id).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["inquiry"];
    let mentor = held(&data, "MENTOR");
    let inquirer = held(&data, "LEAD")
        .into_iter()
        .chain(held(&data, "CONTACT"))
        .any(|org| item["organization"]["id"] == org.as_str());
    let open = item["status"] == "OPEN";
    // Each pending slot past the deadline is marked overdue.
    let past = item["deadline"]
        .as_str()
        .and_then(|d| d.parse::<DateTime<Utc>>().ok())
        .is_some_and(|d| d < Utc::now());
    let overdue: Vec<&Value> = list(&item["targets"])
        .filter(|t| past && t["status"] == "PENDING")
        .map(|t| &t["id"])
        .collect();
    // Which slots the reader may act on: the forms are offered by role, the API decides.
    let mine: Vec<&Value> = list(&item["targets"])
        .filter(|t| id_in(&t["community"]["id"], &mentor))
        .map(|t| &t["id"])
        .collect();
    page_with(
        state,
        reader,
        status,
        "inquiry.html",
        json!({
            "item": item,
            "mine": mine,
            "open": open,
            "inquirer": inquirer,
            "overdue": overdue,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "draft": draft,
            "follow": format!("inquiry:{id}"),
        }),
        &[],
    )
}

/// `POST /inquiries/{id}/{action}` (`answer`, `decline`, `message`, `promote`): runs the API's
/// own mutation as the reader. Success sends the browser back to the page with a confirmation
/// (so reloading sends nothing twice); a refusal shows the page again with the reader's text
/// and the reason beside the field; a co-mentor's newer answer is shown beside the reader's,
/// to take theirs or to save over it knowingly.
pub async fn act_on_inquiry(
    State(state): State<HttpState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (inquiry, page_path, form) =
        match posted_to_item(&state, &reader, &headers, &body, "inquiries", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let operation = match action.as_str() {
        "answer" => include_str!("ops/answer_inquiry.graphql"),
        "decline" => include_str!("ops/decline_inquiry.graphql"),
        "message" => include_str!("ops/post_inquiry_message.graphql"),
        "promote" => include_str!("ops/promote_answer.graphql"),
        "publish" => include_str!("ops/publish_inquiry.graphql"),
        "close" => include_str!("ops/close_inquiry.graphql"),
        _ => return super::message(&state, &reader, StatusCode::NOT_FOUND, "not_found"),
    };
    let target = form.text("target");
    let text = form.text("body");
    let mut draft = Draft {
        form: action.clone(),
        target: target.clone(),
        text: text.clone(),
        ..Draft::default()
    };
    if form.get("preview").is_some() {
        draft.preview = true;
        return show_inquiry(&state, &reader, &id, StatusCode::OK, None, Some(draft)).await;
    }
    let version: i64 = form.text("version").trim().parse().unwrap_or(-1);
    let variables = match action.as_str() {
        "publish" | "close" => json!({ "id": inquiry }),
        "promote" => json!({ "target": target }),
        "message" => json!({ "target": target, "body": text, "key": form.get("once") }),
        _ => json!({ "target": target, "body": text, "version": version }),
    };
    let errors = match super::run_once(&state, &reader, operation, variables).await {
        Ok(_) => return done(&page_path, &action, &target, &reader),
        Err(errors) => errors,
    };
    let (status, error) = match (code_of(&errors).as_deref(), field_of(&errors).as_deref()) {
        (Some("CONFLICT"), Some("expectedVersion")) => {
            // A second press of the same button finds its own text saved: that is success.
            if action == "answer" && saved_already(&state, &reader, inquiry, &target, &text).await {
                return done(&page_path, &action, &target, &reader);
            }
            draft.conflict = true;
            (StatusCode::CONFLICT, None)
        }
        (Some("CONFLICT"), _) => (StatusCode::CONFLICT, Some("error_inquiry_closed")),
        (Some("BAD_USER_INPUT"), _) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some("error_answer_text"))
        }
        (Some("FORBIDDEN"), _) => {
            return super::message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
        }
        (Some("NOT_FOUND"), _) => return not_available(&state, &reader),
        _ => {
            tracing::error!(?errors, %action, "acting on an inquiry");
            return super::error_page(&state, reader.lang);
        }
    };
    draft.error = error;
    show_inquiry(&state, &reader, &id, status, None, Some(draft)).await
}

/// A form posted to an item's page (`/{section}/{id}/…`): the item's id, its page's path and
/// the form — or the answer instead: "not available" for an id that is none, sign in (and back
/// to the page) without a session, the refusal of a forged post. (The error is the page to
/// answer, made once per request, like [`checked`]'s.)
#[allow(clippy::result_large_err)]
pub(super) fn posted_to_item(
    state: &HttpState,
    reader: &Reader,
    headers: &HeaderMap,
    body: &Bytes,
    section: &str,
    id: &str,
) -> Result<(Uuid, String, super::forms::Form), Response> {
    let Ok(item) = Uuid::parse_str(id) else {
        return Err(not_available(state, reader));
    };
    let page_path = format!("/{section}/{item}");
    if reader.viewer.is_none() {
        return Err(super::session::to_sign_in_from(reader, &page_path));
    }
    let form = checked(state, headers, reader, body)?;
    Ok((item, page_path, form))
}

/// Back to the inquiry's page at the slot, with a confirmation of `action`.
fn done(page_path: &str, action: &str, target: &str, reader: &Reader) -> Response {
    let anchor: String = target
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    // Publishing and closing are about the whole inquiry: no slot to scroll to.
    let fragment = if anchor.is_empty() {
        String::new()
    } else {
        format!("#target-{anchor}")
    };
    super::session::see_other(
        &format!("{page_path}?done={action}{fragment}"),
        &reader.cookies(),
    )
}

/// Whether the slot's answer is already exactly `text` (the same form sent twice).
async fn saved_already(
    state: &HttpState,
    reader: &Reader,
    inquiry: Uuid,
    target: &str,
    text: &str,
) -> bool {
    let variables = json!({ "id": inquiry, "locale": reader.lang.graphql_locale() });
    let Ok(data) = run_as(
        state,
        reader,
        include_str!("ops/inquiry.graphql"),
        variables,
    )
    .await
    else {
        return false;
    };
    list(&data["inquiry"]["targets"]).any(|t| {
        t["id"] == target && t["status"] == "ANSWERED" && t["answer"].as_str() == Some(text.trim())
    })
}
