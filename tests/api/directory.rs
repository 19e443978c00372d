use entity::membership::Role;
use entity::organization::OrganizationKind;
use serde_json::json;

use crate::helpers::{assert_ok, error_code, spawn_app};

#[tokio::test]
async fn organizations_can_be_listed_by_kind_and_found_by_slug() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let body = app
        .graphql(
            "{ organizations { slug kind isCommunity } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body["data"]["organizations"].as_array().unwrap().len(), 4);
    let faculties = app
        .graphql(
            "{ organizations(kind: FACULTY) { slug isCommunity } }",
            json!({}),
            None,
        )
        .await;
    let slugs: Vec<&str> = faculties["data"]["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["arts", "science"]);
    assert_eq!(faculties["data"]["organizations"][0]["isCommunity"], true);

    let one = app
        .graphql(
            "{ organization(slug: \"science\") { id names { fi sv en } name(locale: SV) } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        one["data"]["organization"]["id"],
        network.science.to_string()
    );
    assert_eq!(one["data"]["organization"]["names"]["en"], "science en");
    assert_eq!(one["data"]["organization"]["name"], "science sv");
    let none = app
        .graphql(
            "{ organization(slug: \"nowhere\") { id } }",
            json!({}),
            None,
        )
        .await;
    assert!(none["data"]["organization"].is_null());
}

#[tokio::test]
async fn names_follow_the_callers_locale() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let set_locale = app
        .graphql(
            "mutation { createUser(input: { email: \"sv@uni.test\", displayName: \"Svensk\", locale: SV, password: \"long-enough-password\" }) { user { locale } } }",
            json!({}),
            Some(&network.tokens.admin),
        )
        .await;
    assert_eq!(set_locale["data"]["createUser"]["user"]["locale"], "SV");
    let token = app.login("sv@uni.test", "long-enough-password").await;
    let body = app
        .graphql(
            "{ organization(slug: \"arts\") { name } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(body["data"]["organization"]["name"], "arts sv");
    let visitor = app
        .graphql("{ organization(slug: \"arts\") { name } }", json!({}), None)
        .await;
    assert_eq!(visitor["data"]["organization"]["name"], "arts fi");
}

#[tokio::test]
async fn contacts_page_lists_every_community_with_its_mentors_and_flags_the_ones_without() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let second = app.create_user("second.mentor@uni.test", false).await;
    app.add_role(second, network.science, Role::Mentor).await;

    let body = app
        .graphql(
            "{ contacts { community { slug } hasMentor mentors { displayName email } } }",
            json!({}),
            None,
        )
        .await;
    assert_ok(&body);
    let contacts = body["data"]["contacts"].as_array().unwrap();
    // Communities only: the service unit and management are not on the page.
    let slugs: Vec<&str> = contacts
        .iter()
        .map(|c| c["community"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["arts", "science"]);
    assert_eq!(contacts[0]["hasMentor"], false);
    assert_eq!(contacts[0]["mentors"].as_array().unwrap().len(), 0);
    assert_eq!(contacts[1]["hasMentor"], true);
    let emails: Vec<&str> = contacts[1]["mentors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["mentor@uni.test", "second.mentor@uni.test"]);
}

#[tokio::test]
async fn admin_builds_the_directory_and_me_shows_memberships() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let admin = Some(network.tokens.admin.as_str());

    let org = app
        .graphql(
            "mutation { createOrganization(input: { slug: \"library\", kind: SERVICE_UNIT, nameFi: \"Kirjasto\", nameSv: \"Biblioteket\", nameEn: \"Library\" }) { id slug kind } }",
            json!({}),
            admin,
        )
        .await;
    assert_ok(&org);
    let org_id = org["data"]["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let user = app
        .graphql(
            "mutation { createUser(input: { email: \"  Liisa.Librarian@UNI.test \", displayName: \"Liisa\", timeZone: \"Europe/Stockholm\", password: \"liisa's own long password\" }) { user { id email timeZone locale isAdmin } passwordLinkSent } }",
            json!({}),
            admin,
        )
        .await;
    assert_ok(&user);
    let created = &user["data"]["createUser"];
    assert_eq!(created["user"]["email"], "liisa.librarian@uni.test");
    assert_eq!(created["user"]["timeZone"], "Europe/Stockholm");
    assert_eq!(created["user"]["locale"], "FI");
    assert_eq!(created["passwordLinkSent"], false, "a password was given");
    let password = "liisa's own long password";
    let user_id = created["user"]["id"].as_str().unwrap().to_owned();

    let membership = app
        .graphql(
            "mutation($u: ID!, $o: ID!) { addMembership(input: { userId: $u, organizationId: $o, role: CONTACT }) { id role organization { slug } person { email } } }",
            json!({ "u": user_id, "o": org_id }),
            admin,
        )
        .await;
    assert_ok(&membership);
    assert_eq!(
        membership["data"]["addMembership"]["organization"]["slug"],
        "library"
    );

    let token = app.login("liisa.librarian@uni.test", password).await;
    let me = app
        .graphql(
            "{ me { memberships { role organization { slug } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["memberships"],
        json!([{ "role": "CONTACT", "organization": { "slug": "library" } }])
    );

    let membership_id = membership["data"]["addMembership"]["id"].as_str().unwrap();
    let removed = app
        .graphql(
            "mutation($m: ID!) { removeMembership(id: $m) { id } }",
            json!({ "m": membership_id }),
            admin,
        )
        .await;
    assert_ok(&removed);
    let me = app
        .graphql("{ me { memberships { role } } }", json!({}), Some(&token))
        .await;
    assert_eq!(me["data"]["me"]["memberships"], json!([]));
    let again = app
        .graphql(
            "mutation($m: ID!) { removeMembership(id: $m) { id } }",
            json!({ "m": membership_id }),
            admin,
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn roles_must_fit_the_kind_of_organization() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let admin = Some(network.tokens.admin.as_str());
    let person = app.create_user("p@uni.test", false).await;
    for (org, role) in [
        (network.it_services, "MENTOR"),
        (network.it_services, "MEMBER"),
        (network.science, "CONTACT"),
        (network.science, "LEAD"),
        (network.management, "MENTOR"),
    ] {
        let body = app
            .graphql(
                "mutation($u: ID!, $o: ID!, $r: Role!) { addMembership(input: { userId: $u, organizationId: $o, role: $r }) { id } }",
                json!({ "u": person.to_string(), "o": org.to_string(), "r": role }),
                admin,
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{role}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "role");
    }
}

#[tokio::test]
async fn a_community_has_at_most_three_mentors_and_roles_are_not_duplicated() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let admin = Some(network.tokens.admin.as_str());
    let add = "mutation($u: ID!, $o: ID!, $r: Role!) { addMembership(input: { userId: $u, organizationId: $o, role: $r }) { id } }";
    for i in 2..=3 {
        let user = app.create_user(&format!("m{i}@uni.test"), false).await;
        let body = app
            .graphql(
                add,
                json!({ "u": user.to_string(), "o": network.science.to_string(), "r": "MENTOR" }),
                admin,
            )
            .await;
        assert_ok(&body);
    }
    let fourth = app.create_user("m4@uni.test", false).await;
    let body = app
        .graphql(
            add,
            json!({ "u": fourth.to_string(), "o": network.science.to_string(), "r": "MENTOR" }),
            admin,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"), "{body}");

    let body = app.graphql(add, json!({ "u": network.staff.to_string(), "o": network.science.to_string(), "r": "MEMBER" }), admin).await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"), "{body}");

    let body = app
        .graphql(add, json!({ "u": uuid::Uuid::now_v7().to_string(), "o": network.science.to_string(), "r": "MEMBER" }), admin)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
    let body = app
        .graphql(
            add,
            json!({ "u": "not-a-uuid", "o": network.science.to_string(), "r": "MEMBER" }),
            admin,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "userId");
}

#[tokio::test]
async fn there_is_one_management_organization() {
    let app = spawn_app().await;
    app.create_organization("management", OrganizationKind::Management)
        .await;
    let admin = app.create_user("admin@uni.test", true).await;
    let _ = admin;
    let token = app.login("admin@uni.test", crate::helpers::PASSWORD).await;
    let body = app
        .graphql(
            "mutation { createOrganization(input: { slug: \"board\", kind: MANAGEMENT, nameFi: \"Hallitus\", nameSv: \"Styrelsen\", nameEn: \"Board\" }) { id } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn member_lists_read_people_without_their_password_hashes() {
    use async_graphql::dataloader::Loader;
    let app = crate::helpers::spawn_app().await;
    let ch = app.seed_channel().await;
    let science: uuid::Uuid = ch.org("science").parse().unwrap();
    let loaded = digimentor::directory::loaders::MembersByOrganization(app.state.db.clone())
        .load(&[science])
        .await
        .unwrap();
    let mut emails: Vec<&str> = loaded[&science]
        .iter()
        .map(|(membership, user)| {
            assert_eq!(membership.user_id, user.id);
            assert_eq!(membership.organization_id, science);
            assert_eq!(user.password_hash, None, "{}", user.email);
            user.email.as_str()
        })
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "science.comentor@uni.test",
            "science.mentor@uni.test",
            "science.staff2@uni.test",
            "science.staff@uni.test"
        ]
    );
}
