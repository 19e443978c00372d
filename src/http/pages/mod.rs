//! The web pages: server-rendered HTML from the same binary.
//!
//! One door: a page is a GraphQL operation (in `ops/`, beside the templates) executed
//! in-process as the reader, plus a template, so a page never shows what the API would refuse
//! that reader. Every text a person reads comes from `strings.toml` in Finnish, Swedish and
//! English; the reader's language is the `?lang=` they chose (remembered in a cookie), else
//! their browser's `Accept-Language`, else Finnish.

mod admin;
mod agenda;
mod announcements;
mod compose;
mod forms;
mod lang;
mod projects;
mod public;
mod questions;
pub mod reader;
mod session;
mod settings;
mod sso;
mod trainings;
mod work;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior};
use serde::Deserialize;
use serde_json::Value;

pub use admin::{
    act as admin_act, audit as admin_audit, hub as admin_hub, merge_topics as admin_merge_topics,
    my_data, organizations as admin_organizations, outbox as admin_outbox, people as admin_people,
};
pub use agenda::{
    agenda, propose as propose_agenda_item, set as set_meeting_agenda,
    support as support_agenda_item,
};
pub use announcements::{
    announcement, announcements, new_form as announce_form, publish as publish_announcement,
    relayed as mark_relayed,
};
pub use compose::{
    answers_csv, create as create_inquiry, edit_form, new_form, print, update as update_inquiry,
};
pub use forms::csrf_refusal;
pub use lang::Lang;
pub use projects::{
    act as act_on_project, create as create_project, edit_form as project_edit_form,
    new_form as project_form, project, projects, update as update_project,
};
pub use public::{community, contacts, meeting, meetings, news, news_post, partners, tip, tips};
pub use questions::{act_on_question, ask, ask_form, question};
pub use reader::Reader;
pub use session::{
    set_password, set_password_form, sign_in, sign_in_form, sign_in_link, sign_in_link_form,
    sign_in_with_link, sign_out,
};
pub use settings::{notifications, save_notifications};
pub use sso::{callback as sso_callback, start as sso_start};
pub use trainings::{
    act as act_on_training, edit_form as training_edit_form, new_form as training_form,
    schedule as schedule_training, training, trainings, update as update_training,
};
pub use work::{act_on_inquiry, inquiry, my_work};

use super::HttpState;
use crate::schema::request_loaders;

/// Pages load only this site's stylesheet; no script, no inline style, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        script-src 'self'; connect-src 'self'; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("site.css");

/// The live view (`/static/live.js`), the pages' only script.
const LIVE_SCRIPT: &str = include_str!("live.js");

/// Every page template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("home.html", include_str!("templates/home.html")),
    ("admin_menu.html", include_str!("templates/admin_menu.html")),
    ("admin.html", include_str!("templates/admin.html")),
    (
        "admin_people.html",
        include_str!("templates/admin_people.html"),
    ),
    (
        "admin_organizations.html",
        include_str!("templates/admin_organizations.html"),
    ),
    (
        "admin_outbox.html",
        include_str!("templates/admin_outbox.html"),
    ),
    (
        "admin_audit.html",
        include_str!("templates/admin_audit.html"),
    ),
    ("message.html", include_str!("templates/message.html")),
    ("signed_out.html", include_str!("templates/signed_out.html")),
    ("news.html", include_str!("templates/news.html")),
    ("news_post.html", include_str!("templates/news_post.html")),
    ("meetings.html", include_str!("templates/meetings.html")),
    ("meeting.html", include_str!("templates/meeting.html")),
    ("tips.html", include_str!("templates/tips.html")),
    ("tip.html", include_str!("templates/tip.html")),
    ("contacts.html", include_str!("templates/contacts.html")),
    ("partners.html", include_str!("templates/partners.html")),
    ("agenda.html", include_str!("templates/agenda.html")),
    (
        "announcements.html",
        include_str!("templates/announcements.html"),
    ),
    (
        "announcement.html",
        include_str!("templates/announcement.html"),
    ),
    ("announce.html", include_str!("templates/announce.html")),
    ("trainings.html", include_str!("templates/trainings.html")),
    ("projects.html", include_str!("templates/projects.html")),
    ("project.html", include_str!("templates/project.html")),
    (
        "project_form.html",
        include_str!("templates/project_form.html"),
    ),
    ("training.html", include_str!("templates/training.html")),
    (
        "training_form.html",
        include_str!("templates/training_form.html"),
    ),
    ("community.html", include_str!("templates/community.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    (
        "sign_in_link.html",
        include_str!("templates/sign_in_link.html"),
    ),
    (
        "set_password.html",
        include_str!("templates/set_password.html"),
    ),
    (
        "notifications.html",
        include_str!("templates/notifications.html"),
    ),
    ("inquiry.html", include_str!("templates/inquiry.html")),
    ("my_work.html", include_str!("templates/my_work.html")),
    ("compose.html", include_str!("templates/compose.html")),
    ("print.html", include_str!("templates/print.html")),
    ("question.html", include_str!("templates/question.html")),
    (
        "ask_question.html",
        include_str!("templates/ask_question.html"),
    ),
];

