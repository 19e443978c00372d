//! Single sign-on with OpenID Connect: the authorization code flow with PKCE against the
//! university's identity provider (discovered from its issuer), the ID token verified
//! (signature by the provider's published keys, issuer, audience, nonce, expiry), and the
//! identity matched to a user by stored subject or verified email, or, by setting, made a new
//! staff member of the community a claim names.
//!
//! `jsonwebtoken` checks the signature and the registered claims; the rest of the protocol is
//! two HTTP calls and the checks below.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::membership::Role;
use entity::{event, user};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use url::Url;

use crate::config::{OidcSettings, UnknownPeople};
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::values::{Email, TimeZone};

/// How long discovered metadata and keys are used before they are fetched again.
const REFRESH: Duration = Duration::from_secs(3600);
/// The soonest the keys are fetched again for a key id not seen before.
const KEY_RETRY: Duration = Duration::from_secs(60);
/// Clock difference allowed between the provider and this server.
const LEEWAY_SECS: u64 = 60;

/// What the provider's discovery document says that this flow needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

struct Provider {
    metadata: Metadata,
    keys: JwkSet,
    fetched_at: Instant,
    keys_fetched_at: Instant,
}

/// The configured identity provider.
pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    provider: RwLock<Option<Provider>>,
}

/// A started sign-in: send the browser to `url`; keep `state`, `nonce` and `verifier` (in a
/// cookie) for the callback.
pub struct Begun {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider says signed in, after every check passed.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    /// The provider vouches for the address (`email_verified`, or the trust setting).
    pub email_verified: bool,
    pub name: Option<String>,
    /// The value of the community claim, when configured and present.
    pub community: Option<String>,
    /// The raw ID token, as the hint for signing out at the provider.
    pub id_token: String,
}

/// A refused sign-in, with why (logged; the person sees a plain page).
fn refused(reason: impl Into<String>) -> AppError {
    AppError::SignInRefused(reason.into())
}

fn unavailable(what: &str, err: impl std::fmt::Display) -> AppError {
    AppError::Unavailable(format!("identity provider: {what}: {err}").into())
}

