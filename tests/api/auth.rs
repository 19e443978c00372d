use chrono::Utc;
use entity::access_token;
use sea_orm::{EntityTrait, Set};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_ok, error_code, spawn_app};

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token expiresAt user { email displayName isAdmin } } }";

#[tokio::test]
async fn login_returns_a_token_that_identifies_the_user() {
    let app = spawn_app().await;
    app.create_user("Maija.Mentor@Uni.test", false).await;

    // Email matching is case-insensitive.
    let body = app
        .graphql(
            LOGIN,
            json!({ "e": "maija.mentor@UNI.test", "p": PASSWORD }),
            None,
        )
        .await;
    assert_ok(&body);
    let token = body["data"]["login"]["token"].as_str().unwrap();
    assert_eq!(
        body["data"]["login"]["user"]["email"],
        "maija.mentor@uni.test"
    );

    let me = app
        .graphql("{ me { email isAdmin } }", json!({}), Some(token))
        .await;
    assert_eq!(me["data"]["me"]["email"], "maija.mentor@uni.test");
    assert_eq!(me["data"]["me"]["isAdmin"], false);

    let anonymous = app.graphql("{ me { email } }", json!({}), None).await;
    assert!(anonymous["data"]["me"].is_null());
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    app.create_user("a@uni.test", false).await;
    let token = app.login("a@uni.test", PASSWORD).await;
    let rows = access_token::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, token);
    assert!(!rows[0].token_hash.contains(&token));
    assert_eq!(rows[0].token_hash.len(), 64);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_the_same_way() {
    let app = spawn_app().await;
    app.create_user("known@uni.test", false).await;
    let wrong_password = app
        .graphql(
            LOGIN,
            json!({ "e": "known@uni.test", "p": "not-the-password" }),
            None,
        )
        .await;
    let unknown_email = app
        .graphql(
            LOGIN,
            json!({ "e": "nobody@uni.test", "p": "not-the-password" }),
            None,
        )
        .await;
    assert_eq!(
        error_code(&wrong_password).as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
    assert_eq!(error_code(&wrong_password), error_code(&unknown_email));
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_per_email() {
    let app = spawn_app().await;
    app.create_user("target@uni.test", false).await;
    for _ in 0..5 {
        let body = app
            .graphql(
                LOGIN,
                json!({ "e": "target@uni.test", "p": "guess-guess-guess" }),
                None,
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    // Even the right password is refused while the email is throttled.
    let body = app
        .graphql(
            LOGIN,
            json!({ "e": "target@uni.test", "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
    // Another account is not affected by this email's failures.
    app.create_user("other@uni.test", false).await;
    app.login("other@uni.test", PASSWORD).await;
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_per_ip() {
    let app = spawn_app().await;
    app.create_user("real@uni.test", false).await;
    for i in 0..30 {
        let body = app
            .graphql(
                LOGIN,
                json!({ "e": format!("guess{i}@uni.test"), "p": "guess-guess-guess" }),
                None,
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    let body = app
        .graphql(LOGIN, json!({ "e": "real@uni.test", "p": PASSWORD }), None)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = spawn_app().await;
    app.create_user("a@uni.test", false).await;
    let token = app.login("a@uni.test", PASSWORD).await;
    let other_session = app.login("a@uni.test", PASSWORD).await;

    let body = app
        .graphql("mutation { logout }", json!({}), Some(&token))
        .await;
    assert_eq!(body["data"]["logout"], true);

    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));

    // Only that session ends.
    let me = app
        .graphql("{ me { email } }", json!({}), Some(&other_session))
        .await;
    assert_eq!(me["data"]["me"]["email"], "a@uni.test");
}

#[tokio::test]
async fn expired_tokens_and_malformed_headers_are_refused() {
    let app = spawn_app().await;
    app.create_user("a@uni.test", false).await;
    let token = app.login("a@uni.test", PASSWORD).await;
    let row = access_token::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    access_token::Entity::update(access_token::ActiveModel {
        id: Set(row.id),
        expires_at: Set(Utc::now() - chrono::Duration::seconds(1)),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .unwrap();
    let body = app
        .graphql("{ me { email } }", json!({}), Some(&token))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));

    for header in ["Basic abc", "Bearer", "Bearer not-a-token"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("authorization", header)
            .json(&json!({ "query": "{ topics { slug } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
    }
}

#[tokio::test]
async fn users_without_password_cannot_log_in() {
    let app = spawn_app().await;
    let id = app.create_user("nopw@uni.test", false).await;
    entity::user::Entity::update(entity::user::ActiveModel {
        id: Set(id),
        password_hash: Set(None),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .unwrap();
    let body = app
        .graphql(LOGIN, json!({ "e": "nopw@uni.test", "p": PASSWORD }), None)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
}

const CHANGE_PASSWORD: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { email } } }";

#[tokio::test]
async fn changing_the_password_ends_every_session_and_issues_a_fresh_token() {
    let app = spawn_app().await;
    app.create_user("changer@uni.test", false).await;
    let laptop = app.login("changer@uni.test", PASSWORD).await;
    let phone = app.login("changer@uni.test", PASSWORD).await;
    let me = "{ me { email } }";

    let wrong = app
        .graphql(
            CHANGE_PASSWORD,
            json!({ "c": "not-my-password", "n": "a brand new password" }),
            Some(&laptop),
        )
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
    let short = app
        .graphql(
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "short" }),
            Some(&laptop),
        )
        .await;
    assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword");
    let anonymous = app
        .graphql(
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "a brand new password" }),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
    // Refused attempts changed nothing.
    assert_eq!(
        app.graphql(me, json!({}), Some(&phone)).await["data"]["me"]["email"],
        "changer@uni.test"
    );

    let changed = app
        .graphql(
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "a brand new password" }),
            Some(&laptop),
        )
        .await;
    let fresh = changed["data"]["changePassword"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{changed}"))
        .to_owned();
    for old in [&laptop, &phone] {
        let body = app.graphql(me, json!({}), Some(old)).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAUTHENTICATED"),
            "{body}"
        );
    }
    assert_eq!(
        app.graphql(me, json!({}), Some(&fresh)).await["data"]["me"]["email"],
        "changer@uni.test"
    );
    let old_login = app
        .graphql(
            LOGIN,
            json!({ "e": "changer@uni.test", "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&old_login).as_deref(), Some("UNAUTHENTICATED"));
    app.login("changer@uni.test", "a brand new password").await;
}

async fn login_from(
    app: &crate::helpers::TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> Option<String> {
    let body: serde_json::Value = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    error_code(&body)
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_not_the_proxy() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.create_user("real@uni.test", false).await;
    for i in 0..30 {
        let code = login_from(
            &app,
            "198.51.100.1",
            &format!("guess{i}@uni.test"),
            "guess-guess",
        )
        .await;
        assert_eq!(code.as_deref(), Some("UNAUTHENTICATED"));
    }
    let blocked = login_from(&app, "198.51.100.1", "real@uni.test", PASSWORD).await;
    assert_eq!(blocked.as_deref(), Some("RATE_LIMITED"));
    // Everyone else behind the same proxy may still log in.
    assert_eq!(
        login_from(&app, "198.51.100.2", "real@uni.test", PASSWORD).await,
        None
    );

    // Without trusting the proxy, the header is ignored: a client cannot pick its address.
    let direct = spawn_app().await;
    direct.create_user("real@uni.test", false).await;
    for i in 0..30 {
        login_from(
            &direct,
            &format!("198.51.100.{i}"),
            &format!("guess{i}@uni.test"),
            "guess-guess",
        )
        .await;
    }
    let blocked = login_from(&direct, "198.51.100.200", "real@uni.test", PASSWORD).await;
    assert_eq!(blocked.as_deref(), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn a_token_is_resolved_in_one_statement_that_leaves_the_password_hash_unread() {
    use entity::membership::Role;
    use entity::organization::OrganizationKind;
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mentor = ch.user_id("science.mentor");
    app.add_role(mentor, ch.org("arts").parse().unwrap(), Role::Member)
        .await;
    for (who, grants) in [("science.mentor", 2), ("admin", 0), ("lead", 1)] {
        let before = app.quiet_statements().await;
        let viewer = digimentor::auth::service::authenticate(&app.state.db, ch.token(who).unwrap())
            .await
            .unwrap();
        assert_eq!(app.state.statements.get() - before, 1, "{who}");
        assert_eq!(viewer.user.email, format!("{who}@uni.test"));
        assert_eq!(viewer.grants.len(), grants, "{who}");
        assert_eq!(viewer.user.password_hash, None, "{who}: the hash was read");
        let stored = entity::user::Entity::find_by_id(viewer.id())
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.password_hash.is_some(), "{who} has a password");
        assert_eq!(
            entity::user::Model {
                password_hash: None,
                ..stored
            },
            viewer.user
        );
    }
    let viewer =
        digimentor::auth::service::authenticate(&app.state.db, ch.token("science.mentor").unwrap())
            .await
            .unwrap();
    assert!(viewer.holds(ch.org("science").parse().unwrap(), Role::Mentor));
    assert!(viewer.holds(ch.org("arts").parse().unwrap(), Role::Member));
    assert!(
        viewer
            .grants
            .iter()
            .all(|g| g.organization_kind == OrganizationKind::Faculty)
    );
    // Unknown, revoked: refused in the same one statement.
    let before = app.quiet_statements().await;
    assert!(
        digimentor::auth::service::authenticate(&app.state.db, "dmt_unknown")
            .await
            .is_err()
    );
    assert_eq!(app.state.statements.get() - before, 1);
    assert_ok(
        &app.graphql("mutation { logout }", json!({}), ch.token("lead"))
            .await,
    );
    assert!(
        digimentor::auth::service::authenticate(&app.state.db, ch.token("lead").unwrap())
            .await
            .is_err()
    );
}