/// The page templates and the texts in every language; built once at start-up.
pub struct Pages {
    env: Environment<'static>,
    /// Key → text, per language.
    strings: BTreeMap<Lang, BTreeMap<String, String>>,
}

/// One text in the three languages, as `strings.toml` holds it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Translated {
    fi: String,
    sv: String,
    en: String,
}

impl Pages {
    pub fn new() -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        env.add_filter("when", |at: String, state: &minijinja::State| {
            format_time(&at, lang_of(state), zone_of(state), true)
        });
        // A time in a zone of its own (a training's organiser's), in the reader's language.
        env.add_filter(
            "when_in",
            |at: String, zone: String, state: &minijinja::State| {
                let zone = crate::values::time::zone_or_helsinki(&zone);
                format_time(&at, lang_of(state), zone, true)
            },
        );
        env.add_filter("day", |at: String, state: &minijinja::State| {
            format_time(&at, lang_of(state), zone_of(state), false)
        });
        // A person's name, marked when they have left (a deactivated account).
        env.add_filter(
            "person",
            |person: minijinja::Value, state: &minijinja::State| -> String {
                let name = person
                    .get_attr("displayName")
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let former = person.get_attr("former").is_ok_and(|v| v.is_true());
                match state
                    .lookup("t")
                    .and_then(|t| t.get_attr("former_member").ok())
                {
                    Some(mark) if former => format!("{name} ({mark})"),
                    _ => name,
                }
            },
        );
        env.add_filter("urlencode", |text: String| {
            url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        });
        env.add_filter("markdown", |text: String| {
            minijinja::Value::from_safe_string(crate::notify::render::markdown_to_safe_html(&text))
        });
        let table: BTreeMap<String, Translated> = toml::from_str(include_str!("strings.toml"))?;
        let mut strings: BTreeMap<Lang, BTreeMap<String, String>> = BTreeMap::new();
        for (key, text) in table {
            for (lang, value) in [
                (Lang::Fi, text.fi),
                (Lang::Sv, text.sv),
                (Lang::En, text.en),
            ] {
                strings.entry(lang).or_default().insert(key.clone(), value);
            }
        }
        Ok(Self { env, strings })
    }

    /// One text in one language (empty when the key is unknown; a test keeps them complete).
    fn text(&self, lang: Lang, key: &str) -> String {
        self.strings
            .get(&lang)
            .and_then(|t| t.get(key))
            .cloned()
            .unwrap_or_default()
    }

    /// Renders `template` for `reader` with `extra` in its context.
    fn render(
        &self,
        template: &str,
        reader: &Reader,
        extra: Value,
    ) -> Result<String, minijinja::Error> {
        let languages: Vec<(&str, &str)> = Lang::ALL.iter().map(|l| (l.code(), l.name())).collect();
        let me = reader
            .viewer
            .as_ref()
            .map(|v| serde_json::json!({ "name": v.user.display_name, "email": v.user.email, "admin": v.user.is_admin }));
        let zone = reader
            .viewer
            .as_ref()
            .map_or("Europe/Helsinki", |v| v.user.time_zone.as_str());
        let path = reader.here.split('?').next().unwrap_or("/");
        let mut context = serde_json::json!({
            "lang": reader.lang.code(),
            "zone": zone,
            "t": self.strings.get(&reader.lang),
            "languages": languages,
            "me": me,
            "csrf": reader.csrf,
            // A fresh key for each form shown: a creating form sends it as its idempotency
            // key, so a double press makes one thing.
            "once": crate::auth::token::generate_token(),
            "here": reader.here,
            "path": path,
            "section": path.trim_start_matches('/').split('/').next().unwrap_or_default(),
        });
        if let (Value::Object(map), Value::Object(more)) = (&mut context, extra) {
            map.extend(more);
        }
        self.env.get_template(template)?.render(context)
    }
}

