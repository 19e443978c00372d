//! Trainings and community events: the open list (`/trainings`, filtered by organiser and
//! topic), one training's page (register, cancel a registration; for its organisers the
//! participant list and cancelling it), and the form to schedule or change one
//! (`/trainings/new`, `/trainings/{id}/edit`). Every form runs the API's own mutation as the
//! reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::forms::{Form, checked};
use super::public::param;
use super::session::{see_other, to_sign_in_from};
use super::work::{list, posted_to_item};
use super::{Reader, message, not_available, page_with, query, run_as};
use crate::graphql::{code_of, field_of};
use crate::http::HttpState;

/// `GET /trainings`: upcoming and past trainings, filtered by organiser (`?organizer=` an
/// organization's id, or `network`) and topic (`?topic=`).
pub async fn trainings(State(state): State<HttpState>, reader: Reader) -> Response {
    let organizer = param(&reader, "organizer");
    let network = organizer.as_deref() == Some("network");
    let organizer = organizer.filter(|o| Uuid::parse_str(o).is_ok());
    let topic = param(&reader, "topic").filter(|t| Uuid::parse_str(t).is_ok());
    let variables = json!({
        "locale": reader.lang.graphql_locale(),
        "organizer": organizer,
        "topic": topic,
        "network": network,
    });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/trainings.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let organizes = reader.viewer.as_ref().is_some_and(|v| {
        v.is_admin()
            || v.grants
                .iter()
                .any(|g| crate::trainings::service::can_manage(v, Some(g.organization_id)))
    });
    page_with(
        &state,
        &reader,
        StatusCode::OK,
        "trainings.html",
        json!({
            "data": data,
            "organizer": if network { Some("network".to_owned()) } else { organizer },
            "topic": topic,
            "filtered": network || param(&reader, "organizer").is_some() || param(&reader, "topic").is_some(),
            "organizes": organizes,
        }),
        &[],
    )
}

/// The organizations among `memberships` the reader organises trainings for: a community as
/// its mentor, a service unit as its contact, management as its lead.
fn organizers(memberships: &Value) -> Vec<&Value> {
    list(memberships)
        .filter(|m| {
            matches!(
                (m["role"].as_str(), m["organization"]["kind"].as_str()),
                (Some("MENTOR"), Some("FACULTY" | "EDUCATION_UNIT"))
                    | (Some("CONTACT"), Some("SERVICE_UNIT"))
                    | (Some("LEAD"), Some("MANAGEMENT"))
            )
        })
        .map(|m| &m["organization"])
        .collect()
}

