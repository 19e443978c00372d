//! Signing in (by password, or by a one-time link sent by email), the session cookie and
//! signing out. Each form runs the API's own mutation in-process (`login`,
//! `requestSignInLink`, `signInWithLink`, `logout`), so the throttle, the same answer for
//! unknown addresses and the token rules are the API's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::forms::checked;
use super::reader::{clear_session, query_param, session_cookie};
use super::{Reader, page, page_with, run_as};
use crate::auth::links::safe_next;
use crate::graphql::code_of;
use crate::http::HttpState;

/// A redirect that sends a browser on after a form (303: the next request is a GET).
pub(super) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Sends a visitor to sign in, and back to this page afterwards.
pub fn to_sign_in(reader: &Reader) -> Response {
    to_sign_in_from(reader, &reader.here)
}

/// Sends a visitor to sign in, and to `page` afterwards (a form's page, not where it posts).
pub fn to_sign_in_from(reader: &Reader, page: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
    see_other(&format!("/sign-in?next={next}"), &reader.cookies())
}

/// The sign-in page, with what the reader typed and what went wrong.
pub(super) fn sign_in_page(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let methods = &state.app.config.sign_in;
    let extra = json!({
        "methods": {
            "password": methods.password,
            "link": methods.link,
            "sso": state.app.oidc.is_some(),
        },
        "next": next,
        "email": email,
        "error": error.map(|key| state.pages.text(reader.lang, key)),
        "notice": notice.map(|key| state.pages.text(reader.lang, key)),
    });
    page_with(state, reader, status, "sign_in.html", extra, &[])
}

/// `GET /sign-in?next=/path`: sign in by password, or ask for a sign-in link.
pub async fn sign_in_form(State(state): State<HttpState>, reader: Reader) -> Response {
    let query = reader.here.split_once('?').map(|(_, q)| q);
    let next = safe_next(query_param(query, "next").as_deref());
    if reader.viewer.is_some() {
        return see_other(&next, &reader.cookies());
    }
    let notice = query_param(query, "sent")
        .map(|_| "link_sent")
        .or_else(|| query_param(query, "reset").map(|_| "reset_link_sent"));
    sign_in_page(&state, &reader, StatusCode::OK, &next, "", None, notice)
}