fn lang_of(state: &minijinja::State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::from_code))
        .unwrap_or_default()
}

fn zone_of(state: &minijinja::State) -> chrono_tz::Tz {
    state
        .lookup("zone")
        .and_then(|v| v.as_str().and_then(|z| z.parse().ok()))
        .unwrap_or(chrono_tz::Europe::Helsinki)
}

/// A time as its reader's language writes it, in the reader's zone (see
/// [`crate::values::time`]); text that is no time is shown as it is.
fn format_time(at: &str, lang: Lang, zone: chrono_tz::Tz, with_time: bool) -> String {
    let Ok(at) = at.parse::<DateTime<Utc>>() else {
        return at.to_owned();
    };
    if with_time {
        crate::values::time::reader_time(at, zone, lang.locale())
    } else {
        crate::values::time::reader_day(at, zone, lang.locale())
    }
}

/// An HTML response with the page CSP and the reader's cookies.
fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // Pages show a reader's own data: never stored by shared caches.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Renders a page for `reader`; a template failure is logged and becomes the error page.
fn page(state: &HttpState, reader: &Reader, template: &str, extra: Value) -> Response {
    page_with(state, reader, StatusCode::OK, template, extra, &[])
}

fn page_with(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    template: &str,
    extra: Value,
    more_cookies: &[String],
) -> Response {
    match state.pages.render(template, reader, extra) {
        Ok(body) => {
            let mut cookies = reader.cookies();
            cookies.extend_from_slice(more_cookies);
            html(status, body, &cookies)
        }
        Err(err) => {
            tracing::error!(error = %err, template, "rendering a page");
            error_page(state, reader.lang)
        }
    }
}

/// The localized "something went wrong" page.
fn error_page(state: &HttpState, lang: Lang) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_body(&state.pages, lang),
        &[],
    )
}

/// The error page's HTML, written without the templates (they may be what failed).
fn error_body(pages: &Pages, lang: Lang) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/site.css\"></head>\
         <body><main id=\"content\"><h1>{title}</h1><p>{text}</p>\
         <p><a href=\"/\">{back}</a></p></main></body></html>",
        code = lang.code(),
        title = minijinja::HtmlEscape(&pages.text(lang, "error_title")),
        text = minijinja::HtmlEscape(&pages.text(lang, "error_text")),
        back = minijinja::HtmlEscape(&pages.text(lang, "back_home")),
    )
}

/// A page with a heading and a sentence: `which` names `{which}_title` and `{which}_text`.
fn message(state: &HttpState, reader: &Reader, status: StatusCode, which: &str) -> Response {
    let extra = serde_json::json!({
        "heading": state.pages.text(reader.lang, &format!("{which}_title")),
        "text": state.pages.text(reader.lang, &format!("{which}_text")),
    });
    page_with(state, reader, status, "message.html", extra, &[])
}

/// What the reader may not read: a visitor is sent to sign in first (and back here after);
/// a signed-in reader gets a localized "not available".
fn not_available(state: &HttpState, reader: &Reader) -> Response {
    if reader.viewer.is_none() {
        return session::to_sign_in(reader);
    }
    message(state, reader, StatusCode::NOT_FOUND, "not_available")
}

/// Runs a page's operation in-process as its reader (signed in or a visitor) and returns its
/// data, or the GraphQL errors.
async fn run_as(
    state: &HttpState,
    reader: &Reader,
    operation: &'static str,
    variables: Value,
) -> Result<Value, Vec<async_graphql::ServerError>> {
    let mut request = async_graphql::Request::new(operation)
        .variables(async_graphql::Variables::from_json(variables));
    request.data = request_loaders(&state.app);
    if let Some(viewer) = &reader.viewer {
        request.data.insert(viewer.clone());
    }
    request
        .data
        .insert(crate::auth::schema::ClientIp(reader.ip));
    let response = state.schema.execute(request).await;
    if !response.errors.is_empty() {
        return Err(response.errors);
    }
    response.data.into_json().map_err(|err| {
        tracing::error!(error = %err, "a page's data");
        Vec::new()
    })
}

