//! The open pages: news, meetings, the tips bank, contacts and communities.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use serde_json::{Value, json};
use uuid::Uuid;

use super::reader::query_param;
use super::{Reader, message, page, query};
use crate::http::HttpState;

/// Longest search accepted from the tips page (longer input is cut, never refused).
const MAX_SEARCH: usize = 200;

/// The query parameter `name`, when the reader's URL has one that is not empty.
pub(super) fn param(reader: &Reader, name: &str) -> Option<String> {
    query_param(reader.here.split_once('?').map(|(_, q)| q), name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The data of a page's query; a null `field` (not found, or not the reader's) is a 404 page.
async fn one(
    state: &HttpState,
    reader: &Reader,
    operation: &'static str,
    variables: Value,
    field: &str,
) -> Result<Value, Response> {
    let data = query(state, reader, operation, variables).await?;
    match data.get(field) {
        Some(found) if !found.is_null() => Ok(found.clone()),
        _ => Err(message(state, reader, StatusCode::NOT_FOUND, "not_found")),
    }
}

/// A page about one thing, by the id in its path: the operation's `field` goes into the
/// template as `name` (beside `extra`); a malformed id or nothing found is the 404 page.
async fn by_id(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    operation: &'static str,
    (field, name, template): (&str, &str, &str),
    mut extra: Value,
) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found(state, reader);
    };
    let variables = json!({ "id": id, "locale": reader.lang.graphql_locale() });
    match one(state, reader, operation, variables, field).await {
        Ok(found) => {
            if let Value::Object(map) = &mut extra {
                map.insert(name.to_owned(), found);
            }
            page(state, reader, template, extra)
        }
        Err(response) => response,
    }
}

fn not_found(state: &HttpState, reader: &Reader) -> Response {
    message(state, reader, StatusCode::NOT_FOUND, "not_found")
}

/// `GET /news`: the news column, newest first, ten a page (`?after=` continues).
pub async fn news(State(state): State<HttpState>, reader: Reader) -> Response {
    let after = param(&reader, "after");
    let variables = json!({ "after": after, "locale": reader.lang.graphql_locale() });
    match query(&state, &reader, include_str!("ops/news.graphql"), variables).await {
        Ok(data) => page(
            &state,
            &reader,
            "news.html",
            json!({ "data": data, "paged": after.is_some() }),
        ),
        Err(response) => response,
    }
}

/// `GET /news/{id}`: one post; a meeting's report links its meeting.
pub async fn news_post(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let operation = include_str!("ops/news_post.graphql");
    let names = ("newsPost", "post", "news_post.html");
    by_id(&state, &reader, &id, operation, names, json!({})).await
}

/// `GET /meetings`: coming meetings and past ones with their reports.
pub async fn meetings(State(state): State<HttpState>, reader: Reader) -> Response {
    match query(
        &state,
        &reader,
        include_str!("ops/meetings.graphql"),
        json!({}),
    )
    .await
    {
        Ok(data) => {
            let calendar = calendar_links(&state);
            page(
                &state,
                &reader,
                "meetings.html",
                json!({ "data": data, "calendar": calendar }),
            )
        }
        Err(response) => response,
    }
}

/// The ICS feed's address, and as `webcal:` for calendar apps that subscribe to it.
fn calendar_links(state: &HttpState) -> Value {
    let url = &state.app.config.public_url;
    let host = url.host_str().unwrap_or("localhost");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let prefix = url.path().trim_end_matches('/');
    json!({
        "feed": "/feeds/meetings.ics",
        "subscribe": format!("webcal://{host}{port}{prefix}/feeds/meetings.ics"),
    })
}

/// `GET /meetings/{id}`: a meeting's time, place, online link, agenda and report.
pub async fn meeting(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let operation = include_str!("ops/meeting.graphql");
    let names = ("meeting", "meeting", "meeting.html");
    let extra = json!({ "calendar": calendar_links(&state) });
    by_id(&state, &reader, &id, operation, names, extra).await
}

