//! `me`, `login`, `changePassword` and `logout`.

use std::net::IpAddr;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::password::{check_password_policy, hash_off_runtime};
use super::{links, require_viewer, service, viewer};
use crate::changes::Done;
use crate::directory::schema::User;
use crate::error::AppError;
use crate::graphql::PasswordChecks;
use crate::notify::payloads::SignInLinkMail;
use crate::notify::rules::NewDelivery;
use crate::notify::{Template, outbox};
use crate::state::AppState;

/// The client address of the request, when known; used for login throttling.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// A new session: send `token` as `Authorization: Bearer <token>` (HTTP) or as `token` in the
/// WebSocket `connection_init` payload.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The bearer token, shown only now.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub user: User,
}

/// A sign-in by a one-time link: the session, and the page the link was asked for on.
#[derive(SimpleObject)]
pub struct LinkSignIn {
    /// The new session.
    pub login: LoginPayload,
    /// The path on this site to open now.
    pub next: String,
}

/// The ways people may sign in here.
#[derive(SimpleObject)]
pub struct SignInMethods {
    /// With email and password (`login`).
    pub password: bool,
    /// With a link sent by email (`requestSignInLink`).
    pub link: bool,
    /// With the university account (single sign-on at `/sign-in/sso`).
    pub single_sign_on: bool,
}

/// Refuses a sign-in method the operator turned off.
fn require_method(
    ctx: &Context<'_>,
    on: impl Fn(&crate::config::SignInSettings) -> bool,
) -> async_graphql::Result<()> {
    let state = ctx.data::<AppState>()?;
    if on(&state.config.sign_in) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "This way of signing in is turned off here; sign in with your university account.",
        )
        .into())
    }
}

/// A finished single sign-on.
#[derive(SimpleObject)]
pub struct SingleSignOn {
    /// The new session.
    pub login: LoginPayload,
    /// The provider's ID token, kept by the pages as the hint for signing out there too.
    pub id_token: String,
}