/// A random URL-safe string of `bytes` random bytes.
fn random(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            settings,
            http,
            provider: RwLock::new(None),
        }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
    ) -> AppResult<T> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(what, e))?;
        if !response.status().is_success() {
            return Err(unavailable(what, response.status()));
        }
        response.json().await.map_err(|e| unavailable(what, e))
    }

    /// Discovers the provider (`/.well-known/openid-configuration`) and its keys.
    async fn fetch(&self) -> AppResult<Provider> {
        let issuer = self.settings.issuer.trim_end_matches('/');
        let metadata: Metadata = self
            .get_json(
                "discovery",
                &format!("{issuer}/.well-known/openid-configuration"),
            )
            .await?;
        if metadata.issuer.trim_end_matches('/') != issuer {
            return Err(unavailable(
                "discovery",
                format!("it names itself {:?}, not {issuer:?}", metadata.issuer),
            ));
        }
        let keys: JwkSet = self.get_json("keys", &metadata.jwks_uri).await?;
        let now = Instant::now();
        Ok(Provider {
            metadata,
            keys,
            fetched_at: now,
            keys_fetched_at: now,
        })
    }

    /// The provider's metadata, discovered once an hour.
    pub async fn metadata(&self) -> AppResult<Metadata> {
        if let Some(p) = self.provider.read().await.as_ref()
            && p.fetched_at.elapsed() < REFRESH
        {
            return Ok(p.metadata.clone());
        }
        let fresh = self.fetch().await?;
        let metadata = fresh.metadata.clone();
        *self.provider.write().await = Some(fresh);
        Ok(metadata)
    }

    /// Starts a sign-in that returns to `redirect_uri`.
    pub async fn begin(&self, redirect_uri: &str) -> AppResult<Begun> {
        let metadata = self.metadata().await?;
        let state = random(24);
        let nonce = random(24);
        let verifier = random(48);
        let mut url = Url::parse(&metadata.authorization_endpoint)
            .map_err(|e| unavailable("authorization endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.settings.scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Begun {
            url: url.into(),
            state,
            nonce,
            verifier,
        })
    }

    /// Exchanges the code for tokens and verifies the ID token.
    pub async fn finish(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> AppResult<Identity> {
        let metadata = self.metadata().await?;
        let response = self
            .http
            .post(&metadata.token_endpoint)
            .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| unavailable("token endpoint", e))?;
        let status = response.status();
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(e) if status.is_server_error() || status.is_success() => {
                return Err(unavailable("token endpoint", e));
            }
            Err(_) => Value::Null,
        };
        if !status.is_success() {
            // An expired or used code, a wrong verifier: the person starts again.
            return Err(refused(format!(
                "the token endpoint answered {status}: {}",
                body["error"].as_str().unwrap_or("?")
            )));
        }
        let id_token = body["id_token"]
            .as_str()
            .ok_or_else(|| refused("the token endpoint gave no ID token"))?;
        self.verify(id_token, nonce).await
    }

    /// The key that signed a token, fetching the keys again (at most once a minute) for a key
    /// id not seen before: the provider rotated its keys.
    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> AppResult<DecodingKey> {
        let pick = |keys: &JwkSet| -> Option<AppResult<DecodingKey>> {
            let jwk = match kid {
                Some(kid) => keys.find(kid),
                None if keys.keys.len() == 1 => keys.keys.first(),
                None => None,
            }?;
            // The key's `alg`, when it has one, must be the token's (the two enums share
            // their variant names).
            if let Some(key_alg) = jwk.common.key_algorithm
                && format!("{key_alg:?}") != format!("{alg:?}")
            {
                return Some(Err(refused("the token's algorithm is not its key's")));
            }
            Some(DecodingKey::from_jwk(jwk).map_err(|e| refused(format!("unusable key: {e}"))))
        };
        self.metadata().await?;
        if let Some(p) = self.provider.read().await.as_ref()
            && let Some(found) = pick(&p.keys)
        {
            return found;
        }
        let mut provider = self.provider.write().await;
        if let Some(p) = provider.as_mut()
            && p.keys_fetched_at.elapsed() >= KEY_RETRY
        {
            p.keys = self.get_json("keys", &p.metadata.jwks_uri).await?;
            p.keys_fetched_at = Instant::now();
        }
        provider
            .as_ref()
            .and_then(|p| pick(&p.keys))
            .unwrap_or_else(|| {
                Err(refused(
                    "the token is signed by a key the provider does not publish",
                ))
            })
    }

    /// Verifies an ID token: signed with an asymmetric algorithm by a key the provider
    /// publishes, by this issuer, for this client, not expired, with this sign-in's nonce.
    pub async fn verify(&self, id_token: &str, nonce: &str) -> AppResult<Identity> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|e| refused(format!("not a signed token: {e}")))?;
        let alg = header.alg;
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(refused("symmetric signatures are not accepted"));
        }
        let key = self.key_for(header.kid.as_deref(), alg).await?;
        let metadata = self.metadata().await?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[metadata.issuer.as_str()]);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
            .map_err(|e| refused(format!("the ID token was refused: {e}")))?
            .claims;
        let given = claims
            .get("nonce")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), nonce.as_bytes()) || nonce.is_empty() {
            return Err(refused("the ID token's nonce is not this sign-in's"));
        }
        // A token for several audiences must be meant for this client.
        if claims
            .get("aud")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
            && claims.get("azp").and_then(Value::as_str) != Some(self.settings.client_id.as_str())
        {
            return Err(refused("the ID token was issued to another client"));
        }
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let subject = text("sub").ok_or_else(|| refused("the ID token names no subject"))?;
        let email_verified = self.settings.trust_email
            || matches!(claims.get("email_verified"), Some(Value::Bool(true)))
            || claims.get("email_verified").and_then(Value::as_str) == Some("true");
        Ok(Identity {
            subject,
            email: text(&self.settings.email_claim).map(|e| e.to_lowercase()),
            email_verified,
            name: text(&self.settings.name_claim),
            community: self.settings.community_claim.as_deref().and_then(|claim| {
                match claims.get(claim) {
                    Some(Value::String(s)) => Some(s.trim().to_owned()),
                    Some(Value::Array(values)) => values
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|v| self.settings.community_slug(v).is_some())
                        .map(str::to_owned),
                    _ => None,
                }
            }),
            id_token: id_token.to_owned(),
        })
    }

    /// Where to send the browser to sign out at the provider too, if it offers it.
    pub async fn end_session_url(&self, id_token: Option<&str>, back_to: &str) -> Option<String> {
        let endpoint = self.metadata().await.ok()?.end_session_endpoint?;
        let mut url = Url::parse(&endpoint).ok()?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("post_logout_redirect_uri", back_to);
            if let Some(hint) = id_token {
                query.append_pair("id_token_hint", hint);
            }
        }
        Some(url.into())
    }

    /// Whether people the service does not know are made staff members.
    pub fn creates_people(&self) -> bool {
        self.settings.unknown_people == UnknownPeople::Create
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The person an identity signs in as: the user with its subject; else the user with its
/// verified address (who gets the subject stored, so a later change of address keeps the
/// account); else, when the settings say so, a new staff member of the community the identity
/// names. A deactivated or erased account is refused; so is someone unknown when people are not
/// made here (`FORBIDDEN`, with what to do).
pub async fn person_of(
    db: &impl ConnectionTrait,
    settings: &OidcSettings,
    identity: &Identity,
) -> AppResult<(user::Model, Vec<event::Model>)> {
    let usable = |user: user::Model| {
        if user.deactivated_at.is_some() || user.erased_at.is_some() {
            Err(refused("the account is deactivated"))
        } else {
            Ok(user)
        }
    };
    if let Some(user) = crate::db::users::without_password()
        .filter(user::Column::OidcSubject.eq(identity.subject.as_str()))
        .one(db)
        .await?
    {
        return Ok((usable(user)?, Vec::new()));
    }
    let email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
        .map(Email::parse)
        .transpose()
        .map_err(|_| refused("the identity's email address is not one"))?;
    if let Some(email) = &email
        && let Some(user) = crate::db::users::without_password()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(db)
            .await?
    {
        if user.oidc_subject.is_some() {
            return Err(refused(
                "the address belongs to an account bound to another identity",
            ));
        }
        let user = usable(user)?;
        user::ActiveModel {
            id: Set(user.id),
            oidc_subject: Set(Some(identity.subject.clone())),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(db)
        .await
        .map_err(AppError::unique_violation(
            "subject",
            "The identity is bound to another account.",
        ))?;
        let user = crate::db::users::without_password()
            .filter(user::Column::Id.eq(user.id))
            .one(db)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        return Ok((user, Vec::new()));
    }
    if settings.unknown_people != UnknownPeople::Create {
        return Err(AppError::forbidden(
            "The service has no account for this identity; an administrator adds people.",
        ));
    }
    let email = email.ok_or_else(|| {
        AppError::forbidden(
            "The identity carries no verified email address to make an account for.",
        )
    })?;
    let community = identity
        .community
        .as_deref()
        .and_then(|value| settings.community_slug(value));
    let organization = match community {
        Some(slug) => crate::directory::service::find_organization_by_slug(db, &slug).await?,
        None => None,
    }
    .filter(|o| crate::directory::service::is_community(o.kind))
    .ok_or_else(|| {
        AppError::forbidden(
            "The identity names no community of the network; an administrator adds people.",
        )
    })?;
    let name: String = identity
        .name
        .clone()
        .unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let user = crate::directory::service::insert_account(
        db,
        crate::directory::service::Account {
            email,
            display_name: name,
            locale: user::Locale::Fi,
            time_zone: TimeZone::default(),
            is_admin: false,
            password_hash: None,
            oidc_subject: Some(identity.subject.clone()),
        },
    )
    .await?;
    let (membership, added) = crate::directory::service::add_membership(
        db,
        Some(user.id),
        user.id,
        organization.id,
        Role::Member,
    )
    .await?;
    let joined = append_event(
        db,
        NewEvent {
            kind: EventKind::UserJoined,
            actor_id: Some(user.id),
            subject_id: user.id,
            object_id: Some(membership.id),
            organization_ids: vec![organization.id],
            topic_ids: vec![],
            audience: vec![
                Reader::User { id: user.id },
                Reader::organization(organization.id),
            ],
        },
    )
    .await?;
    Ok((user, vec![added, joined]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_values_differ_and_are_url_safe() {
        let a = random(24);
        assert_ne!(a, random(24));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(a.len(), 32);
    }
}
