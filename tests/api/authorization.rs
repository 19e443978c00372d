//! Who may call which mutation: every mutation × every role, asserted.

use entity::membership::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_ok, error_code, spawn_app};

/// One attempt at a mutation; `prepare` makes fresh arguments so that an allowed call succeeds.
struct Case {
    name: &'static str,
    query: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "createOrganization",
        query: "mutation($n: String!) { createOrganization(input: { slug: $n, kind: SERVICE_UNIT, nameFi: \"Yksikkö\", nameSv: \"Enhet\", nameEn: \"Unit\" }) { id } }",
    },
    Case {
        name: "createUser",
        query: "mutation($n: String!) { createUser(input: { email: $n, displayName: \"New Person\" }) { user { id } passwordLinkSent } }",
    },
    Case {
        name: "addMembership",
        query: "mutation($u: ID!, $o: ID!) { addMembership(input: { userId: $u, organizationId: $o, role: MEMBER }) { id } }",
    },
    Case {
        name: "removeMembership",
        query: "mutation($m: ID!) { removeMembership(id: $m) { id } }",
    },
    Case {
        name: "createTopic",
        query: "mutation($n: String!) { createTopic(input: { slug: $n, nameFi: \"Aihe\", nameSv: \"Ämne\", nameEn: \"Topic\" }) { id } }",
    },
    Case {
        name: "createPartnerNetwork",
        query: "mutation($n: String!) { createPartnerNetwork(input: { slug: $n, name: \"Network\", scope: LOCAL }) { id } }",
    },
];

async fn variables(app: &TestApp, case: &Case, n: usize, arts: uuid::Uuid) -> Value {
    match case.name {
        "createOrganization" | "createTopic" | "createPartnerNetwork" => {
            json!({ "n": format!("item-{n}") })
        }
        "createUser" => json!({ "n": format!("new{n}@uni.test") }),
        "addMembership" => {
            let user = app.create_user(&format!("joiner{n}@uni.test"), false).await;
            json!({ "u": user.to_string(), "o": arts.to_string() })
        }
        "removeMembership" => {
            let user = app.create_user(&format!("leaver{n}@uni.test"), false).await;
            let membership = app.add_role(user, arts, Role::Member).await;
            json!({ "m": membership.to_string() })
        }
        other => panic!("no variables for {other}"),
    }
}

#[tokio::test]
async fn admin_mutations_are_refused_to_everyone_but_admins() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut n = 0;
    for case in CASES {
        for (role, token) in network.tokens.by_role() {
            n += 1;
            let vars = variables(&app, case, n, network.arts).await;
            let body = app.graphql(case.query, vars, token).await;
            let expected = match role {
                "visitor" => Some("UNAUTHENTICATED"),
                "admin" => None,
                _ => Some("FORBIDDEN"),
            };
            assert_eq!(
                error_code(&body).as_deref(),
                expected,
                "{} as {role}: {body}",
                case.name
            );
            if expected.is_none() {
                assert_ok(&body);
            } else {
                assert!(
                    body["data"].is_null(),
                    "{} as {role} returned data: {body}",
                    case.name
                );
            }
        }
    }
    // Nothing that was refused was written: only the admin's organization and topic exist.
    let orgs = app
        .graphql(
            "{ organizations(kind: SERVICE_UNIT) { slug } }",
            json!({}),
            None,
        )
        .await;
    let slugs: Vec<&str> = orgs["data"]["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2, "{slugs:?}");
    let topics = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert_eq!(topics["data"]["topics"].as_array().unwrap().len(), 1);
    let partners = app
        .graphql("{ partnerNetworks { slug } }", json!({}), None)
        .await;
    assert_eq!(
        partners["data"]["partnerNetworks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn logout_needs_a_login_and_login_is_open_to_all() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    for (role, token) in network.tokens.by_role() {
        let body = app.graphql("mutation { logout }", json!({}), token).await;
        match role {
            "visitor" => assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED")),
            _ => assert_eq!(body["data"]["logout"], true, "{role}: {body}"),
        }
    }
}

#[tokio::test]
async fn staff_lists_are_visible_only_to_admins_and_the_communitys_mentors() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let query = "{ organization(slug: \"science\") { members { role person { email } } } }";
    for (role, token) in network.tokens.by_role() {
        let body = app.graphql(query, json!({}), token).await;
        assert_ok(&body);
        let roles: Vec<&str> = body["data"]["organization"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert!(roles.contains(&"MENTOR"), "{role}: mentors are public");
        let sees_staff = matches!(role, "mentor" | "admin");
        assert_eq!(roles.contains(&"MEMBER"), sees_staff, "{role}: {roles:?}");

        let explicit = app
            .graphql(
                "{ organization(slug: \"science\") { members(role: MEMBER) { role } } }",
                json!({}),
                token,
            )
            .await;
        if sees_staff {
            assert_ok(&explicit);
        } else {
            assert_eq!(
                error_code(&explicit).as_deref(),
                Some("FORBIDDEN"),
                "{role}"
            );
        }
    }
    // A mentor of another community does not see Science's staff.
    let other = app.create_user("arts.mentor@uni.test", false).await;
    app.add_role(other, network.arts, Role::Mentor).await;
    let token = app
        .login("arts.mentor@uni.test", crate::helpers::PASSWORD)
        .await;
    let body = app
        .graphql(
            "{ organization(slug: \"science\") { members(role: MEMBER) { role } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
}
