//! Development projects: the network-wide list (`/projects`, filtered by community, topic and
//! state), one project's page (join, leave, progress updates, promoting an outcome to the tips
//! bank, adding and taking off people), and the form to start or change one
//! (`/projects/new`, `/projects/{id}/edit`). Every form runs the API's own mutation as the
//! reader.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use serde_json::{Value, json};
use uuid::Uuid;

use super::forms::{Form, checked};
use super::public::param;
use super::session::{see_other, to_sign_in_from};
use super::work::{list, posted_to_item};
use super::{Reader, message, not_available, page_with, query, run_as};
use crate::graphql::{code_of, field_of};
use crate::http::HttpState;

const STATUSES: [&str; 3] = ["PLANNED", "ACTIVE", "FINISHED"];

/// `GET /projects`: projects across the network the reader may read, filtered by community
/// (`?community=`), topic (`?topic=`) and state (`?status=`).
pub async fn projects(State(state): State<HttpState>, reader: Reader) -> Response {
    let community = param(&reader, "community").filter(|c| Uuid::parse_str(c).is_ok());
    let topic = param(&reader, "topic").filter(|t| Uuid::parse_str(t).is_ok());
    let status = param(&reader, "status").filter(|s| STATUSES.contains(&s.as_str()));
    let variables = json!({
        "locale": reader.lang.graphql_locale(),
        "community": community,
        "topic": topic,
        "status": status,
    });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/projects.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let starts = reader.viewer.as_ref().is_some_and(|v| {
        v.is_admin()
            || v.grants
                .iter()
                .any(|g| g.role == entity::membership::Role::Mentor)
    });
    let communities: Vec<&Value> = list(&data["organizations"])
        .filter(|o| matches!(o["kind"].as_str(), Some("FACULTY" | "EDUCATION_UNIT")))
        .collect();
    page_with(
        &state,
        &reader,
        StatusCode::OK,
        "projects.html",
        json!({
            "data": data,
            "communities": communities,
            "community": community,
            "topic": topic,
            "status": status,
            "statuses": STATUSES,
            "filtered": community.is_some() || topic.is_some() || status.is_some(),
            "starts": starts,
        }),
        &[],
    )
}

