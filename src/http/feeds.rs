//! Public feeds for feed readers and calendar apps.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::news_feed::news_feed;

/// The news column as Atom.
pub async fn news(State(state): State<HttpState>) -> Response {
    match news_feed(&state.app.db, state.app.mail()).await {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Err(err) => {
            err.log_if_internal();
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Meetings as iCalendar, for calendar apps.
pub async fn meetings(State(state): State<HttpState>) -> Response {
    use entity::meeting;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    let ctx = state.app.mail();
    let found = meeting::Entity::find()
        .order_by_desc(meeting::Column::StartsAt)
        .limit(500)
        .all(&state.app.db)
        .await;
    match found {
        Ok(meetings) => {
            let body = crate::meetings::ical::calendar(&meetings, ctx.domain(), |m| {
                ctx.link(&format!("meetings/{}", m.id))
            });
            (
                [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
                body,
            )
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "meetings feed failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Trainings as iCalendar, for calendar apps (without online links, which are for those with
/// a place: their own invitation carries it).
pub async fn trainings(State(state): State<HttpState>) -> Response {
    use entity::training;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    let ctx = state.app.mail();
    let found = training::Entity::find()
        .order_by_desc(training::Column::StartsAt)
        .limit(500)
        .all(&state.app.db)
        .await;
    match found {
        Ok(trainings) => calendar_response(crate::trainings::ical::calendar(
            &trainings,
            ctx.domain(),
            |t| ctx.link(&format!("trainings/{}", t.id)),
        )),
        Err(err) => {
            tracing::error!(error = %err, "trainings feed failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// One training as iCalendar (`/trainings/{id}/calendar.ics`), to add it to a calendar.
pub async fn training(
    State(state): State<HttpState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    use entity::training;
    use sea_orm::EntityTrait;
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ctx = state.app.mail();
    match training::Entity::find_by_id(id).one(&state.app.db).await {
        Ok(Some(t)) => calendar_response(crate::trainings::ical::calendar(
            std::slice::from_ref(&t),
            ctx.domain(),
            |t| ctx.link(&format!("trainings/{}", t.id)),
        )),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "training calendar failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn calendar_response(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}
