//! The administrators' pages as people meet them over HTTP: only admins get in, every form
//! runs the API's admin mutation (and so lands in the audit log), bad input is shown beside
//! the form with nothing changed; and everyone downloads their own data.

use serde_json::{Value, json};

use crate::helpers::{Channel, TestApp, assert_ok, spawn_app};
use crate::pages::{Browser, signed_in};

const PAGES: [&str; 5] = [
    "/admin",
    "/admin/people",
    "/admin/organizations",
    "/admin/outbox",
    "/admin/audit",
];

async fn audit_actions(app: &TestApp, ch: &Channel) -> Vec<String> {
    let body = app
        .graphql(
            "{ auditLog(first: 100) { nodes { action } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    body["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn user(app: &TestApp, ch: &Channel, name: &str) -> Value {
    let body = app
        .graphql(
            "query($s: String!) { users(search: $s) { nodes { id displayName former memberships { id role organization { slug } } } } }",
            json!({ "s": format!("{name}@") }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    body["data"]["users"]["nodes"][0].clone()
}

#[tokio::test]
async fn only_admins_get_the_admin_pages() {
    let app = spawn_app().await;
    app.seed_channel().await;
    let mut visitor = Browser::new(&app);
    for page in PAGES {
        let got = visitor.get(page).await;
        assert_eq!(got.status, 303, "{page}");
        assert!(got.location.unwrap().starts_with("/sign-in"), "{page}");
    }
    for name in ["science.mentor", "lead", "unit.contact", "science.staff"] {
        let mut browser = signed_in(&app, name).await;
        for page in PAGES {
            let got = browser.get(page).await;
            assert_eq!(got.status, 403, "{name} {page}");
            assert!(!got.body.contains("admin-menu"), "{name} {page}");
        }
        // Nor is the way there offered to them.
        assert!(!browser.get("/me").await.body.contains("href=\"/admin\""));
        // A form posted anyway is refused as the API refuses it.
        let csrf = browser.get("/me").await.csrf();
        let got = browser
            .post(
                "/admin/outbox/00000000-0000-0000-0000-000000000000/retry",
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(got.status, 403, "{name}");
    }
    let mut admin = signed_in(&app, "admin").await;
    assert!(admin.get("/me").await.body.contains("href=\"/admin\""));
    for page in PAGES {
        let got = admin.get(page).await;
        assert_eq!(got.status, 200, "{page}: {}", got.body);
    }
    // A cursor the API does not know is the reader's bad address, not an error.
    assert_eq!(admin.get("/admin/audit?after=nonsense").await.status, 400);
}

#[tokio::test]
async fn an_admin_runs_the_network_from_the_admin_pages_and_every_change_is_audited() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut admin = signed_in(&app, "admin").await;

    // People: search, give a role, take it away, deactivate, reactivate.
    let page = admin.get("/admin/people?search=arts.staff").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("arts.staff@uni.test"), "{}", page.body);
    assert!(!page.body.contains("science.staff@uni.test"));
    let csrf = page.csrf();
    let staff = user(&app, &ch, "arts.staff").await;
    let id = staff["id"].as_str().unwrap().to_owned();
    let got = admin
        .post(
            &format!("/admin/people/{id}/add-role"),
            &[
                ("csrf", &csrf),
                ("organization", &ch.org("science")),
                ("role", "MENTOR"),
            ],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(got.location.as_deref(), Some("/admin/people?done=1"));
    let done = admin.follow(got).await;
    assert!(done.body.contains("role=\"status\""), "{}", done.body);
    let staff = user(&app, &ch, "arts.staff").await;
    let science = staff["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization"]["slug"] == "science")
        .expect("the new role")
        .clone();
    assert_eq!(science["role"], "MENTOR");
    // The same role twice is a conflict shown on the page, nothing changed.
    let again = admin
        .post(
            &format!("/admin/people/{id}/add-role"),
            &[
                ("csrf", &csrf),
                ("organization", &ch.org("science")),
                ("role", "MENTOR"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""));
    // A role the organization cannot hold is refused beside the form.
    let wrong = admin
        .post(
            &format!("/admin/people/{id}/add-role"),
            &[
                ("csrf", &csrf),
                ("organization", &ch.org("management")),
                ("role", "MENTOR"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    let got = admin
        .post(
            &format!(
                "/admin/memberships/{}/remove",
                science["id"].as_str().unwrap()
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    let staff = user(&app, &ch, "arts.staff").await;
    assert_eq!(staff["memberships"].as_array().unwrap().len(), 1);

    let got = admin
        .post(
            &format!("/admin/people/{id}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(user(&app, &ch, "arts.staff").await["former"], true);
    let listed = admin.get("/admin/people?active=false").await;
    assert!(listed.body.contains("arts.staff@uni.test"));
    assert!(!listed.body.contains("science.staff@uni.test"));
    let got = admin
        .post(
            &format!("/admin/people/{id}/reactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(user(&app, &ch, "arts.staff").await["former"], false);
    // The admin cannot deactivate themselves: said on the page.
    let me = user(&app, &ch, "admin").await;
    let got = admin
        .post(
            &format!("/admin/people/{}/deactivate", me["id"].as_str().unwrap()),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(got.status, 422, "{}", got.body);

    // Organizations and topics: rename in three languages; a missing name changes nothing.
    let page = admin.get("/admin/organizations").await;
    assert_eq!(page.status, 200);
    let arts = ch.org("arts");
    let got = admin
        .post(
            &format!("/admin/organizations/{arts}/rename"),
            &[
                ("csrf", &csrf),
                ("fi", "Taiteiden tiedekunta"),
                ("sv", "Konstfakulteten"),
                ("en", "Faculty of Arts"),
            ],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    let bad = admin
        .post(
            &format!("/admin/organizations/{arts}/rename"),
            &[("csrf", &csrf), ("fi", ""), ("sv", "X"), ("en", "Y")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("role=\"alert\""));
    let names = app
        .graphql(
            "{ organization(slug: \"arts\") { names { fi sv en } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        names["data"]["organization"]["names"],
        json!({ "fi": "Taiteiden tiedekunta", "sv": "Konstfakulteten", "en": "Faculty of Arts" })
    );
    let mut topics = Vec::new();
    for slug in ["moodle", "moodle-exams"] {
        let body = app
            .graphql(
                "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }",
                json!({ "s": slug }),
                ch.token("admin"),
            )
            .await;
        assert_ok(&body);
        topics.push(
            body["data"]["createTopic"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let got = admin
        .post(
            &format!("/admin/topics/{}/rename", topics[0]),
            &[
                ("csrf", &csrf),
                ("fi", "Moodle-tentit"),
                ("sv", "Moodle-tentamina"),
                ("en", "Moodle exams"),
            ],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    let same = admin
        .post(
            "/admin/topics/merge",
            &[("csrf", &csrf), ("from", &topics[0]), ("into", &topics[0])],
        )
        .await;
    assert_eq!(same.status, 422, "{}", same.body);
    let got = admin
        .post(
            "/admin/topics/merge",
            &[("csrf", &csrf), ("from", &topics[1]), ("into", &topics[0])],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    let left = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert_eq!(left["data"]["topics"], json!([{ "slug": "moodle" }]));

    // The outbox: a welcome email to a new person is listed as waiting and sent again.
    assert_ok(
        &app.graphql(
            "mutation { createUser(input: { email: \"new.person@uni.test\", displayName: \"New Person\" }) { user { id } } }",
            json!({}),
            ch.token("admin"),
        )
        .await,
    );
    let waiting = admin.get("/admin/outbox?status=PENDING").await;
    assert!(
        waiting.body.contains("new.person@uni.test"),
        "{}",
        waiting.body
    );
    let deliveries = app
        .graphql(
            "{ deliveries(recipient: \"new.person@uni.test\") { nodes { id } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    let delivery = deliveries["data"]["deliveries"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = admin
        .post(
            &format!("/admin/outbox/{delivery}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(got.location.as_deref(), Some("/admin/outbox?done=1"));
    // An unknown status falls back to the failed ones.
    assert_eq!(admin.get("/admin/outbox?status=NONSENSE").await.status, 200);

    // Erasure from the people page: only once the admin ticked that it cannot be undone.
    let leaver = user(&app, &ch, "science.staff2").await;
    let erase = format!("/admin/people/{}/erase", leaver["id"].as_str().unwrap());
    let unconfirmed = admin.post(&erase, &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert!(unconfirmed.body.contains("role=\"alert\""));
    assert_eq!(user(&app, &ch, "science.staff2").await["former"], false);
    let got = admin
        .post(&erase, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    let listed = admin.get("/admin/people").await;
    assert!(!listed.body.contains("science.staff2"), "{}", listed.body);

    // Every form above is in the audit log, which the audit page shows with before and after.
    let actions = audit_actions(&app, &ch).await;
    for action in [
        "addMembership",
        "removeMembership",
        "deactivateUser",
        "reactivateUser",
        "updateOrganization",
        "updateTopic",
        "mergeTopics",
        "retryDelivery",
        "erasePerson",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let audit = admin.get("/admin/audit?action=updateOrganization").await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("Faculty of Arts"), "{}", audit.body);
    assert!(audit.body.contains("<details>"));
    assert!(!audit.body.contains("<code>deactivateUser</code>"));
}

#[tokio::test]
async fn everyone_downloads_their_own_data_from_their_settings() {
    let app = spawn_app().await;
    app.seed_channel().await;
    let mut visitor = Browser::new(&app);
    let got = visitor.get("/me/data.json").await;
    assert_eq!(got.status, 303);
    let mut browser = signed_in(&app, "science.staff").await;
    let settings = browser.get("/me/notifications").await;
    assert!(
        settings.body.contains("href=\"/me/data.json\""),
        "{}",
        settings.body
    );
    let response = app
        .client
        .get(app.url("/me/data.json"))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let data: Value = response.json().await.unwrap();
    assert_eq!(data["account"]["email"], "science.staff@uni.test");
    assert_eq!(data["memberships"].as_array().unwrap().len(), 1);
}
