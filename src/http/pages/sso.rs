//! Single sign-on in the browser: `/sign-in/sso` sends the person to the university's identity
//! provider with a fresh state, nonce and PKCE verifier (kept in a short-lived HttpOnly cookie
//! for this path only); `/sign-in/sso/callback` checks the state and runs the API's own
//! `signInWithSingleSignOn` as the reader, which verifies the ID token and starts the session.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::reader::{cookie, query_param};
use super::session::{see_other, sign_in_page, start_session};
use super::{Reader, run_as};
use crate::auth::links::safe_next;
use crate::auth::schema::callback_url;
use crate::graphql::code_of;
use crate::http::HttpState;

/// The cookie that carries a sign-in in progress.
const FLOW_COOKIE: &str = "sso_flow";
/// The cookie that keeps the provider's ID token, the hint for signing out there too.
pub const HINT_COOKIE: &str = "sso_hint";

fn secure(reader: &Reader) -> &'static str {
    if reader.secure { "; Secure" } else { "" }
}

fn clear_flow(reader: &Reader) -> String {
    format!(
        "{FLOW_COOKIE}=; Path=/sign-in/sso; Max-Age=0; HttpOnly; SameSite=Lax{}",
        secure(reader)
    )
}

/// `GET /sign-in/sso?next=/path`: on to the identity provider.
pub async fn start(State(state): State<HttpState>, reader: Reader) -> Response {
    let Some(oidc) = state.app.oidc.clone() else {
        return super::not_available(&state, &reader);
    };
    let query = reader.here.split_once('?').map(|(_, q)| q);
    let next = safe_next(query_param(query, "next").as_deref());
    match oidc.begin(&callback_url(&state.app.config)).await {
        Ok(begun) => {
            let flow = format!(
                "{}.{}.{}.{}",
                begun.state,
                begun.nonce,
                begun.verifier,
                URL_SAFE_NO_PAD.encode(next.as_bytes())
            );
            let mut cookies = reader.cookies();
            cookies.push(format!(
                "{FLOW_COOKIE}={flow}; Path=/sign-in/sso; Max-Age=600; HttpOnly; SameSite=Lax{}",
                secure(&reader)
            ));
            see_other(&begun.url, &cookies)
        }
        Err(err) => {
            err.log_if_internal();
            super::message(
                &state,
                &reader,
                StatusCode::SERVICE_UNAVAILABLE,
                "sso_unavailable",
            )
        }
    }
}

/// `GET /sign-in/sso/callback?code=…&state=…`: back from the provider.
pub async fn callback(
    State(state): State<HttpState>,
    headers: HeaderMap,
    reader: Reader,
) -> Response {
    let query = reader.here.split_once('?').map(|(_, q)| q);
    let flow = cookie(&headers, FLOW_COOKIE).unwrap_or_default().to_owned();
    let parts: Vec<&str> = flow.split('.').collect();
    let refused = |status: StatusCode, key: &str, next: &str| {
        let mut response = sign_in_page(&state, &reader, status, next, "", Some(key), None);
        if let Ok(value) = clear_flow(&reader).parse() {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
        response
    };
    let [expected_state, nonce, verifier, next] = parts.as_slice() else {
        // No sign-in in progress in this browser (expired, or a link followed elsewhere).
        return refused(StatusCode::BAD_REQUEST, "sso_refused", "/");
    };
    let next = URL_SAFE_NO_PAD
        .decode(next)
        .ok()
        .and_then(|n| String::from_utf8(n).ok());
    let next = safe_next(next.as_deref());
    if query_param(query, "error").is_some() {
        // The person cancelled at the provider, or it refused them.
        return refused(StatusCode::UNAUTHORIZED, "sso_cancelled", &next);
    }
    let given_state = query_param(query, "state").unwrap_or_default();
    let same = given_state.len() == expected_state.len()
        && given_state
            .bytes()
            .zip(expected_state.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    let Some(code) = query_param(query, "code").filter(|_| same && !given_state.is_empty()) else {
        return refused(StatusCode::BAD_REQUEST, "sso_refused", &next);
    };
    let variables = json!({ "code": code, "verifier": verifier, "nonce": nonce });
    match run_as(
        &state,
        &reader,
        include_str!("ops/sign_in_sso.graphql"),
        variables,
    )
    .await
    {
        Ok(data) => {
            let done = &data["signInWithSingleSignOn"];
            let mut response = start_session(&state, &reader, &done["login"], &next);
            let hint = done["idToken"].as_str().unwrap_or_default();
            for value in [
                clear_flow(&reader),
                format!(
                    "{HINT_COOKIE}={hint}; Path=/sign-out; Max-Age={}; HttpOnly; SameSite=Lax{}",
                    state.app.config.token_ttl.as_secs(),
                    secure(&reader)
                ),
            ] {
                if let Ok(value) = value.parse() {
                    response
                        .headers_mut()
                        .append(axum::http::header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(errors) => match code_of(&errors).as_deref() {
            Some("FORBIDDEN") => {
                let mut response =
                    super::message(&state, &reader, StatusCode::FORBIDDEN, "sso_no_account");
                if let Ok(value) = clear_flow(&reader).parse() {
                    response
                        .headers_mut()
                        .append(axum::http::header::SET_COOKIE, value);
                }
                response
            }
            Some("UNAUTHENTICATED") => refused(StatusCode::UNAUTHORIZED, "sso_refused", &next),
            Some("UNAVAILABLE") => super::message(
                &state,
                &reader,
                StatusCode::SERVICE_UNAVAILABLE,
                "sso_unavailable",
            ),
            _ => {
                tracing::error!(?errors, "finishing single sign-on");
                super::error_page(&state, reader.lang)
            }
        },
    }
}

/// After signing out here: where the provider signs the person out too, when it offers to.
pub async fn provider_sign_out(state: &HttpState, headers: &HeaderMap) -> Option<String> {
    let oidc = state.app.oidc.as_ref()?;
    let hint = cookie(headers, HINT_COOKIE).filter(|h| !h.is_empty());
    let back = format!(
        "{}/",
        state.app.config.public_url.as_str().trim_end_matches('/')
    );
    oidc.end_session_url(hint, &back).await
}
