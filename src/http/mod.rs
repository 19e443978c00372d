//! The HTTP surface: GraphQL (POST, GraphiQL, WebSocket), feeds, unsubscribe, health probes and
//! metrics, with request ids, tracing, request metrics and body limits.

pub(crate) mod client_ip;
mod feeds;
mod graphiql;
mod graphql;
mod health;
mod news_feed;
pub mod pages;
mod responses;
mod security;
mod serve;
mod unsubscribe;
mod websocket;

pub use serve::serve;

pub use websocket::{WebSocketSlots, end_sessions_on_rights_change};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::schema::AppSchema;
use crate::state::AppState;

/// What the HTTP handlers share, behind one reference count: axum clones the state for every
/// extractor and middleware of every request, and cloning the fields themselves (two database
/// handles, the mail context's URL and address, a cancellation token) was 4 % of the CPU of a
/// `{ __typename }` request (`perf`).
#[derive(Clone)]
pub struct HttpState(Arc<Shared>);

impl HttpState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for HttpState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The contents of [`HttpState`].
pub struct Shared {
    pub app: AppState,
    pub schema: AppSchema,
    /// Cancelled when the server shuts down, to end long-lived WebSocket connections.
    pub shutdown: CancellationToken,
    /// Open WebSocket connections on this instance, per user and per client address.
    pub websocket_slots: Arc<WebSocketSlots>,
    /// The web pages' templates and texts.
    pub pages: Arc<pages::Pages>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The one-click body is `List-Unsubscribe=One-Click`; nothing larger is needed.
const UNSUBSCRIBE_BODY_LIMIT: usize = 1024;

/// The pages' forms are small (the notification settings, with every topic, are the largest).
const FORM_BODY_LIMIT: usize = 64 * 1024;
/// Largest form that carries a text people write (an answer of up to 20,000 characters,
/// percent-encoded at up to 12 bytes each).
const WRITING_BODY_LIMIT: usize = 256 * 1024;

/// Paths whose last segment is a secret (a signed token that acts without login).
const SECRET_PATHS: &[&str] = &["/unsubscribe/", "/sign-in/link/"];

/// The path as logs may show it: secrets in it are replaced by `{token}`.
fn redacted_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATHS.iter().find(|prefix| path.starts_with(*prefix)) {
        Some(prefix) => format!("{prefix}{{token}}").into(),
        None => path.into(),
    }
}

/// The router of the internal metrics address (`METRICS_BIND`): `/metrics` and `/healthz`
/// only, everything else 404.
pub fn metrics_router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .route("/healthz", get(health::healthz))
        .with_state(state)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
}