/// `POST /sign-in`: email and password; on success the session cookie, and on to `next`.
pub async fn sign_in(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let next = safe_next(form.get("next"));
    let email = form.text("email");
    let variables = json!({ "email": email, "password": form.text("password") });
    match run_as(
        &state,
        &reader,
        include_str!("ops/sign_in.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => start_session(&state, &reader, &data["login"], &next),
        Err(errors) => {
            let (status, key) = match code_of(&errors).as_deref() {
                Some("RATE_LIMITED") => (StatusCode::TOO_MANY_REQUESTS, "error_rate_limited"),
                Some("UNAUTHENTICATED") => (StatusCode::UNAUTHORIZED, "error_credentials"),
                // Text no address or password holds (control characters, say).
                Some("BAD_USER_INPUT") => (StatusCode::UNPROCESSABLE_ENTITY, "error_credentials"),
                _ => {
                    tracing::error!(?errors, "signing in");
                    (StatusCode::INTERNAL_SERVER_ERROR, "error_text")
                }
            };
            sign_in_page(&state, &reader, status, &next, &email, Some(key), None)
        }
    }
}

/// Sets the session cookie from a `LoginPayload` and sends the browser on.
pub(super) fn start_session(
    state: &HttpState,
    reader: &Reader,
    payload: &Value,
    next: &str,
) -> Response {
    let Some(token) = payload.get("token").and_then(Value::as_str) else {
        return super::error_page(state, reader.lang);
    };
    let max_age = state.app.config.token_ttl.as_secs();
    let mut cookies = reader.cookies();
    cookies.retain(|c| !c.starts_with("session="));
    cookies.push(session_cookie(
        token,
        i64::try_from(max_age).unwrap_or(i64::MAX),
        reader.secure,
    ));
    // A language chosen in this browser before signing in gives way to the user's own.
    cookies.push(format!(
        "{}=; Path=/; Max-Age=0; SameSite=Lax",
        super::lang::COOKIE
    ));
    see_other(next, &cookies)
}

/// `POST /sign-in/link`: emails a one-time sign-in link. The answer is the same whether or not
/// the address has an account.
pub async fn sign_in_link(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let next = safe_next(form.get("next"));
    let email = form.text("email");
    // The same form's second button asks for a link to choose a new password instead.
    let reset = form.get("purpose") == Some("reset");
    let (operation, variables, sent) = if reset {
        (
            include_str!("ops/request_password_reset.graphql"),
            json!({ "email": email }),
            "reset",
        )
    } else {
        (
            include_str!("ops/request_sign_in_link.graphql"),
            json!({ "email": email, "next": next }),
            "sent",
        )
    };
    match run_as(&state, &reader, operation, variables).await {
        Ok(_) => {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            see_other(&format!("/sign-in?{sent}=1&next={next}"), &reader.cookies())
        }
        Err(errors) => {
            let (status, key) = match code_of(&errors).as_deref() {
                Some("RATE_LIMITED") => (StatusCode::TOO_MANY_REQUESTS, "error_rate_limited"),
                Some("BAD_USER_INPUT") => (StatusCode::UNPROCESSABLE_ENTITY, "error_email"),
                _ => {
                    tracing::error!(?errors, "requesting a sign-in link");
                    (StatusCode::INTERNAL_SERVER_ERROR, "error_text")
                }
            };
            sign_in_page(&state, &reader, status, &next, &email, Some(key), None)
        }
    }
}

/// `GET /sign-in/link/{token}`: a button that signs in. Following the link alone does not
/// use it up, since mail scanners follow links.
pub async fn sign_in_link_form(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    reader: Reader,
) -> Response {
    if token.len() > 128 {
        return super::message(&state, &reader, StatusCode::NOT_FOUND, "link_invalid");
    }
    page(
        &state,
        &reader,
        "sign_in_link.html",
        json!({ "token": token }),
    )
}

/// `POST /sign-in/link/{token}`: uses the link (once) and signs in.
pub async fn sign_in_with_link(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if let Err(refused) = checked(&state, &headers, &reader, &body) {
        return refused;
    }
    let variables = json!({ "token": token });
    match run_as(
        &state,
        &reader,
        include_str!("ops/sign_in_with_link.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => {
            let payload = &data["signInWithLink"];
            let next = safe_next(payload.get("next").and_then(Value::as_str));
            start_session(&state, &reader, &payload["login"], &next)
        }
        Err(errors) => link_refused(&state, &reader, &errors, "link_invalid"),
    }
}

/// The form that sets a new account's password, with what went wrong.
fn set_password_page(
    state: &HttpState,
    reader: &Reader,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> Response {
    let extra = json!({
        "token": token,
        "error": error.map(|key| state.pages.text(reader.lang, key)),
    });
    page_with(state, reader, status, "set_password.html", extra, &[])
}

/// `GET /set-password/{token}`: the form that sets a new account's password. Following the
/// link alone does not use it up (mail scanners follow links).
pub async fn set_password_form(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    reader: Reader,
) -> Response {
    if token.len() > 128 {
        return super::message(
            &state,
            &reader,
            StatusCode::NOT_FOUND,
            "password_link_invalid",
        );
    }
    set_password_page(&state, &reader, StatusCode::OK, &token, None)
}

/// `POST /set-password/{token}`: sets the password (the link works once), signs in, and opens
/// the notification settings with a confirmation. A password against the policy shows the form
/// again with the error beside the field, and the link still works.
pub async fn set_password(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    let form = match checked(&state, &headers, &reader, &body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let variables = json!({ "token": token, "password": form.text("password") });
    match run_as(
        &state,
        &reader,
        include_str!("ops/set_password_with_link.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => start_session(
            &state,
            &reader,
            &data["setPasswordWithLink"],
            "/me/notifications?welcome=1",
        ),
        Err(errors) => match code_of(&errors).as_deref() {
            Some("BAD_USER_INPUT") => set_password_page(
                &state,
                &reader,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                Some("error_password_rule"),
            ),
            _ => link_refused(&state, &reader, &errors, "password_link_invalid"),
        },
    }
}

/// The page for a link the API refused: used, expired or unknown (410, `invalid` says which
/// kind of link), too many tries (429), or the error page.
fn link_refused(
    state: &HttpState,
    reader: &Reader,
    errors: &[async_graphql::ServerError],
    invalid: &str,
) -> Response {
    match code_of(errors).as_deref() {
        Some("UNAUTHENTICATED" | "BAD_USER_INPUT") => {
            super::message(state, reader, StatusCode::GONE, invalid)
        }
        Some("RATE_LIMITED") => {
            super::message(state, reader, StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        }
        _ => {
            tracing::error!(?errors, invalid, "using a link");
            super::error_page(state, reader.lang)
        }
    }
}

/// `POST /sign-out`: ends this session (its token is revoked) and clears the cookie.
pub async fn sign_out(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
    body: Bytes,
) -> Response {
    if let Err(refused) = checked(&state, &headers, &reader, &body) {
        return refused;
    }
    if reader.viewer.is_some()
        && let Err(errors) = run_as(
            &state,
            &reader,
            include_str!("ops/sign_out.graphql"),
            json!({}),
        )
        .await
    {
        tracing::error!(?errors, "signing out");
        return super::error_page(&state, reader.lang);
    }
    let mut cookies = vec![clear_session(reader.secure)];
    // Signed in with the university account: signed out at the provider too, when it offers.
    if let Some(hint) = super::reader::cookie(&headers, super::sso::HINT_COOKIE)
        && !hint.is_empty()
    {
        cookies.push(format!(
            "{}=; Path=/sign-out; Max-Age=0; HttpOnly; SameSite=Lax",
            super::sso::HINT_COOKIE
        ));
        // The page offers the provider's sign-out as a link: a redirect from this form to
        // another site would be a form action the pages' CSP (`form-action 'self'`) forbids.
        if let Some(url) = super::sso::provider_sign_out(&state, &headers).await {
            let mut signed_out = reader;
            signed_out.viewer = None;
            return page_with(
                &state,
                &signed_out,
                StatusCode::OK,
                "signed_out.html",
                json!({ "provider": url }),
                &cookies,
            );
        }
    }
    see_other("/?signed-out=1", &cookies)
}
