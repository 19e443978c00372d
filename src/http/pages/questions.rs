//! Questions from staff up through their mentors: asking (`/questions/new`), and on a question's
//! page the steps the reader's role allows — a mentor answers, forwards to a service unit (with
//! or without the asker's name) or closes it, perhaps as a duplicate; a contact of the unit it
//! was forwarded to answers. Every form runs the API's own mutation as the reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::forms::{Form, checked};
use super::session::{see_other, to_sign_in_from};
use super::work::{held, id_in, list};
use super::{Reader, not_available, page_with, query, run_as};
use crate::graphql::{code_of, field_of};
use crate::http::HttpState;

/// What the reader wrote in a form of these pages, shown again with what went wrong.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    /// `ask`, `answer`, `forward` or `close`.
    form: String,
    /// Each field as sent.
    fields: serde_json::Map<String, Value>,
    /// Which field the error is about, and the key of its text.
    field: Option<String>,
    error: Option<&'static str>,
    preview: bool,
}

/// Every field of these pages' forms, as the reader last sent them (empty when not sent), for
/// the templates to fill the fields again.
fn sent_fields(draft: Option<&Draft>) -> Value {
    let mut fields: serde_json::Map<String, Value> = [
        "community",
        "title",
        "body",
        "hide",
        "topics",
        "unit",
        "note",
        "reason",
        "duplicate",
        "kind",
        "decision",
        "why",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), Value::String(String::new())))
    .collect();
    if let Some(draft) = draft {
        fields.extend(draft.fields.clone());
    }
    Value::Object(fields)
}

impl Draft {
    fn of(form: &str, sent: &Form, names: &[&str]) -> Self {
        let fields = names
            .iter()
            .map(|name| ((*name).to_owned(), Value::String(sent.text(name))))
            .collect();
        Self {
            form: form.to_owned(),
            fields,
            ..Self::default()
        }
    }
}

/// `GET /questions/new`: the form that asks the reader's mentors.
pub async fn ask_form(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/questions/new");
    }
    show_ask(&state, &reader, StatusCode::OK, None).await
}

