//! Asking the communities: a lead (for management) or a contact (for a service unit) writes an
//! inquiry — Markdown with a preview, topics, a deadline in their own time zone, communities one
//! by one or all faculties / all education units / all — saves it as a draft or publishes it,
//! edits a draft, publishes or closes it. Every step runs the API's own mutation as the reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};

use super::forms::{Form, checked};
use super::session::{see_other, to_sign_in_from};
use super::work::{list, load_item};
use super::{Reader, not_available, page_with, query, run_as};
use crate::graphql::{code_of, field_of};
use crate::http::HttpState;

/// The form as the reader filled it (or as a draft holds it).
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Composed {
    organization: String,
    title: String,
    body: String,
    /// `YYYY-MM-DD` and `HH:MM` in the reader's zone.
    date: String,
    time: String,
    topics: Vec<String>,
    communities: Vec<String>,
    all: bool,
    all_faculties: bool,
    all_education: bool,
    share: bool,
}

impl Composed {
    fn from_form(form: &Form) -> Self {
        Self {
            organization: form.text("organization"),
            title: form.text("title"),
            body: form.text("body"),
            date: form.text("date"),
            time: form.text("time"),
            topics: form.all("topic").map(str::to_owned).collect(),
            communities: form.all("community").map(str::to_owned).collect(),
            all: form.get("all").is_some(),
            all_faculties: form.get("all_faculties").is_some(),
            all_education: form.get("all_education").is_some(),
            share: form.get("share").is_some(),
        }
    }