/// Where the identity provider returns people: `PUBLIC_URL/sign-in/sso/callback`.
pub fn callback_url(config: &crate::config::Config) -> String {
    format!(
        "{}/sign-in/sso/callback",
        config.public_url.as_str().trim_end_matches('/')
    )
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The logged-in user, or null for a visitor.
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        viewer(ctx).map(|v| User(v.user.clone()))
    }

    /// How people may sign in here (the operator may turn passwords and links off).
    async fn sign_in_methods(&self, ctx: &Context<'_>) -> async_graphql::Result<SignInMethods> {
        let state = ctx.data::<AppState>()?;
        let settings = &state.config.sign_in;
        Ok(SignInMethods {
            password: settings.password,
            link: settings.link,
            single_sign_on: state.oidc.is_some(),
        })
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Log in with email and password. A wrong email and a wrong password give the same
    /// `UNAUTHENTICATED` error; repeated failures give `RATE_LIMITED`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your email address.")] email: String,
        #[graphql(desc = "Your password.")] password: String,
    ) -> async_graphql::Result<LoginPayload> {
        require_method(ctx, |s| s.password)?;
        ctx.data::<PasswordChecks>()?.claim()?;
        let state = ctx.data::<AppState>()?;
        let ip = ctx.data_opt::<ClientIp>().and_then(|c| c.0);
        let user =
            service::verify_login(&state.db, &state.login_throttle, &email, &password, ip).await?;
        let ttl = state.config.token_ttl;
        let (token, expires_at) = state
            .changes
            .run(async |txn| {
                service::issue_token(txn, ttl, user.id)
                    .await
                    .map(Done::quiet)
            })
            .await?;
        Ok(LoginPayload {
            token,
            expires_at,
            user: User(user),
        })
    }

    /// Change your password. Every session of yours ends (on every device); the answer holds
    /// a fresh token for this one. A wrong current password counts like a failed login.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password you have now.")] current_password: String,
        #[graphql(desc = "The new password (at least 12 characters).")] new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let viewer = require_viewer(ctx)?;
        ctx.data::<PasswordChecks>()?.claim()?;
        let state = ctx.data::<AppState>()?;
        let ip = ctx.data_opt::<ClientIp>().and_then(|c| c.0);
        let change = service::verify_password_change(
            &state.db,
            &state.login_throttle,
            viewer,
            &current_password,
            &new_password,
            ip,
        )
        .await?;
        let ttl = state.config.token_ttl;
        let outcome = state
            .changes
            .run(async |txn| service::change_password(txn, viewer, change, ttl).await)
            .await?;
        Ok(LoginPayload {
            token: outcome.token,
            expires_at: outcome.expires_at,
            user: User(outcome.user),
        })
    }

    /// Finish a single sign-on: the pages send the person to the university's identity
    /// provider (`/sign-in/sso`), which returns them with a `code`; this exchanges it (with
    /// the PKCE `codeVerifier`) for an ID token, verifies it (signature, issuer, audience,
    /// `nonce`, expiry) and signs the person in: the user with the identity's subject, else
    /// with its verified email, else (by setting) a new staff member of their community. A
    /// token that fails a check, a used code or a deactivated account is `UNAUTHENTICATED`;
    /// someone the service does not know is `FORBIDDEN`; without single sign-on configured,
    /// `FORBIDDEN` too.
    async fn sign_in_with_single_sign_on(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code the provider returned.")] code: String,
        #[graphql(desc = "The PKCE verifier of this sign-in.")] code_verifier: String,
        #[graphql(desc = "The nonce of this sign-in.")] nonce: String,
    ) -> async_graphql::Result<SingleSignOn> {
        let state = ctx.data::<AppState>()?;
        let Some(oidc) = state.oidc.clone() else {
            return Err(AppError::forbidden("Single sign-on is not set up here.").into());
        };
        if code.len() > 2048 || code_verifier.len() > 128 || nonce.len() > 128 {
            return Err(AppError::SignInRefused("oversized parameters".into()).into());
        }
        let identity = oidc
            .finish(&code, &code_verifier, &nonce, &callback_url(&state.config))
            .await?;
        let ttl = state.config.token_ttl;
        let (user, token, expires_at) = state
            .changes
            .run(async |txn| {
                let (user, events) =
                    super::oidc::person_of(txn, oidc.settings(), &identity).await?;
                let (token, expires_at) = service::issue_token(txn, ttl, user.id).await?;
                Ok(Done {
                    value: (user, token, expires_at),
                    events,
                    queued: 0,
                })
            })
            .await?;
        Ok(SingleSignOn {
            login: LoginPayload {
                token,
                expires_at,
                user: User(user),
            },
            id_token: identity.id_token,
        })
    }

    /// Email a one-time sign-in link (works once, for 15 minutes) to an address. The answer
    /// is `true` whether or not the address has an account; requests count against the login
    /// throttle like failed logins (`RATE_LIMITED`).
    async fn request_sign_in_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your email address.")] email: String,
        #[graphql(desc = "The path on this site to open after signing in (default `/`).")]
        next: Option<String>,
    ) -> async_graphql::Result<bool> {
        require_method(ctx, |s| s.link)?;
        email_link(ctx, &email, next.as_deref(), links::LinkPurpose::SignIn).await
    }

    /// Email a link to choose a new password for a forgotten one (works once, for 60
    /// minutes; using it ends every other session). The answer is `true` whether or not the
    /// address has an account; requests count against the login throttle (`RATE_LIMITED`).
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your email address.")] email: String,
    ) -> async_graphql::Result<bool> {
        require_method(ctx, |s| s.password)?;
        email_link(ctx, &email, None, links::LinkPurpose::ResetPassword).await
    }

    /// Sign in with the token of a sign-in link. A used, expired or unknown link is
    /// `UNAUTHENTICATED`.
    async fn sign_in_with_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token at the end of the link.")] token: String,
    ) -> async_graphql::Result<LinkSignIn> {
        require_method(ctx, |s| s.link)?;
        let state = ctx.data::<AppState>()?;
        let ttl = state.config.token_ttl;
        let (user, next, token, expires_at) = state
            .changes
            .run(async |txn| {
                let (user, next) =
                    links::use_link(txn, &token, &[links::LinkPurpose::SignIn]).await?;
                let (token, expires_at) = service::issue_token(txn, ttl, user.id).await?;
                Ok(Done::quiet((user, next, token, expires_at)))
            })
            .await?;
        Ok(LinkSignIn {
            login: LoginPayload {
                token,
                expires_at,
                user: User(user),
            },
            next,
        })
    }

    /// Set the password of a new account with the token of the link in its welcome email
    /// (works once, for 7 days), and sign in: any other session of the account ends. A password
    /// against the policy is `BAD_USER_INPUT` on `newPassword` and leaves the link usable; a
    /// used, expired or unknown link is `UNAUTHENTICATED`.
    async fn set_password_with_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token at the end of the link.")] token: String,
        #[graphql(desc = "The new password (at least 12 characters).")] new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        if token.len() > 128 {
            return Err(AppError::Unauthenticated.into());
        }
        check_password_policy(&new_password).map_err(|e| match e {
            AppError::BadInput { message, .. } => AppError::bad_input("newPassword", message),
            other => other,
        })?;
        ctx.data::<PasswordChecks>()?.claim()?;
        let hashed = hash_off_runtime(&new_password).await?;
        let state = ctx.data::<AppState>()?;
        let ttl = state.config.token_ttl;
        let outcome = state
            .changes
            .run(async |txn| service::set_password_with_link(txn, &token, hashed, ttl).await)
            .await?;
        Ok(LoginPayload {
            token: outcome.token,
            expires_at: outcome.expires_at,
            user: User(outcome.user),
        })
    }

    /// Revoke the token this request was made with.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = require_viewer(ctx)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::logout(txn, viewer).await)
            .await?;
        Ok(true)
    }
}