async fn show_ask(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    draft: Option<Draft>,
) -> Response {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        state,
        reader,
        include_str!("ops/ask_form.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    // The communities the reader belongs to (the API lets members and mentors ask there).
    let communities: Vec<&Value> = list(&data["me"]["memberships"])
        .filter(|m| matches!(m["role"].as_str(), Some("MEMBER" | "MENTOR")))
        .filter(|m| {
            matches!(
                m["organization"]["kind"].as_str(),
                Some("FACULTY" | "EDUCATION_UNIT")
            )
        })
        .map(|m| &m["organization"])
        .collect();
    let chosen_topics: Vec<String> = draft
        .as_ref()
        .and_then(|d| d.fields.get("topics"))
        .and_then(Value::as_str)
        .map(|t| t.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    page_with(
        state,
        reader,
        status,
        "ask_question.html",
        json!({
            "communities": communities,
            "topics": data["topics"],
            "chosen_topics": chosen_topics,
            "d": sent_fields(draft.as_ref()),
            "draft": draft,
        }),
        &[],
    )
}

/// `POST /questions/new`: asks (`askQuestion`) and opens the new question's page.
pub async fn ask(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/questions/new");
    }
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let topics: Vec<String> = form.all("topic").map(str::to_owned).collect();
    let mut draft = Draft::of(
        "ask",
        &form,
        &["community", "title", "body", "hide", "kind"],
    );
    draft
        .fields
        .insert("topics".into(), Value::String(topics.join(",")));
    if form.get("preview").is_some() {
        draft.preview = true;
        return show_ask(&state, &reader, StatusCode::OK, Some(draft)).await;
    }
    let variables = json!({
        "community": form.text("community"),
        "title": form.text("title"),
        "body": form.text("body"),
        "topics": topics,
        "hide": form.get("hide").is_some(),
        "kind": match form.text("kind").as_str() {
            "wish" => "WISH",
            "view" => "VIEW",
            _ => "QUESTION",
        },
        "key": form.get("once"),
    });
    match super::run_once(
        &state,
        &reader,
        include_str!("ops/ask_question.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => {
            let id = data["askQuestion"]["id"].as_str().unwrap_or_default();
            see_other(&format!("/questions/{id}?done=ask"), &reader.cookies())
        }
        Err(errors) => {
            let Some((status, field, key)) = refusal(&errors, "ask") else {
                return refused_page(&state, &reader, &errors, "asking a question");
            };
            draft.field = field;
            draft.error = Some(key);
            show_ask(&state, &reader, status, Some(draft)).await
        }
    }
}

/// The page's status, the field and the error text's key for a refusal shown beside a field;
/// `None` for one that is a page of its own.
fn refusal(
    errors: &[async_graphql::ServerError],
    action: &str,
) -> Option<(StatusCode, Option<String>, &'static str)> {
    let field = field_of(errors);
    match code_of(errors).as_deref() {
        Some("BAD_USER_INPUT") => {
            let key = match (action, field.as_deref()) {
                ("decide", Some("reason")) => "error_decision_reason",
                (_, field) => match field {
                    Some("title") => "error_title_text",
                    Some("communityId") => "error_community",
                    Some("serviceUnitId") => "error_service_unit",
                    Some("duplicateOf") => "error_duplicate",
                    _ => "error_answer_text",
                },
            };
            Some((StatusCode::UNPROCESSABLE_ENTITY, field, key))
        }
        Some("CONFLICT") => Some((StatusCode::CONFLICT, None, "error_question_moved_on")),
        _ => None,
    }
}

/// The page for a refusal that is not about a field: 403 for a role the API refuses, "not
/// available" for what the reader may not read, else the error page.
fn refused_page(
    state: &HttpState,
    reader: &Reader,
    errors: &[async_graphql::ServerError],
    what: &str,
) -> Response {
    match code_of(errors).as_deref() {
        Some("FORBIDDEN") => super::message(state, reader, StatusCode::FORBIDDEN, "not_your_role"),
        Some("NOT_FOUND") => not_available(state, reader),
        _ => {
            tracing::error!(?errors, what, "a question's form");
            super::error_page(state, reader.lang)
        }
    }
}

/// `GET /questions/{id}`: the question, its state and each step it has taken, with the forms
/// the reader's role allows.
pub async fn question(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let done = super::reader::query_param(reader.here.split_once('?').map(|(_, q)| q), "done");
    let notice = match done.as_deref() {
        Some("ask") => Some("saved_question"),
        Some("answer") => Some("saved_question_answer"),
        Some("forward") => Some("saved_forward"),
        Some("close") => Some("saved_close"),
        Some("decide") => Some("saved_decision"),
        _ => None,
    };
    show_question(&state, &reader, &id, StatusCode::OK, notice, None).await
}

async fn show_question(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    draft: Option<Draft>,
) -> Response {
    let data = match super::work::load_item(state, reader, id, include_str!("ops/question.graphql"))
        .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["question"];
    if item.is_null() {
        return not_available(state, reader);
    }
    let mentor = id_in(&item["community"]["id"], &held(&data, "MENTOR"));
    let contact = id_in(&item["serviceUnit"]["id"], &held(&data, "CONTACT"));
    let triage = mentor && item["status"] == "SUBMITTED";
    // The unit it was forwarded to decides about a wish or a view, and may change it later.
    let decides = contact
        && item["kind"] != "QUESTION"
        && matches!(item["status"].as_str(), Some("FORWARDED" | "ANSWERED"));
    let answers =
        (mentor && item["status"] == "SUBMITTED") || (contact && item["status"] == "FORWARDED");
    let others: Vec<Value> = if triage {
        let variables = json!({ "community": item["community"]["id"] });
        match query(
            state,
            reader,
            include_str!("ops/community_questions.graphql"),
            variables,
        )
        .await
        {
            Ok(found) => list(&found["questions"]["nodes"])
                .filter(|q| q["id"] != item["id"])
                .cloned()
                .collect(),
            Err(response) => return response,
        }
    } else {
        Vec::new()
    };
    page_with(
        state,
        reader,
        status,
        "question.html",
        json!({
            "item": item,
            "triage": triage,
            "answers": answers,
            "decides": decides,
            "units": data["serviceUnits"],
            "others": others,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "d": sent_fields(draft.as_ref()),
            "draft": draft,
            "follow": "events",
        }),
        &[],
    )
}

/// `POST /questions/{id}/{action}` (`answer`, `forward`, `close`).
pub async fn act_on_question(
    State(state): State<HttpState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (question, page_path, form) =
        match super::work::posted_to_item(&state, &reader, &headers, &body, "questions", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let optional = |name: &str| Some(form.text(name)).filter(|v| !v.trim().is_empty());
    let (operation, variables, names): (&'static str, Value, &[&str]) = match action.as_str() {
        "answer" => (
            include_str!("ops/answer_question.graphql"),
            json!({ "question": question, "body": form.text("body") }),
            &["body"],
        ),
        "forward" => (
            include_str!("ops/forward_question.graphql"),
            json!({
                "question": question,
                "unit": form.text("unit"),
                "note": optional("note"),
                "hide": form.get("hide").is_some(),
            }),
            &["unit", "note", "hide"],
        ),
        "close" => (
            include_str!("ops/close_question.graphql"),
            json!({
                "question": question,
                "reason": form.text("reason"),
                "duplicate": optional("duplicate"),
            }),
            &["reason", "duplicate"],
        ),
        "decide" => (
            include_str!("ops/decide_question.graphql"),
            json!({
                "question": question,
                "decision": form.text("decision").to_uppercase(),
                "reason": optional("why"),
            }),
            &["decision", "why"],
        ),
        _ => return super::message(&state, &reader, StatusCode::NOT_FOUND, "not_found"),
    };
    let mut draft = Draft::of(&action, &form, names);
    if form.get("preview").is_some() {
        draft.preview = true;
        return show_question(&state, &reader, &id, StatusCode::OK, None, Some(draft)).await;
    }
    match run_as(&state, &reader, operation, variables).await {
        Ok(_) => see_other(&format!("{page_path}?done={action}"), &reader.cookies()),
        Err(errors) => {
            let Some((status, field, key)) = refusal(&errors, &action) else {
                return refused_page(&state, &reader, &errors, &action);
            };
            draft.field = field;
            draft.error = Some(key);
            show_question(&state, &reader, &id, status, None, Some(draft)).await
        }
    }
}