/// Runs a creating form's mutation, whose variables carry the form's idempotency key: when the
/// same form is already being handled (a double press landing on two requests at once), asks
/// once more after a moment and gets what the first made.
async fn run_once(
    state: &HttpState,
    reader: &Reader,
    operation: &'static str,
    variables: Value,
) -> Result<Value, Vec<async_graphql::ServerError>> {
    match run_as(state, reader, operation, variables.clone()).await {
        Err(errors) if crate::graphql::field_of(&errors).as_deref() == Some("idempotencyKey") => {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            run_as(state, reader, operation, variables).await
        }
        done => done,
    }
}

/// Runs a page's query; any error is logged and becomes the error page.
async fn query(
    state: &HttpState,
    reader: &Reader,
    operation: &'static str,
    variables: Value,
) -> Result<Value, Response> {
    run_as(state, reader, operation, variables)
        .await
        .map_err(|errors| {
            // A parameter of the address the API refuses (a cursor, an id): the reader's link
            // is bad, not the service.
            if crate::graphql::code_of(&errors).as_deref() == Some("BAD_USER_INPUT") {
                tracing::debug!(?errors, "a page's operation refused its parameters");
                return message(state, reader, StatusCode::BAD_REQUEST, "bad_address");
            }
            tracing::error!(?errors, "a page's operation failed");
            error_page(state, reader.lang)
        })
}

/// `GET /`: what the network is, the next meeting, the latest news and tips.
pub async fn home(State(state): State<HttpState>, reader: Reader) -> Response {
    let variables = serde_json::json!({ "locale": reader.lang.graphql_locale() });
    match query(&state, &reader, include_str!("ops/home.graphql"), variables).await {
        Ok(data) => page(
            &state,
            &reader,
            "home.html",
            serde_json::json!({ "data": data }),
        ),
        Err(response) => response,
    }
}

/// Any path without a route: a localized 404 page for browsers, a plain 404 otherwise.
pub async fn not_found(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return StatusCode::NOT_FOUND.into_response();
    }
    message(&state, &reader, StatusCode::NOT_FOUND, "not_found")
}

/// `GET /static/live.js`.
pub async fn live_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LIVE_SCRIPT,
    )
        .into_response()
}

/// `GET /static/site.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_every_language() {
        let table: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(include_str!("strings.toml")).unwrap();
        for (key, texts) in &table {
            let languages: Vec<&str> = texts.keys().map(String::as_str).collect();
            assert_eq!(languages, ["en", "fi", "sv"], "{key}");
            assert!(texts.values().all(|t| !t.trim().is_empty()), "{key}");
        }
        Pages::new().unwrap();
    }

    #[test]
    fn the_error_page_speaks_each_language() {
        let pages = Pages::new().unwrap();
        for (lang, title) in [
            (Lang::Fi, "Jotain meni vikaan"),
            (Lang::Sv, "Något gick fel"),
            (Lang::En, "Something went wrong"),
        ] {
            let body = error_body(&pages, lang);
            assert!(body.contains(&format!("<html lang=\"{}\">", lang.code())));
            assert!(body.contains(&format!("<h1>{title}</h1>")), "{body}");
        }
    }

    #[test]
    fn times_read_as_each_language_writes_them() {
        let at = "2026-12-10T17:01:00Z";
        let hel = chrono_tz::Europe::Helsinki;
        assert_eq!(
            format_time(at, Lang::Fi, hel, true),
            "to 10.12.2026 klo 19.01"
        );
        assert_eq!(
            format_time(at, Lang::Sv, hel, true),
            "tor 10 dec 2026 kl. 19.01"
        );
        assert_eq!(
            format_time(at, Lang::En, hel, true),
            "Thu 10 Dec 2026, 19:01"
        );
        assert_eq!(format_time(at, Lang::Fi, hel, false), "10.12.2026");
        // In the reader's own zone.
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            format_time(at, Lang::En, ny, true),
            "Thu 10 Dec 2026, 12:01"
        );
    }
}