/// Emails a one-time link of `purpose` to the account of `email`, if there is one (the answer
/// is the same either way).
async fn email_link(
    ctx: &Context<'_>,
    email: &str,
    next: Option<&str>,
    purpose: links::LinkPurpose,
) -> async_graphql::Result<bool> {
    let state = ctx.data::<AppState>()?;
    let ip = ctx.data_opt::<ClientIp>().and_then(|c| c.0);
    let Some(user) = links::link_recipient(&state.db, &state.login_throttle, email, ip).await?
    else {
        return Ok(true);
    };
    let next = links::safe_next(next);
    let (template, path, key) = match purpose {
        links::LinkPurpose::SignIn => (Template::SignInLink, "sign-in/link", "sign-in-link"),
        links::LinkPurpose::SetPassword | links::LinkPurpose::ResetPassword => {
            (Template::PasswordReset, "set-password", "password-reset")
        }
    };
    let mail = state.mail();
    state
        .changes
        .run(async |txn| {
            let (token, _) = links::create_link(txn, user.id, &next, purpose).await?;
            let letter = NewDelivery {
                dedupe_key: format!("{key}:{}", crate::auth::token::hash_token(&token)),
                recipient: user.clone(),
                template,
                thread_id: None,
                payload: serde_json::to_value(SignInLinkMail {
                    link: mail.link(&format!("{path}/{token}")),
                    minutes: purpose.ttl().num_minutes(),
                })
                .map_err(AppError::internal)?,
                reply_to: None,
                event_id: None,
            };
            let queued = outbox::insert(txn, vec![letter], mail.domain()).await?;
            Ok(Done::mail(queued))
        })
        .await?;
    Ok(true)
}