/// `GET /projects/{id}`.
pub async fn project(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let notice = match param(&reader, "done").as_deref() {
        Some("join") => Some("saved_project_joined"),
        Some("leave") => Some("saved_project_left"),
        Some("update") => Some("saved_project_update"),
        Some("promote") => Some("saved_project_promoted"),
        Some("add") => Some("saved_project_added"),
        Some("remove") => Some("saved_project_removed"),
        Some("save") => Some("saved_project"),
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
        include_str!("ops/project.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["project"];
    if item.is_null() {
        return not_available(state, reader);
    }
    // Whom a digimentor could add: the community's people not in it yet.
    let inside: Vec<&str> = list(&item["people"])
        .filter_map(|p| p["person"]["id"].as_str())
        .collect();
    let mut addable: Vec<&Value> = list(&item["community"]["staff"])
        .map(|m| &m["person"])
        .filter(|p| p["id"].as_str().is_some_and(|id| !inside.contains(&id)))
        .collect();
    addable.dedup_by(|a, b| a["id"] == b["id"]);
    page_with(
        state,
        reader,
        status,
        "project.html",
        json!({
            "item": item,
            "addable": addable,
            "notice": notice.map(|key| state.pages.text(reader.lang, key)),
            "error": error.map(|key| state.pages.text(reader.lang, key)),
        }),
        &[],
    )
}

/// `POST /projects/{id}/{action}`: `join`, `leave`, `update` (a progress update), `promote`
/// (an update's outcome to the tips bank), `add` and `remove` (someone, by a digimentor).
pub async fn act(
    State(state): State<HttpState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (project, page_path, form) =
        match posted_to_item(&state, &reader, &headers, &body, "projects", &id) {
            Ok(posted) => posted,
            Err(refused) => return refused,
        };
    let person = Some(form.text("person")).filter(|p| !p.is_empty());
    let (operation, variables) = match action.as_str() {
        "join" => (
            include_str!("ops/join_project.graphql"),
            json!({ "id": project, "user": null }),
        ),
        "add" => (
            include_str!("ops/join_project.graphql"),
            json!({ "id": project, "user": person }),
        ),
        "leave" => (
            include_str!("ops/leave_project.graphql"),
            json!({ "id": project, "user": null }),
        ),
        "remove" => (
            include_str!("ops/leave_project.graphql"),
            json!({ "id": project, "user": person }),
        ),
        "update" => (
            include_str!("ops/post_project_update.graphql"),
            json!({ "id": project, "body": form.text("body") }),
        ),
        "promote" => (
            include_str!("ops/promote_project_outcome.graphql"),
            json!({ "update": form.text("update"), "title": form.text("title") }),
        ),
        _ => return message(&state, &reader, StatusCode::NOT_FOUND, "not_found"),
    };
    match run_as(&state, &reader, operation, variables).await {
        Ok(_) => see_other(&format!("{page_path}?done={action}"), &reader.cookies()),
        Err(errors) => {
            let (status, key) = match code_of(&errors).as_deref() {
                Some("FORBIDDEN") => {
                    return message(&state, &reader, StatusCode::FORBIDDEN, "not_your_role");
                }
                Some("NOT_FOUND") => return not_available(&state, &reader),
                Some("CONFLICT") if action == "leave" => {
                    (StatusCode::CONFLICT, "error_last_coordinator")
                }
                Some("CONFLICT") => (StatusCode::CONFLICT, "error_project_conflict"),
                Some("BAD_USER_INPUT") => match field_of(&errors).as_deref() {
                    Some("title") => (StatusCode::UNPROCESSABLE_ENTITY, "error_title_text"),
                    _ => (StatusCode::UNPROCESSABLE_ENTITY, "error_answer_text"),
                },
                _ => {
                    tracing::error!(?errors, "acting on a project");
                    return super::error_page(&state, reader.lang);
                }
            };
            show(&state, &reader, &id, status, None, Some(key)).await
        }
    }
}

/// What the reader sent in the project form.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct Draft {
    community: String,
    name: String,
    goal: String,
    /// `year|goal`, or empty.
    plan_goal: String,
    status: String,
    starts_on: String,
    ends_on: String,
    internal: bool,
    topics: Vec<String>,
}

impl Draft {
    fn from_form(form: &Form) -> Self {
        Self {
            community: form.text("community"),
            name: form.text("name"),
            goal: form.text("goal"),
            plan_goal: form.text("plan_goal"),
            status: form.text("status"),
            starts_on: form.text("starts_on"),
            ends_on: form.text("ends_on"),
            internal: form.get("internal").is_some(),
            topics: form.all("topic").map(str::to_owned).collect(),
        }
    }

    fn of(item: &Value) -> Self {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        Self {
            community: text(&item["community"]["id"]),
            name: text(&item["name"]),
            goal: text(&item["goal"]),
            plan_goal: match (
                item["planGoal"]["year"].as_i64(),
                item["planGoal"]["goal"].as_str(),
            ) {
                (Some(year), Some(goal)) => format!("{year}|{goal}"),
                _ => String::new(),
            },
            status: text(&item["status"]),
            starts_on: text(&item["startsOn"]),
            ends_on: text(&item["endsOn"]),
            internal: item["internal"] == Value::Bool(true),
            topics: list(&item["topics"])
                .filter_map(|t| t["id"].as_str().map(str::to_owned))
                .collect(),
        }
    }

    /// The `ProjectInput`.
    fn input(&self) -> Value {
        let (year, goal) = match self.plan_goal.split_once('|') {
            Some((year, goal)) => (year.parse::<i32>().ok(), Some(goal.to_owned())),
            None => (None, None),
        };
        let date = |d: &str| Some(d.trim().to_owned()).filter(|d| !d.is_empty());
        json!({
            "name": self.name,
            "goal": self.goal,
            "planYear": year,
            "planGoal": goal,
            "status": if STATUSES.contains(&self.status.as_str()) { self.status.as_str() } else { "PLANNED" },
            "startsOn": date(&self.starts_on),
            "endsOn": date(&self.ends_on),
            "internal": self.internal,
            "topicIds": self.topics,
        })
    }
}

/// `GET /projects/new`.
pub async fn new_form(State(state): State<HttpState>, reader: Reader) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/projects/new");
    }
    let draft = Draft {
        status: "PLANNED".to_owned(),
        ..Draft::default()
    };
    show_form(&state, &reader, StatusCode::OK, None, draft, None).await
}