/// `GET /trainings/{id}`: the training, places left, the reader's registration and the
/// buttons to register or cancel it; for its organisers the participant list.
pub async fn training(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let notice = match param(&reader, "done").as_deref() {
        Some("register") => Some("saved_registration"),
        Some("unregister") => Some("saved_unregistration"),
        Some("cancel") => Some("saved_training_cancelled"),
        Some("save") => Some("saved_training"),
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
    let Ok(id) = Uuid::parse_str(id) else {
        return message(state, reader, StatusCode::NOT_FOUND, "not_found");
    };
    let variables = json!({ "id": id, "locale": reader.lang.graphql_locale() });
    let data = match query(
        state,
        reader,
        include_str!("ops/training.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["training"];
    if item.is_null() {
        return message(state, reader, StatusCode::NOT_FOUND, "not_found");
    }
    let started = item["startsAt"]
        .as_str()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .is_some_and(|at| at <= Utc::now());
    let other_zone = reader
        .viewer
        .as_ref()
        .map_or("Europe/Helsinki", |v| v.user.time_zone.as_str())
        != item["timeZone"].as_str().unwrap_or_default();
    page_with(
        state,
        reader,
        status,
        "training.html",
        json!({
            "item": item,
            "started": started,
            "other_zone": other_zone,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "error": error.map(|key| state.pages.text(reader.lang, key)),
        }),
        &[],
    )
}

/// `POST /trainings/{id}/register`, `/unregister` and `/cancel`.
pub async fn act(
    State(state): State<HttpState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (training, page_path, form) =
        match posted_to_item(&state, &reader, &headers, &body, "trainings", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let (operation, variables) = match action.as_str() {
        "register" => (
            include_str!("ops/register_training.graphql"),
            json!({ "id": training }),
        ),
        "unregister" => (
            include_str!("ops/unregister_training.graphql"),
            json!({ "id": training }),
        ),
        "cancel" => (
            include_str!("ops/cancel_training.graphql"),
            json!({ "id": training, "reason": form.text("reason") }),
        ),
        _ => return message(&state, &reader, StatusCode::NOT_FOUND, "not_found"),
    };
    match run_as(&state, &reader, operation, variables).await {
        Ok(_) => see_other(&format!("{page_path}?done={action}"), &reader.cookies()),
        Err(errors) => {
            let error = match code_of(&errors).as_deref() {
                Some("FORBIDDEN") => {
                    return message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
                }
                Some("NOT_FOUND") => return not_available(&state, &reader),
                Some("CONFLICT") => (StatusCode::CONFLICT, "error_training_conflict"),
                Some("BAD_USER_INPUT") => (StatusCode::UNPROCESSABLE_ENTITY, "error_answer_text"),
                _ => {
                    tracing::error!(?errors, "acting on a training");
                    return super::error_page(&state, reader.lang);
                }
            };
            show(&state, &reader, &id, error.0, None, Some(error.1)).await
        }
    }
}

/// What the reader sent in the training form.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    organizer: String,
    title: String,
    description: String,
    date: String,
    start: String,
    end: String,
    zone: String,
    place: String,
    online: String,
    capacity: String,
    topics: Vec<String>,
}

impl Draft {
    fn from_form(form: &Form) -> Self {
        Self {
            organizer: form.text("organizer"),
            title: form.text("title"),
            description: form.text("description"),
            date: form.text("date"),
            start: form.text("start"),
            end: form.text("end"),
            zone: form.text("zone"),
            place: form.text("place"),
            online: form.text("online"),
            capacity: form.text("capacity"),
            topics: form.all("topic").map(str::to_owned).collect(),
        }
    }

    /// A training as the form shows it: its times in its own zone.
    fn of(item: &Value) -> Self {
        let zone = crate::values::time::zone_or_helsinki(item["timeZone"].as_str().unwrap_or(""));
        let local = |field: &str| {
            item[field]
                .as_str()
                .and_then(|s| s.parse::<DateTime<Utc>>().ok())
                .map(|at| at.with_timezone(&zone))
        };
        let starts = local("startsAt");
        let ends = local("endsAt");
        let text = |field: &str| item[field].as_str().unwrap_or_default().to_owned();
        Self {
            organizer: String::new(),
            title: text("title"),
            description: text("description"),
            date: starts
                .map(|s| s.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            start: starts
                .map(|s| s.format("%H:%M").to_string())
                .unwrap_or_default(),
            end: ends
                .map(|s| s.format("%H:%M").to_string())
                .unwrap_or_default(),
            zone: zone.name().to_owned(),
            place: text("place"),
            online: text("onlineUrl"),
            capacity: item["capacity"].to_string(),
            topics: list(&item["topics"])
                .filter_map(|t| t["id"].as_str().map(str::to_owned))
                .collect(),
        }
    }

    /// The `TrainingInput`; `Err` names what is wrong with the times.
    fn input(&self) -> Result<Value, &'static str> {
        let zone = crate::values::time::zone_or_helsinki(&self.zone);
        let date = NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d")
            .map_err(|_| "error_training_time")?;
        let at = |time: &str| -> Result<String, &'static str> {
            let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .map_err(|_| "error_training_time")?;
            date.and_time(time)
                .and_local_timezone(zone)
                .earliest()
                .map(|t| t.with_timezone(&Utc).to_rfc3339())
                .ok_or("error_training_time")
        };
        let capacity: i32 = self
            .capacity
            .trim()
            .parse()
            .map_err(|_| "error_training_capacity")?;
        Ok(json!({
            "title": self.title,
            "description": self.description,
            "startsAt": at(&self.start)?,
            "endsAt": at(&self.end)?,
            "timeZone": zone.name(),
            "place": self.place,
            "onlineUrl": self.online,
            "capacity": capacity,
            "topicIds": self.topics,
        }))
    }
}

/// `GET /trainings/new`.
pub async fn new_form(State(state): State<HttpState>, reader: Reader) -> Response {
    let Some(viewer) = &reader.viewer else {
        return to_sign_in_from(&reader, "/trainings/new");
    };
    let draft = Draft {
        zone: viewer.user.time_zone.clone(),
        capacity: "20".to_owned(),
        ..Draft::default()
    };
    show_form(&state, &reader, StatusCode::OK, None, draft, None).await
}

/// `GET /trainings/{id}/edit`: the form filled in with the training, for its organisers.
pub async fn edit_form(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return message(&state, &reader, StatusCode::NOT_FOUND, "not_found");
    };
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, &format!("/trainings/{id}/edit"));
    }
    let variables = json!({ "id": id, "locale": reader.lang.graphql_locale() });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/training_edit.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["training"];
    if item.is_null() {
        return message(&state, &reader, StatusCode::NOT_FOUND, "not_found");
    }
    if item["canManage"] != Value::Bool(true) || !item["cancelledAt"].is_null() {
        return message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
    }
    show_form(
        &state,
        &reader,
        StatusCode::OK,
        Some(id),
        Draft::of(item),
        None,
    )
    .await
}