/// Builds the router with every route and middleware.
pub fn router(state: HttpState) -> Router {
    let body_limit = state.app.config.graphql.max_body_bytes;
    // Every plain request, body included, must be done within the time limit (a slow body gets
    // 408); the WebSocket route is long-lived by design and has its own hygiene.
    let timed_routes = Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::execute)
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/", get(pages::home))
        .route("/news", get(pages::news))
        .route("/news/{id}", get(pages::news_post))
        .route("/meetings", get(pages::meetings))
        .route("/meetings/{id}", get(pages::meeting))
        .route("/tips", get(pages::tips))
        .route("/tips/{id}", get(pages::tip))
        .route("/contacts", get(pages::contacts))
        .route("/partners", get(pages::partners))
        .route("/announcements", get(pages::announcements))
        .route(
            "/announcements/new",
            get(pages::announce_form)
                .post(pages::publish_announcement)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/announcements/{id}", get(pages::announcement))
        .route("/projects", get(pages::projects))
        .route(
            "/projects/new",
            get(pages::project_form)
                .post(pages::create_project)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/projects/{id}", get(pages::project))
        .route(
            "/projects/{id}/edit",
            get(pages::project_edit_form)
                .post(pages::update_project)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route(
            "/projects/{id}/{action}",
            post(pages::act_on_project).layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/trainings", get(pages::trainings))
        .route(
            "/trainings/new",
            get(pages::training_form)
                .post(pages::schedule_training)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/trainings/{id}", get(pages::training))
        .route(
            "/trainings/{id}/edit",
            get(pages::training_edit_form)
                .post(pages::update_training)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/trainings/{id}/{action}", post(pages::act_on_training))
        .route("/announcements/{id}/relayed", post(pages::mark_relayed))
        .route(
            "/agenda",
            get(pages::agenda).post(pages::propose_agenda_item),
        )
        .route("/agenda/{id}/support", post(pages::support_agenda_item))
        .route("/agenda/{id}/set", post(pages::set_meeting_agenda))
        .route("/communities/{slug}", get(pages::community))
        .route("/me", get(pages::my_work))
        .route(
            "/inquiries/new",
            get(pages::new_form)
                .post(pages::create_inquiry)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route(
            "/inquiries/{id}/edit",
            get(pages::edit_form)
                .post(pages::update_inquiry)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/inquiries/{id}/answers.csv", get(pages::answers_csv))
        .route("/inquiries/{id}/print", get(pages::print))
        .route("/inquiries/{id}", get(pages::inquiry))
        .route(
            "/inquiries/{id}/{action}",
            post(pages::act_on_inquiry).layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route(
            "/questions/new",
            get(pages::ask_form)
                .post(pages::ask)
                .layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route("/questions/{id}", get(pages::question))
        .route(
            "/questions/{id}/{action}",
            post(pages::act_on_question).layer(DefaultBodyLimit::max(WRITING_BODY_LIMIT)),
        )
        .route(
            "/sign-in",
            get(pages::sign_in_form)
                .post(pages::sign_in)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/sign-in/link",
            post(pages::sign_in_link).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/sign-in/link/{token}",
            get(pages::sign_in_link_form)
                .post(pages::sign_in_with_link)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/set-password/{token}",
            get(pages::set_password_form)
                .post(pages::set_password)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/sign-out",
            post(pages::sign_out).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/me/notifications",
            get(pages::notifications)
                .post(pages::save_notifications)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/sign-in/sso", get(pages::sso_start))
        .route("/sign-in/sso/callback", get(pages::sso_callback))
        .route("/me/data.json", get(pages::my_data))
        .route("/admin", get(pages::admin_hub))
        .route("/admin/people", get(pages::admin_people))
        .route("/admin/organizations", get(pages::admin_organizations))
        .route("/admin/outbox", get(pages::admin_outbox))
        .route("/admin/audit", get(pages::admin_audit))
        .route(
            "/admin/topics/merge",
            post(pages::admin_merge_topics).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route(
            "/admin/{kind}/{id}/{action}",
            post(pages::admin_act).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/static/site.css", get(pages::stylesheet))
        .route("/static/live.js", get(pages::live_script))
        .route("/graphiql/{version}/{file}", get(graphiql::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/feeds/news.atom", get(feeds::news))
        .route("/feeds/meetings.ics", get(feeds::meetings))
        .route("/feeds/trainings.ics", get(feeds::trainings))
        .route("/trainings/{id}/calendar.ics", get(feeds::training))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::confirm)
                .post(unsubscribe::unsubscribe)
                .layer(DefaultBodyLimit::max(UNSUBSCRIBE_BODY_LIMIT)),
        )
        .fallback(pages::not_found);
    // With METRICS_BIND, `/metrics` is served only there (see `metrics_router`).
    let timed_routes = if state.app.config.metrics_bind.is_none() {
        timed_routes.route("/metrics", get(health::metrics))
    } else {
        timed_routes
    }
    .layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        state.app.config.request_timeout,
    ));
    Router::new()
        .merge(timed_routes)
        .route("/graphql/ws", get(websocket::upgrade))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            security::Https(state.app.config.public_url.scheme() == "https"),
            security::headers,
        ))
        .layer(security::cors(&state.app.config.cors_allowed_origins))
        .layer(axum::middleware::from_fn_with_state(
            state.app.metrics.clone(),
            crate::metrics::http::track,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %redacted_path(request.uri().path()),
                    request_id = %request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_paths_are_redacted() {
        assert_eq!(
            redacted_path("/unsubscribe/abc.def"),
            "/unsubscribe/{token}"
        );
        assert_eq!(redacted_path("/graphql"), "/graphql");
    }
}