/// `GET /projects/{id}/edit`: for the community's digimentors.
pub async fn edit_form(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return message(&state, &reader, StatusCode::NOT_FOUND, "not_found");
    };
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, &format!("/projects/{id}/edit"));
    }
    let data = match query(
        &state,
        &reader,
        include_str!("ops/project_edit.graphql"),
        json!({ "id": id }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let item = &data["project"];
    if item.is_null() {
        return not_available(&state, &reader);
    }
    if item["canManage"] != Value::Bool(true) {
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
    let data = match query(
        state,
        reader,
        include_str!("ops/project_form.graphql"),
        json!({ "locale": reader.lang.graphql_locale() }),
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let admin = data["me"]["isAdmin"] == Value::Bool(true);
    let mentor_of: Vec<&str> = list(&data["me"]["memberships"])
        .filter(|m| m["role"] == "MENTOR")
        .filter_map(|m| m["organization"]["id"].as_str())
        .collect();
    let communities: Vec<&Value> = list(&data["organizations"])
        .filter(|o| o["isCommunity"] == Value::Bool(true))
        .filter(|o| match editing {
            Some(_) => o["id"].as_str() == Some(draft.community.as_str()),
            None => admin || o["id"].as_str().is_some_and(|id| mentor_of.contains(&id)),
        })
        .collect();
    if communities.is_empty() {
        return message(state, reader, StatusCode::FORBIDDEN, "not_your_role");
    }
    // The goals of this year's and next year's plans of each community offered.
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .year();
    let mut goals = Vec::new();
    for community in &communities {
        let variables = json!({ "slug": community["slug"], "year": year, "next": year + 1 });
        let plans = match query(
            state,
            reader,
            include_str!("ops/plan_goals.graphql"),
            variables,
        )
        .await
        {
            Ok(plans) => plans,
            Err(response) => return response,
        };
        for plan in [&plans["this"], &plans["next"]] {
            let Some(plan_year) = plan["year"].as_i64() else {
                continue;
            };
            for goal in list(&plan["goalItems"]).filter_map(Value::as_str) {
                goals.push(json!({
                    "value": format!("{plan_year}|{goal}"),
                    "label": format!("{} {plan_year}: {goal}", community["name"].as_str().unwrap_or_default()),
                }));
            }
        }
    }
    page_with(
        state,
        reader,
        status,
        "project_form.html",
        json!({
            "editing": editing.map(|id| id.to_string()),
            "communities": communities,
            "goals": goals,
            "statuses": STATUSES,
            "topics": data["topics"],
            "draft": draft,
            "error": error.map(|(_, key)| state.pages.text(reader.lang, key)),
            "field": error.map(|(field, _)| field),
        }),
        &[],
    )
}

/// `POST /projects/new`: starts it (`createProject`) and opens its page.
pub async fn create(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if reader.viewer.is_none() {
        return to_sign_in_from(&reader, "/projects/new");
    }
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let draft = Draft::from_form(&form);
    let variables = json!({ "community": draft.community, "input": draft.input() });
    save(
        &state,
        &reader,
        None,
        draft,
        include_str!("ops/create_project.graphql"),
        variables,
        "createProject",
    )
    .await
}

/// `POST /projects/{id}/edit`: changes it (`updateProject`).
pub async fn update(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let (project, _, form) = match posted_to_item(&state, &reader, &headers, &body, "projects", &id)
    {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let draft = Draft::from_form(&form);
    let variables = json!({ "id": project, "input": draft.input() });
    save(
        &state,
        &reader,
        Some(project),
        draft,
        include_str!("ops/update_project.graphql"),
        variables,
        "updateProject",
    )
    .await
}

async fn save(
    state: &HttpState,
    reader: &Reader,
    editing: Option<Uuid>,
    draft: Draft,
    operation: &'static str,
    variables: Value,
    root: &str,
) -> Response {
    match run_as(state, reader, operation, variables).await {
        Ok(data) => {
            let id = data[root]["id"].as_str().unwrap_or_default();
            see_other(&format!("/projects/{id}?done=save"), &reader.cookies())
        }
        Err(errors) => match code_of(&errors).as_deref() {
            Some("FORBIDDEN") => message(state, reader, StatusCode::FORBIDDEN, "not_your_role"),
            Some("NOT_FOUND") => not_available(state, reader),
            Some("BAD_USER_INPUT") => {
                let (field, key) = match field_of(&errors).as_deref() {
                    Some("name") => ("name", "error_title_text"),
                    Some("goal") => ("goal", "error_answer_text"),
                    Some("endsOn" | "startsOn") => ("ends_on", "error_project_dates"),
                    Some("planYear" | "planGoal") => ("plan_goal", "error_project_plan_goal"),
                    Some("communityId") => ("community", "not_your_role_text"),
                    _ => ("goal", "error_answer_text"),
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
            _ => {
                tracing::error!(?errors, "saving a project");
                super::error_page(state, reader.lang)
            }
        },
    }
}
