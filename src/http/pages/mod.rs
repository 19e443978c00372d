//! The web pages: server-rendered HTML from the same binary.
//!
//! One door: a page is a GraphQL operation (in `ops/`, beside the templates) executed
//! in-process as the reader, plus a template, so a page never shows what the API would refuse
//! that reader. Every text a person reads comes from `strings.toml` in Finnish, Swedish and
//! English; the reader's language is the `?lang=` they chose (remembered in a cookie), else
//! their browser's `Accept-Language`, else Finnish.

mod lang;

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior};
use serde::Deserialize;
use serde_json::Value;

pub use lang::Lang;

use super::HttpState;
use crate::schema::request_loaders;

/// Pages load only this site's stylesheet; no script, no inline style, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("site.css");

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
        env.add_template("layout.html", include_str!("templates/layout.html"))?;
        env.add_template("home.html", include_str!("templates/home.html"))?;
        env.add_template("message.html", include_str!("templates/message.html"))?;
        env.add_filter("when", |at: String, state: &minijinja::State| {
            format_time(&at, lang_of(state), true)
        });
        env.add_filter("day", |at: String, state: &minijinja::State| {
            format_time(&at, lang_of(state), false)
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

    /// Renders `template` in `lang` with the operation's `data`.
    fn render(&self, template: &str, lang: Lang, extra: Value) -> Result<String, minijinja::Error> {
        let languages: Vec<(&str, &str)> = Lang::ALL.iter().map(|l| (l.code(), l.name())).collect();
        let mut context = serde_json::json!({
            "lang": lang.code(),
            "t": self.strings.get(&lang),
            "languages": languages,
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

/// A time as its reader's language writes it, in the network's zone (Helsinki):
/// `to 10.12.2026 klo 19.01`, `tors 10 dec. 2026 kl. 19.01`, `Thu 10 Dec 2026, 19:01`.
fn format_time(at: &str, lang: Lang, with_time: bool) -> String {
    let Ok(at) = at.parse::<DateTime<Utc>>() else {
        return at.to_owned();
    };
    let local = at.with_timezone(&chrono_tz::Europe::Helsinki);
    let (pattern, locale) = match (lang, with_time) {
        (Lang::Fi, true) => ("%a %-d.%-m.%Y klo %-H.%M", chrono::Locale::fi_FI),
        (Lang::Fi, false) => ("%-d.%-m.%Y", chrono::Locale::fi_FI),
        (Lang::Sv, true) => ("%a %-d %b %Y kl. %H.%M", chrono::Locale::sv_SE),
        (Lang::Sv, false) => ("%-d %b %Y", chrono::Locale::sv_SE),
        (Lang::En, true) => ("%a %-d %b %Y, %H:%M", chrono::Locale::en_GB),
        (Lang::En, false) => ("%-d %b %Y", chrono::Locale::en_GB),
    };
    local.format_localized(pattern, locale).to_string()
}

/// The query string of a page: `?lang=` switches the language.
#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// An HTML page with the page CSP, remembering a language the reader chose.
fn html(status: StatusCode, body: String, chosen: Option<Lang>) -> Response {
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
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if let Some(lang) = chosen
        && let Ok(cookie) = HeaderValue::from_str(&lang.cookie())
    {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The localized "something went wrong" page.
fn error_page(state: &HttpState, lang: Lang) -> Response {
    message_page(state, StatusCode::INTERNAL_SERVER_ERROR, lang, "error")
}

fn message_page(state: &HttpState, status: StatusCode, lang: Lang, which: &str) -> Response {
    let texts = state.pages.strings.get(&lang);
    let text = |key: String| texts.and_then(|t| t.get(&key)).cloned().unwrap_or_default();
    let extra = serde_json::json!({
        "heading": text(format!("{which}_title")),
        "text": text(format!("{which}_text")),
    });
    match state.pages.render("message.html", lang, extra) {
        Ok(body) => html(status, body, None),
        Err(err) => {
            tracing::error!(error = %err, "rendering a message page");
            (status, "").into_response()
        }
    }
}

/// Runs a page's operation in-process as a visitor and returns its data; a GraphQL error is
/// logged and becomes the error page.
async fn run_page_operation(
    state: &HttpState,
    operation: &'static str,
    variables: Value,
) -> Result<Value, ()> {
    let mut request = async_graphql::Request::new(operation)
        .variables(async_graphql::Variables::from_json(variables));
    request.data = request_loaders(&state.app);
    let response = state.schema.execute(request).await;
    if !response.errors.is_empty() {
        tracing::error!(errors = ?response.errors, "a page's operation failed");
        return Err(());
    }
    response.data.into_json().map_err(|err| {
        tracing::error!(error = %err, "a page's data");
    })
}

/// `GET /`: what the network is, the next meeting, the latest news and tips.
pub async fn home(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let (lang, chosen) = Lang::negotiate(query.lang.as_deref(), &headers);
    let variables = serde_json::json!({ "locale": lang.graphql_locale() });
    let Ok(data) = run_page_operation(&state, include_str!("ops/home.graphql"), variables).await
    else {
        return error_page(&state, lang);
    };
    match state
        .pages
        .render("home.html", lang, serde_json::json!({ "data": data }))
    {
        Ok(body) => html(StatusCode::OK, body, chosen),
        Err(err) => {
            tracing::error!(error = %err, "rendering the home page");
            error_page(&state, lang)
        }
    }
}

/// Any path without a route: a localized 404 page for browsers, a plain 404 otherwise.
pub async fn not_found(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (lang, _) = Lang::negotiate(query.lang.as_deref(), &headers);
    message_page(&state, StatusCode::NOT_FOUND, lang, "not_found")
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
    fn times_read_as_each_language_writes_them() {
        let at = "2026-12-10T17:01:00Z";
        assert_eq!(format_time(at, Lang::Fi, true), "to 10.12.2026 klo 19.01");
        assert_eq!(format_time(at, Lang::Sv, true), "tor 10 dec 2026 kl. 19.01");
        assert_eq!(format_time(at, Lang::En, true), "Thu 10 Dec 2026, 19:01");
        assert_eq!(format_time(at, Lang::Fi, false), "10.12.2026");
    }
}
