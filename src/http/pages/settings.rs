//! My notifications: how often each topic reaches me, when digests come, my time zone and my
//! language. One form, saved by one mutation (`updateNotificationSettings`) in one change.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::forms::checked;
use super::session::see_other;
use super::{Reader, not_available, page_with, query, run_as};
use crate::graphql::code_of;
use crate::http::HttpState;

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

async fn show(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<(String, String)>,
) -> Response {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        state,
        reader,
        include_str!("ops/notifications.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let frequency_of = |topic: &Value| {
        data["mySubscriptions"]
            .as_array()
            .and_then(|subs| subs.iter().find(|s| s["topic"]["id"] == topic["id"]))
            .and_then(|s| s["frequency"].as_str())
            .unwrap_or("OFF")
            .to_owned()
    };
    let topics: Vec<Value> = data["topics"]
        .as_array()
        .map(|topics| {
            topics
                .iter()
                .map(|t| json!({ "id": t["id"], "name": t["name"], "frequency": frequency_of(t) }))
                .collect()
        })
        .unwrap_or_default();
    let weekdays: Vec<Value> = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, key)| json!({ "value": i, "name": state.pages.text(reader.lang, key) }))
        .collect();
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    page_with(
        state,
        reader,
        status,
        "notifications.html",
        json!({
            "account": data["me"],
            "topics": topics,
            "weekdays": weekdays,
            "zones": zones,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "error": error.map(|(field, text)| json!({ "field": field, "text": text })),
        }),
        &[],
    )
}

/// `GET /me/notifications`.
pub async fn notifications(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return not_available(&state, &reader);
    }
    let notice = if reader.here.contains("saved=1") {
        Some("saved")
    } else if reader.here.contains("welcome=1") {
        Some("password_set")
    } else {
        None
    };
    show(&state, &reader, StatusCode::OK, notice, None).await
}

/// `POST /me/notifications`: saves the whole form in one change, then shows it again.
pub async fn save_notifications(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if reader.viewer.is_none() {
        return not_available(&state, &reader);
    }
    let topics: Vec<Value> = form
        .with_prefix("topic-")
        .map(|(id, frequency)| {
            let frequency = match frequency {
                "IMMEDIATE" | "DAILY" | "WEEKLY" => Value::String(frequency.to_owned()),
                _ => Value::Null,
            };
            json!({ "topicId": id, "frequency": frequency })
        })
        .collect();
    let number = |name: &str| form.get(name).and_then(|v| v.trim().parse::<i32>().ok());
    let locale = form
        .get("locale")
        .and_then(super::Lang::from_code)
        .map(super::Lang::graphql_locale);
    let input = json!({
        "displayName": form.get("display_name"),
        "digestHour": number("digest_hour"),
        "digestWeekday": number("digest_weekday"),
        "timeZone": form.get("time_zone").map(str::trim),
        "locale": locale,
        "topics": topics,
    });
    match run_as(
        &state,
        &reader,
        include_str!("ops/save_notifications.graphql"),
        json!({ "input": input }),
    )
    .await
    {
        // The pages follow the language just saved: a language chosen in this browser
        // earlier gives way to it.
        Ok(_) => see_other(
            "/me/notifications?saved=1",
            &[format!(
                "{}=; Path=/; Max-Age=0; SameSite=Lax",
                super::lang::COOKIE
            )],
        ),
        Err(errors) => {
            let code = code_of(&errors);
            let field = crate::graphql::field_of(&errors).unwrap_or_default();
            if code.as_deref() != Some("BAD_USER_INPUT") {
                tracing::error!(?errors, "saving notification settings");
                return super::error_page(&state, reader.lang);
            }
            let key = match field.as_str() {
                "digestHour" => "error_digest_hour",
                "digestWeekday" => "error_digest_weekday",
                "timeZone" => "error_time_zone",
                "displayName" => "error_display_name",
                _ => "error_topic",
            };
            let text = state.pages.text(reader.lang, key);
            show(
                &state,
                &reader,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some((field, text)),
            )
            .await
        }
    }
}