async fn show_form(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    editing: Option<Uuid>,
    draft: Draft,
    error: Option<(&str, &str)>,
) -> Response {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    let data = match query(
        state,
        reader,
        include_str!("ops/training_form.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let admin = data["me"]["isAdmin"] == Value::Bool(true);
    let organizers = organizers(&data["me"]["memberships"]);
    if editing.is_none() && organizers.is_empty() && !admin {
        return message(state, reader, StatusCode::FORBIDDEN, "not_your_role");
    }
    page_with(
        state,
        reader,
        status,
        "training_form.html",
        json!({
            "editing": editing.map(|id| id.to_string()),
            "organizers": organizers,
            "admin": admin,
            "topics": data["topics"],
            "draft": draft,
            "error": error.map(|(_, key)| state.pages.text(reader.lang, key)),
            "field": error.map(|(field, _)| field),
        }),
        &[],
    )
}

/// `POST /trainings/new`: schedules it (`scheduleTraining`) and opens its page.
pub async fn schedule(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/trainings/new");
    }
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let draft = Draft::from_form(&form);
    let organizer = match draft.organizer.as_str() {
        "" | "network" => None,
        id => Some(id.to_owned()),
    };
    save(&state, &reader, None, draft, |input| {
        (
            include_str!("ops/schedule_training.graphql"),
            json!({ "organizer": organizer, "input": input }),
            "scheduleTraining",
        )
    })
    .await
}

/// `POST /trainings/{id}/edit`: changes it (`updateTraining`) and opens its page.
pub async fn update(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (training, _, form) =
        match posted_to_item(&state, &reader, &headers, &body, "trainings", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let draft = Draft::from_form(&form);
    save(&state, &reader, Some(training), draft, |input| {
        (
            include_str!("ops/update_training.graphql"),
            json!({ "id": training, "input": input }),
            "updateTraining",
        )
    })
    .await
}

async fn save(
    state: &HttpState,
    reader: &Reader,
    editing: Option<Uuid>,
    draft: Draft,
    operation: impl FnOnce(Value) -> (&'static str, Value, &'static str),
) -> Response {
    let input = match draft.input() {
        Ok(input) => input,
        Err(key) => {
            let field = if key == "error_training_capacity" {
                "capacity"
            } else {
                "date"
            };
            return show_form(
                state,
                reader,
                StatusCode::UNPROCESSABLE_ENTITY,
                editing,
                draft,
                Some((field, key)),
            )
            .await;
        }
    };
    let (operation, variables, root) = operation(input);
    match run_as(state, reader, operation, variables).await {
        Ok(data) => {
            let id = data[root]["id"].as_str().unwrap_or_default();
            see_other(&format!("/trainings/{id}?done=save"), &reader.cookies())
        }
        Err(errors) => match code_of(&errors).as_deref() {
            Some("FORBIDDEN") => message(state, reader, StatusCode::FORBIDDEN, "not_your_role"),
            Some("NOT_FOUND") => not_available(state, reader),
            Some("BAD_USER_INPUT") => {
                let (field, key) = match field_of(&errors).as_deref() {
                    Some("title") => ("title", "error_title_text"),
                    Some("startsAt" | "endsAt") => ("date", "error_training_time"),
                    Some("place") => ("place", "error_training_place"),
                    Some("onlineUrl") => ("online", "error_training_online"),
                    Some("capacity") => ("capacity", "error_training_capacity"),
                    Some("organizerId") => ("organizer", "not_your_role_text"),
                    _ => ("description", "error_answer_text"),
                };
                show_form(
                    state,
                    reader,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    editing,
                    draft,
                    Some((field, key)),
                )
                .await
            }
            Some("CONFLICT") => match editing {
                Some(id) => {
                    show(
                        state,
                        reader,
                        &id.to_string(),
                        StatusCode::CONFLICT,
                        None,
                        Some("error_training_conflict"),
                    )
                    .await
                }
                None => super::error_page(state, reader.lang),
            },
            _ => {
                tracing::error!(?errors, "saving a training");
                super::error_page(state, reader.lang)
            }
        },
    }
}