/// `GET /tips`: the tips bank, with a full-text search (`?q=`) and a topic filter (`?topic=`).
pub async fn tips(State(state): State<HttpState>, reader: Reader) -> Response {
    let search: Option<String> = param(&reader, "q").map(|q| q.chars().take(MAX_SEARCH).collect());
    let topic = param(&reader, "topic").filter(|t| Uuid::parse_str(t).is_ok());
    let after = param(&reader, "after");
    let variables = json!({
        "search": search,
        "topic": topic,
        "after": after,
        "locale": reader.lang.graphql_locale(),
    });
    match query(&state, &reader, include_str!("ops/tips.graphql"), variables).await {
        Ok(data) => {
            // The next page keeps the search and the filter.
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            if let Some(q) = &search {
                next.append_pair("q", q);
            }
            if let Some(t) = &topic {
                next.append_pair("topic", t);
            }
            page(
                &state,
                &reader,
                "tips.html",
                json!({
                    "data": data,
                    "q": search,
                    "topic": topic,
                    "filtered": search.is_some() || topic.is_some(),
                    "keep": next.finish(),
                }),
            )
        }
        Err(response) => response,
    }
}

/// `GET /tips/{id}`: one tip.
pub async fn tip(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let operation = include_str!("ops/tip.graphql");
    by_id(
        &state,
        &reader,
        &id,
        operation,
        ("tip", "tip", "tip.html"),
        json!({}),
    )
    .await
}

/// `GET /contacts`: every community with its digimentors; one without a mentor is flagged
/// with whom to contact instead.
pub async fn contacts(State(state): State<HttpState>, reader: Reader) -> Response {
    let variables = json!({ "locale": reader.lang.graphql_locale() });
    match query(
        &state,
        &reader,
        include_str!("ops/contacts.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => {
            let network = state.app.config.mail_from.email.to_string();
            page(
                &state,
                &reader,
                "contacts.html",
                json!({ "data": data, "network_email": network }),
            )
        }
        Err(response) => response,
    }
}

/// `GET /partners`: the partner networks with their contact people, local ones first; each
/// has an anchor (`/partners#slug`) that meetings, posts and the home page link to.
pub async fn partners(State(state): State<HttpState>, reader: Reader) -> Response {
    match query(
        &state,
        &reader,
        include_str!("ops/partners.graphql"),
        json!({}),
    )
    .await
    {
        Ok(data) => page(&state, &reader, "partners.html", json!({ "data": data })),
        Err(response) => response,
    }
}

/// `GET /communities/{slug}`: a community's mentors and its plan for the year (`?year=`), with
/// links to the plans of earlier years.
pub async fn community(
    State(state): State<HttpState>,
    Path(slug): Path<String>,
    reader: Reader,
) -> Response {
    if slug.len() > 64 {
        return not_found(&state, &reader);
    }
    let this_year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .year();
    let year = param(&reader, "year")
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (2000..=this_year + 1).contains(y))
        .unwrap_or(this_year);
    let variables = json!({
        "slug": slug,
        "year": year,
        "y1": this_year - 1,
        "y2": this_year - 2,
        "y3": this_year - 3,
        "locale": reader.lang.graphql_locale(),
    });
    let data = match query(
        &state,
        &reader,
        include_str!("ops/community.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => data,
        Err(response) => return response,
    };
    let community = data.get("organization").filter(|o| {
        o.get("isCommunity")
            .and_then(Value::as_bool)
            .unwrap_or_default()
    });
    let Some(community) = community else {
        return not_found(&state, &reader);
    };
    // The years with a plan, this year first, except the one shown.
    let mut years: Vec<i64> = ["y1", "y2", "y3"]
        .iter()
        .filter_map(|k| data.get(*k)?.get("year")?.as_i64())
        .collect();
    if year != this_year {
        years.insert(0, i64::from(this_year));
    }
    years.retain(|y| *y != i64::from(year));
    let projects = match query(
        &state,
        &reader,
        include_str!("ops/community_projects.graphql"),
        json!({ "community": community["id"] }),
    )
    .await
    {
        Ok(found) => found["projects"].clone(),
        Err(response) => return response,
    };
    page(
        &state,
        &reader,
        "community.html",
        json!({
            "community": community,
            "plan": data.get("plan"),
            "year": year,
            "years": years,
            "projects": projects,
        }),
    )
}
