//! Single sign-on against a real, certified OpenID provider run locally (`oidc-provider` from
//! npm, `tests/browser/oidc-provider.mjs`): ID tokens that fail any check are refused; people
//! are matched by subject or verified email, and unknown people are made staff of their
//! community or refused, by setting; password and link sign-in can be turned off. The browser
//! flow itself (redirect, consent, callback, session, sign-out) is in `browser.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use digimentor::auth::oidc::{Identity, Oidc};
use digimentor::config::{OidcSettings, UnknownPeople};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_ok, error_code, free_port, spawn_app_with};

pub(crate) const CLIENT_ID: &str = "digimentor";
pub(crate) const CLIENT_SECRET: &str = "digimentor-test-secret";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/oidc-provider.mjs"
);
const PACKAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/node_modules/oidc-provider/package.json"
);

/// The provider's process, stopped when dropped.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider on `port` for a service at `service` (its base URL), with these
    /// accounts (login → claims); `None` when node or the package is missing (not under CI).
    pub(crate) fn start(port: u16, service: &str, accounts: Value) -> Option<Self> {
        let node = Command::new("node").arg("--version").output().is_ok();
        if !node || !std::path::Path::new(PACKAGE).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "node or oidc-provider is missing (npm ci in tests/browser); .ci/run installs them"
            );
            eprintln!("SKIPPED: the single sign-on test needs node and oidc-provider");
            return None;
        }
        let mut child = Command::new("node")
            .arg(SCRIPT)
            .env("PORT", port.to_string())
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", format!("{service}/sign-in/sso/callback"))
            .env("POST_LOGOUT_URI", format!("{service}/"))
            .env("ACCOUNTS", accounts.to_string())
            .env("NODE_ENV", "test")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the provider did not start");
        // Whatever it prints later is read, so that it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Some(Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        })
    }

    /// An ID token with these claims, signed with the provider's own key.
    pub(crate) async fn sign(&self, claims: Value) -> String {
        reqwest::Client::new()
            .get(format!("{}/test/sign", self.issuer))
            .query(&[("claims", claims.to_string())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

pub(crate) fn settings(issuer: &str, unknown: UnknownPeople) -> OidcSettings {
    OidcSettings {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        scopes: "openid email profile".to_owned(),
        email_claim: "email".to_owned(),
        name_claim: "name".to_owned(),
        community_claim: Some("department".to_owned()),
        communities: vec![("Faculty of Arts".to_owned(), "arts".to_owned())],
        unknown_people: unknown,
        trust_email: false,
    }
}

/// The accounts the provider knows (each login is its subject): a staff member the service knows by email, a newcomer of
/// the Faculty of Arts, someone of no community, and one whose address is not verified.
pub(crate) fn accounts() -> Value {
    json!({
        "staff": { "email": "science.staff@uni.test", "email_verified": true, "name": "Science Staff", "department": "science" },
        "newcomer": { "email": "newcomer@uni.test", "email_verified": true, "name": "Uusi Tulokas", "department": "Faculty of Arts" },
        "stranger": { "email": "stranger@elsewhere.test", "email_verified": true, "name": "Stranger", "department": "nowhere" },
        "unverified": { "email": "arts.staff@uni.test", "email_verified": false, "name": "Arts Staff", "department": "arts" },
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn id_tokens_that_fail_any_check_are_refused() {
    let port = free_port();
    let Some(provider) = Provider::start(port, "http://127.0.0.1:9", accounts()) else {
        return;
    };
    let oidc = Oidc::new(settings(&provider.issuer, UnknownPeople::Refuse));
    let good = json!({
        "iss": provider.issuer, "aud": CLIENT_ID, "sub": "sub-1", "nonce": "n-1",
        "iat": now(), "exp": now() + 300, "email": "A@Uni.Test", "email_verified": true,
        "name": "A", "department": "science",
    });
    // The checks can pass: a token as the provider issues it is accepted.
    let token = provider.sign(good.clone()).await;
    let identity: Identity = oidc.verify(&token, "n-1").await.unwrap();
    assert_eq!(identity.subject, "sub-1");
    assert_eq!(identity.email.as_deref(), Some("a@uni.test"));
    assert!(identity.email_verified);
    assert_eq!(identity.community.as_deref(), Some("science"));

    let with = |changes: Value| {
        let mut claims = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let cases = [
        (
            "expired",
            with(json!({ "exp": now() - 3600, "iat": now() - 7200 })),
        ),
        ("another audience", with(json!({ "aud": "someone-else" }))),
        (
            "another issuer",
            with(json!({ "iss": "http://127.0.0.1:1" })),
        ),
        ("another nonce", with(json!({ "nonce": "n-2" }))),
        ("no nonce", with(json!({ "nonce": null }))),
        ("no expiry", with(json!({ "exp": null }))),
        ("no subject", with(json!({ "sub": null }))),
        (
            "several audiences, not for us",
            with(json!({ "aud": [CLIENT_ID, "other"], "azp": "other" })),
        ),
    ];
    for (what, claims) in cases {
        let token = provider.sign(claims).await;
        let refused = oidc.verify(&token, "n-1").await;
        assert!(
            matches!(refused, Err(digimentor::error::AppError::SignInRefused(_))),
            "{what}: {:?}",
            refused.map(|i| i.subject)
        );
    }
    // A valid token altered after signing: its payload says someone else.
    let signed = provider.sign(good.clone()).await;
    let parts: Vec<&str> = token_parts(&signed);
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("sub-admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(payload.to_string()),
        parts[2]
    );
    assert!(oidc.verify(&tampered, "n-1").await.is_err());
    // An unsigned token, and one "signed" with a shared secret, are not accepted either.
    let unsigned = format!(
        "{}.{}.",
        engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert!(oidc.verify(&unsigned, "n-1").await.is_err());
    let hs = format!(
        "{}.{}.{}",
        engine.encode(r#"{"alg":"HS256","typ":"JWT","kid":"test-key"}"#),
        parts[1],
        parts[2]
    );
    assert!(oidc.verify(&hs, "n-1").await.is_err());
    assert!(oidc.verify("not a token", "n-1").await.is_err());
}

fn token_parts(token: &str) -> Vec<&str> {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    parts
}

fn identity(sub: &str, email: &str, verified: bool, department: Option<&str>) -> Identity {
    Identity {
        subject: sub.to_owned(),
        email: Some(email.to_owned()),
        email_verified: verified,
        name: Some("Named Person".to_owned()),
        community: department.map(str::to_owned),
        id_token: String::new(),
    }
}

async fn person(
    app: &TestApp,
    settings: &OidcSettings,
    who: &Identity,
) -> Result<entity::user::Model, digimentor::error::AppError> {
    app.state
        .changes
        .run(async |txn| digimentor::auth::oidc::person_of(txn, settings, who).await)
        .await
}

#[tokio::test]
async fn identities_match_by_subject_or_verified_email_and_unknown_people_follow_the_setting() {
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    let refuse = settings("http://127.0.0.1:9", UnknownPeople::Refuse);
    let create = settings("http://127.0.0.1:9", UnknownPeople::Create);

    // A known address, verified: that user, who keeps the subject from now on.
    let staff = identity("sub-staff", "science.staff@uni.test", true, None);
    let found = person(&app, &refuse, &staff).await.unwrap();
    assert_eq!(found.id, ch.user_id("science.staff"));
    assert_eq!(found.oidc_subject.as_deref(), Some("sub-staff"));
    // The subject finds them even after the provider changed their address.
    let moved = identity("sub-staff", "s.staff@new.uni.test", true, None);
    assert_eq!(person(&app, &refuse, &moved).await.unwrap().id, found.id);
    // Another identity with the same address is not let in to that account.
    let impostor = identity("sub-other", "science.staff@uni.test", true, None);
    assert!(person(&app, &refuse, &impostor).await.is_err());
    // An address the provider does not vouch for matches nobody.
    let unverified = identity("sub-unverified", "arts.staff@uni.test", false, Some("arts"));
    let err = person(&app, &refuse, &unverified).await.unwrap_err();
    assert_eq!(err.code().as_str(), "FORBIDDEN");

    // Unknown people: refused, or made staff of the community their claim names.
    let newcomer = identity(
        "sub-new",
        "newcomer@uni.test",
        true,
        Some("Faculty of Arts"),
    );
    let err = person(&app, &refuse, &newcomer).await.unwrap_err();
    assert_eq!(err.code().as_str(), "FORBIDDEN");
    let made = person(&app, &create, &newcomer).await.unwrap();
    assert_eq!(made.email, "newcomer@uni.test");
    assert_eq!(made.display_name, "Named Person");
    assert!(made.password_hash.is_none());
    let members = app
        .graphql(
            "{ organization(slug: \"arts\") { members { role person { email } } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert_ok(&members);
    assert!(
        members["data"]["organization"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "MEMBER" && m["person"]["email"] == "newcomer@uni.test"),
        "{members}"
    );
    // Again: the same account, nothing new.
    assert_eq!(person(&app, &create, &newcomer).await.unwrap().id, made.id);
    // A department that is no community of the network, or none: refused.
    for department in [Some("nowhere"), Some("management"), None] {
        let who = identity("sub-x", "x@uni.test", true, department);
        let err = person(&app, &create, &who).await.unwrap_err();
        assert_eq!(err.code().as_str(), "FORBIDDEN", "{department:?}");
    }
    // A deactivated person is not let in by their identity.
    assert_ok(
        &app.graphql(
            "mutation($u: ID!) { deactivateUser(userId: $u) { id } }",
            json!({ "u": made.id.to_string() }),
            ch.token("admin"),
        )
        .await,
    );
    let err = person(&app, &create, &newcomer).await.unwrap_err();
    assert_eq!(err.code().as_str(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn password_and_link_sign_in_can_be_turned_off() {
    let app = spawn_app_with(|c| {
        c.sign_in.password = false;
        c.sign_in.link = false;
        c.sign_in.oidc = Some(settings("http://127.0.0.1:9", UnknownPeople::Refuse));
    })
    .await;
    app.create_user("science.staff@uni.test", false).await;
    let methods = app
        .graphql(
            "{ signInMethods { password link singleSignOn } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        methods["data"]["signInMethods"],
        json!({ "password": false, "link": false, "singleSignOn": true })
    );
    for (query, vars) in [
        (
            "mutation($e: String!) { login(email: $e, password: \"test-password-123\") { token } }",
            json!({ "e": "science.staff@uni.test" }),
        ),
        (
            "mutation($e: String!) { requestSignInLink(email: $e) }",
            json!({ "e": "science.staff@uni.test" }),
        ),
        (
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({ "e": "science.staff@uni.test" }),
        ),
        (
            "mutation { signInWithLink(token: \"dms_nothing\") { next } }",
            json!({}),
        ),
    ] {
        let body = app.graphql(query, vars, None).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{query}: {body}"
        );
    }
    // The sign-in page offers only the university account.
    let page = reqwest::Client::new()
        .get(app.url("/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("href=\"/sign-in/sso?next="), "{page}");
    assert!(!page.contains("type=\"password\""));
    assert!(!page.contains("action=\"/sign-in/link\""));

    // With single sign-on not set up, its mutation says so.
    let plain = spawn_app_with(|_| {}).await;
    let body = plain
        .graphql(
            "mutation { signInWithSingleSignOn(code: \"c\", codeVerifier: \"v\", nonce: \"n\") { idToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    let page = reqwest::Client::new()
        .get(plain.url("/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("/sign-in/sso"));
    assert!(page.contains("type=\"password\""));
}