    fn from_draft(draft: &Value, zone: chrono_tz::Tz) -> Self {
        let ids = |value: &Value, path: &[&str]| -> Vec<String> {
            list(value)
                .filter_map(|item| {
                    path.iter()
                        .fold(item, |v, key| &v[*key])
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        };
        let deadline = draft["deadline"]
            .as_str()
            .and_then(|d| d.parse::<DateTime<Utc>>().ok())
            .map(|d| d.with_timezone(&zone));
        let all = draft["allCommunities"] == true;
        Self {
            organization: draft["organization"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            title: draft["title"].as_str().unwrap_or_default().to_owned(),
            body: draft["body"].as_str().unwrap_or_default().to_owned(),
            date: deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            time: deadline
                .map(|d| d.format("%H:%M").to_string())
                .unwrap_or_default(),
            topics: ids(&draft["topics"], &["id"]),
            communities: if all {
                Vec::new()
            } else {
                ids(&draft["targets"], &["community", "id"])
            },
            all,
            all_faculties: false,
            all_education: false,
            share: draft["answersShared"] == true,
        }
    }
}

/// The form's data: the organizations the reader asks for, communities by kind, topics, zone.
async fn form_data(state: &HttpState, reader: &Reader) -> Result<Value, Response> {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = query(
        state,
        reader,
        include_str!("ops/compose_form.graphql"),
        variables,
    )
    .await?;
    let asking: Vec<&Value> = list(&data["me"]["memberships"])
        .filter(|m| {
            matches!(
                (m["role"].as_str(), m["organization"]["kind"].as_str()),
                (Some("LEAD"), Some("MANAGEMENT")) | (Some("CONTACT"), Some("SERVICE_UNIT"))
            )
        })
        .map(|m| &m["organization"])
        .collect();
    if asking.is_empty() {
        return Err(super::message(
            state,
            reader,
            StatusCode::FORBIDDEN,
            "not_your_role",
        ));
    }
    let of_kind = |kind: &str| -> Vec<Value> {
        list(&data["communities"])
            .filter(|o| o["kind"] == kind)
            .cloned()
            .collect()
    };
    Ok(json!({
        "organizations": asking,
        "faculties": of_kind("FACULTY"),
        "education": of_kind("EDUCATION_UNIT"),
        "topics": data["topics"],
        "zone": data["me"]["timeZone"],
    }))
}

async fn show(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    draft_id: Option<&str>,
    composed: &Composed,
    error: Option<(Option<String>, &'static str)>,
    preview: bool,
) -> Response {
    let data = match form_data(state, reader).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let (field, key) = match error {
        Some((field, key)) => (field, Some(key)),
        None => (None, None),
    };
    page_with(
        state,
        reader,
        status,
        "compose.html",
        json!({
            "form": data,
            "c": composed,
            "draft_id": draft_id,
            "field": field,
            "error": key,
            "preview": preview,
        }),
        &[],
    )
}

/// `GET /inquiries/new`.
pub async fn new_form(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/inquiries/new");
    }
    show(
        &state,
        &reader,
        StatusCode::OK,
        None,
        &Composed::default(),
        None,
        false,
    )
    .await
}

/// `GET /inquiries/{id}/edit`: a draft in the form.
pub async fn edit_form(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let data = match load_item(&state, &reader, &id, include_str!("ops/draft.graphql")).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let draft = &data["inquiry"];
    if draft.is_null() {
        return not_available(&state, &reader);
    }
    if draft["status"] != "DRAFT" {
        return see_other(&format!("/inquiries/{id}"), &reader.cookies());
    }
    let zone = reader_zone(&reader);
    let composed = Composed::from_draft(draft, zone);
    show(
        &state,
        &reader,
        StatusCode::OK,
        Some(&id),
        &composed,
        None,
        false,
    )
    .await
}

fn reader_zone(reader: &Reader) -> chrono_tz::Tz {
    reader
        .viewer
        .as_ref()
        .and_then(|v| v.user.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Europe::Helsinki)
}

/// The deadline the reader gave, in their zone, as UTC; `Err` names the field.
fn deadline(composed: &Composed, zone: chrono_tz::Tz) -> Result<Option<String>, ()> {
    if composed.date.trim().is_empty() {
        return Ok(None);
    }
    let date = NaiveDate::parse_from_str(composed.date.trim(), "%Y-%m-%d").map_err(|_| ())?;
    let time = match composed.time.trim() {
        "" => NaiveTime::from_hms_opt(16, 0, 0).ok_or(())?,
        time => NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| ())?,
    };
    let local = date
        .and_time(time)
        .and_local_timezone(zone)
        .earliest()
        .ok_or(())?;
    Ok(Some(local.with_timezone(&Utc).to_rfc3339()))
}

/// The `CreateInquiryInput` of what the reader composed.
async fn input(
    state: &HttpState,
    reader: &Reader,
    composed: &Composed,
) -> Result<Value, (Option<String>, &'static str)> {
    let deadline = deadline(composed, reader_zone(reader))
        .map_err(|()| (Some("deadline".into()), "error_deadline"))?;
    let mut communities = composed.communities.clone();
    if composed.all_faculties || composed.all_education {
        let data = form_data(state, reader)
            .await
            .map_err(|_| (None, "error_answer_text"))?;
        for (wanted, kind) in [
            (composed.all_faculties, "faculties"),
            (composed.all_education, "education"),
        ] {
            if wanted {
                communities
                    .extend(list(&data[kind]).filter_map(|o| o["id"].as_str().map(str::to_owned)));
            }
        }
    }
    communities.sort();
    communities.dedup();
    Ok(json!({
        "organizationId": composed.organization,
        "title": composed.title,
        "body": composed.body,
        "topicIds": composed.topics,
        "deadline": deadline,
        "communityIds": if composed.all { Vec::new() } else { communities },
        "allCommunities": composed.all,
        "shareAnswers": composed.share,
    }))
}

/// The error text for a refusal of the API, by the field it names.
fn error_key(errors: &[async_graphql::ServerError]) -> Option<(Option<String>, &'static str)> {
    let field = field_of(errors);
    let key = match (code_of(errors).as_deref(), field.as_deref()) {
        (Some("BAD_USER_INPUT"), Some("title")) => "error_title_text",
        (Some("BAD_USER_INPUT"), Some("deadline")) => "error_deadline",
        (Some("BAD_USER_INPUT"), Some("communityIds")) => "error_communities",
        (Some("BAD_USER_INPUT"), Some("organizationId")) => "error_organization",
        (Some("BAD_USER_INPUT"), _) => "error_answer_text",
        (Some("CONFLICT"), _) => "error_not_a_draft",
        _ => return None,
    };
    Some((field, key))
}

/// `POST /inquiries/new` and `POST /inquiries/{id}/edit`: preview, save the draft, or save and
/// publish (`action=publish`).
async fn save(
    state: &HttpState,
    reader: &Reader,
    headers: &HeaderMap,
    body: &Bytes,
    draft_id: Option<&str>,
) -> Response {
    let here = draft_id.map_or("/inquiries/new".to_owned(), |id| {
        format!("/inquiries/{id}/edit")
    });
    if reader.viewer.is_none() {
        return to_sign_in_from(reader, &here);
    }
    let form = match checked(state, headers, reader, body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let composed = Composed::from_form(&form);
    if form.get("preview").is_some() {
        return show(
            state,
            reader,
            StatusCode::OK,
            draft_id,
            &composed,
            None,
            true,
        )
        .await;
    }
    let refused = |error| {
        show(
            state,
            reader,
            StatusCode::UNPROCESSABLE_ENTITY,
            draft_id,
            &composed,
            Some(error),
            false,
        )
    };
    let input = match input(state, reader, &composed).await {
        Ok(input) => input,
        Err(error) => return refused(error).await,
    };
    let saved = match draft_id {
        None => super::run_once(
            state,
            reader,
            include_str!("ops/create_inquiry.graphql"),
            json!({ "input": input, "key": form.get("once") }),
        )
        .await
        .map(|data| {
            data["createInquiry"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }),
        Some(id) => run_as(
            state,
            reader,
            include_str!("ops/update_inquiry.graphql"),
            json!({ "id": id, "input": input }),
        )
        .await
        .map(|_| id.to_owned()),
    };
    let id = match saved {
        Ok(id) => id,
        Err(errors) => {
            return match error_key(&errors) {
                Some(error) => refused(error).await,
                None => refused_page(state, reader, &errors),
            };
        }
    };
    if form.get("action") != Some("publish") {
        return see_other(&format!("/inquiries/{id}?done=draft"), &reader.cookies());
    }
    match run_as(
        state,
        reader,
        include_str!("ops/publish_inquiry.graphql"),
        json!({ "id": id }),
    )
    .await
    {
        Ok(_) => see_other(&format!("/inquiries/{id}?done=publish"), &reader.cookies()),
        // Saved as a draft, not published: the draft's form says why.
        Err(errors) => match error_key(&errors) {
            Some(error) => {
                show(
                    state,
                    reader,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&id),
                    &composed,
                    Some(error),
                    false,
                )
                .await
            }
            None => refused_page(state, reader, &errors),
        },
    }
}

fn refused_page(
    state: &HttpState,
    reader: &Reader,
    errors: &[async_graphql::ServerError],
) -> Response {
    match code_of(errors).as_deref() {
        Some("FORBIDDEN") => super::message(state, reader, StatusCode::FORBIDDEN, "not_your_role"),
        Some("NOT_FOUND") => not_available(state, reader),
        _ => {
            tracing::error!(?errors, "saving an inquiry");
            super::error_page(state, reader.lang)
        }
    }
}

/// `POST /inquiries/new`.
pub async fn create(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    save(&state, &reader, &headers, &body, None).await
}

/// `POST /inquiries/{id}/edit`.
pub async fn update(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if uuid::Uuid::parse_str(&id).is_err() {
        return not_available(&state, &reader);
    }
    save(&state, &reader, &headers, &body, Some(&id)).await
}

/// A CSV cell: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@` or tab made harmless so
/// a spreadsheet never runs an answer as a formula.
fn cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// `GET /inquiries/{id}/answers.csv`: every answer the reader may read, one community a row
/// (UTF-8 with a byte order mark, so spreadsheets read the letters right).
pub async fn answers_csv(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    use axum::response::IntoResponse;
    let data = match super::work::load_inquiry(&state, &reader, &id).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["inquiry"];
    let t = |key: &str| state.pages.text(reader.lang, key);
    let zone = reader_zone(&reader);
    let mut out = String::from("\u{feff}");
    let header = [
        t("csv_community"),
        t("state"),
        t("csv_answered_by"),
        t("csv_answered_at"),
        t("answer"),
        t("decline_reason"),
    ];
    out.push_str(&header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for target in list(&item["targets"]) {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let at = target["answeredAt"]
            .as_str()
            .and_then(|a| a.parse::<DateTime<Utc>>().ok())
            .map(|a| a.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let status = t(&format!(
            "target_{}",
            target["status"].as_str().unwrap_or_default().to_lowercase()
        ));
        let row = [
            text(&target["community"]["name"]),
            status,
            text(&target["answeredBy"]["displayName"]),
            at,
            text(&target["answer"]),
            text(&target["declineReason"]),
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let name: String = item["title"]
        .as_str()
        .unwrap_or("inquiry")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"answers.csv\"; filename*=UTF-8''{}.csv",
                    url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
                ),
            ),
            (
                axum::http::header::CACHE_CONTROL,
                "private, no-store".to_owned(),
            ),
        ],
        out,
    )
        .into_response()
}

/// `GET /inquiries/{id}/print`: the question and every answer the reader may read side by side,
/// laid out for paper.
pub async fn print(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let data = match super::work::load_inquiry(&state, &reader, &id).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["inquiry"];
    super::page(&state, &reader, "print.html", json!({ "item": item }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_quoted_and_never_a_formula() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "\"'-1\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }

    proptest::proptest! {
        /// Whatever the text, the cell is one quoted field: it starts and ends with a quote,
        /// every inner quote is doubled, and no formula character leads.
        #[test]
        fn any_text_is_one_safe_cell(text in "\\PC*|[=+@\\-\"\\t\\r\\n,;a-z]{0,30}") {
            let quoted = cell(&text);
            proptest::prop_assert!(quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'));
            let inner = &quoted[1..quoted.len() - 1];
            proptest::prop_assert!(!inner.replace("\"\"", "").contains('"'));
            proptest::prop_assert!(!inner.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
    }
}
