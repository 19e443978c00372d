//! One-click unsubscribe (RFC 8058). `POST /unsubscribe/{token}` unsubscribes without login and
//! is idempotent; `GET` only shows a confirmation page with a button, because mail scanners
//! follow links.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use entity::user::{self, Locale};
use minijinja::HtmlEscape;
use sea_orm::EntityTrait;

use super::HttpState;
use crate::changes::Done;
use crate::subscriptions::service::apply_unsubscribe;
use crate::subscriptions::token::Unsubscribe;

struct Texts {
    title: &'static str,
    question: &'static str,
    button: &'static str,
    done: &'static str,
    invalid: &'static str,
    settings: &'static str,
}

fn texts(locale: Locale) -> Texts {
    match locale {
        Locale::Fi => Texts {
            title: "Tilauksen peruminen",
            question: "Haluatko lopettaa näiden Digimentor-viestien tilauksen?",
            button: "Peru tilaus",
            done: "Tilaus on peruttu. Et saa enää näitä viestejä.",
            invalid: "Linkki ei ole voimassa.",
            settings: "Valitse, mistä ja kuinka usein saat viestejä",
        },
        Locale::Sv => Texts {
            title: "Avsluta prenumeration",
            question: "Vill du sluta få dessa meddelanden från Digimentor?",
            button: "Avsluta prenumerationen",
            done: "Prenumerationen är avslutad. Du får inte längre dessa meddelanden.",
            invalid: "Länken är inte giltig.",
            settings: "Välj vad du får meddelanden om och hur ofta",
        },
        Locale::En => Texts {
            title: "Unsubscribe",
            question: "Do you want to stop receiving these Digimentor emails?",
            button: "Unsubscribe",
            done: "You are unsubscribed and will no longer receive these emails.",
            invalid: "This link is not valid.",
            settings: "Choose what you hear about and how often",
        },
    }
}

/// The pages run no script at all, post their one form only to themselves and are never framed.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                        base-uri 'none'; frame-ancestors 'none'";

fn page(locale: Locale, title: &str, body: &str) -> impl IntoResponse {
    let lang = match locale {
        Locale::Fi => "fi",
        Locale::Sv => "sv",
        Locale::En => "en",
    };
    (
        [(header::CONTENT_SECURITY_POLICY, PAGE_CSP)],
        Html(format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title></head><body style=\"font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem\">\
             <h1>{}</h1>{body}<p><a href=\"/me/notifications\">{}</a></p></body></html>",
            HtmlEscape(title),
            HtmlEscape(title),
            HtmlEscape(texts(locale).settings)
        )),
    )
}

/// The verified request and the reader's language, or the "invalid link" page.
async fn verify(state: &HttpState, token: &str) -> Result<(Unsubscribe, Locale), Response> {
    let invalid = || {
        let t = texts(Locale::En);
        (
            StatusCode::BAD_REQUEST,
            page(Locale::En, t.title, &format!("<p>{}</p>", t.invalid)),
        )
            .into_response()
    };
    let Some(request) = state.app.mail().signer.verify(token) else {
        return Err(invalid());
    };
    match user::Entity::find_by_id(request.user_id)
        .one(&state.app.db)
        .await
    {
        Ok(Some(user)) => Ok((request, user.locale)),
        Ok(None) => Err(invalid()),
        Err(err) => {
            tracing::error!(error = %err, "unsubscribe lookup failed");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// Shows the confirmation page; changes nothing.
pub async fn confirm(State(state): State<HttpState>, Path(token): Path<String>) -> Response {
    let (_, locale) = match verify(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let t = texts(locale);
    let form = format!(
        "<p>{}</p><form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">{}</button></form>",
        HtmlEscape(t.question),
        HtmlEscape(t.button)
    );
    page(locale, t.title, &form).into_response()
}

/// Unsubscribes; doing it again is harmless.
pub async fn unsubscribe(State(state): State<HttpState>, Path(token): Path<String>) -> Response {
    let (request, locale) = match verify(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let removed = state
        .app
        .changes
        .run(async |txn| apply_unsubscribe(txn, request).await.map(Done::quiet))
        .await;
    match removed {
        Ok(removed) => {
            tracing::info!(user = %request.user_id, removed, "unsubscribed by link");
            let t = texts(locale);
            page(locale, t.title, &format!("<p>{}</p>", HtmlEscape(t.done))).into_response()
        }
        Err(err) => {
            err.log_if_internal();
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
