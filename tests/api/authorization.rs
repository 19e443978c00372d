//! Who may call which mutation: every mutation × every role, asserted.

use entity::membership::Role;
use serde_json::{Value, json};

use crate::helpers::{Network, TestApp, assert_ok, error_code, spawn_app};

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
        name: "updateOrganization",
        query: "mutation($o: ID!, $n: String!) { updateOrganization(id: $o, nameFi: $n, nameSv: $n, nameEn: $n) { id } }",
    },
    Case {
        name: "createUser",
        query: "mutation($n: String!) { createUser(input: { email: $n, displayName: \"New Person\" }) { user { id } passwordLinkSent } }",
    },
    Case {
        name: "deactivateUser",
        query: "mutation($u: ID!) { deactivateUser(userId: $u) { id } }",
    },
    Case {
        name: "reactivateUser",
        query: "mutation($u: ID!) { reactivateUser(userId: $u) { id } }",
    },
    Case {
        name: "erasePerson",
        query: "mutation($u: ID!) { erasePerson(userId: $u) { id } }",
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
        name: "updateTopic",
        query: "mutation($t: ID!, $n: String!) { updateTopic(id: $t, input: { nameFi: $n, nameSv: $n, nameEn: $n }) { id } }",
    },
    Case {
        name: "mergeTopics",
        query: "mutation($f: ID!, $t: ID!) { mergeTopics(from: $f, into: $t) { id } }",
    },
    Case {
        name: "createPartnerNetwork",
        query: "mutation($n: String!) { createPartnerNetwork(input: { slug: $n, name: \"Network\", scope: LOCAL }) { id } }",
    },
    Case {
        name: "updatePartnerNetwork",
        query: "mutation($p: ID!, $n: String!) { updatePartnerNetwork(id: $p, input: { slug: $n, name: \"Renamed\", scope: NATIONAL }) { id } }",
    },
    Case {
        name: "retryDelivery",
        query: "mutation($d: ID!) { retryDelivery(id: $d) { id } }",
    },
    Case {
        name: "resumeEmail",
        query: "mutation($u: ID!) { resumeEmail(userId: $u) }",
    },
    Case {
        name: "scheduleMeeting",
        query: "mutation($i: MeetingInput!) { scheduleMeeting(input: $i) { id } }",
    },
    Case {
        name: "updateMeeting",
        query: "mutation($m: ID!, $i: MeetingInput!) { updateMeeting(id: $m, input: $i) { id } }",
    },
    Case {
        name: "cancelMeeting",
        query: "mutation($m: ID!) { cancelMeeting(id: $m, reason: \"Moved\") { id } }",
    },
    Case {
        name: "cancelMeetingSeries",
        query: "mutation($m: ID!) { cancelMeetingSeries(id: $m, reason: \"Moved\") { id } }",
    },
    Case {
        name: "setMeetingAgenda",
        query: "mutation($m: ID!, $i: [ID!]!) { setMeetingAgenda(meetingId: $m, itemIds: $i) { id } }",
    },
];

/// Runs an admin call that prepares a case and returns `field`'s id (or first id).
async fn admin_id(
    app: &TestApp,
    network: &Network,
    query: &str,
    vars: Value,
    field: &str,
) -> String {
    let body = app.graphql(query, vars, Some(&network.tokens.admin)).await;
    assert_ok(&body);
    let value = &body["data"][field];
    let value = if value.is_array() { &value[0] } else { value };
    value["id"].as_str().unwrap().to_owned()
}

fn meeting_input(n: usize) -> Value {
    let start = chrono::Utc::now() + chrono::Duration::days(10 + n as i64);
    json!({
        "title": format!("Meeting {n}"),
        "startsAt": start.to_rfc3339(),
        "endsAt": (start + chrono::Duration::hours(1)).to_rfc3339(),
        "place": "Room 1",
    })
}

async fn meeting(app: &TestApp, network: &Network, n: usize, repeat: i32) -> String {
    admin_id(
        app,
        network,
        "mutation($i: MeetingInput!, $r: Int!) { scheduleMeeting(input: $i, repeatMonthly: $r) { id } }",
        json!({ "i": meeting_input(n), "r": repeat }),
        "scheduleMeeting",
    )
    .await
}

async fn topic(app: &TestApp, network: &Network, n: usize, suffix: &str) -> String {
    admin_id(
        app,
        network,
        "mutation($n: String!) { createTopic(input: { slug: $n, nameFi: \"Aihe\", nameSv: \"Ämne\", nameEn: \"Topic\" }) { id } }",
        json!({ "n": format!("topic-{n}-{suffix}") }),
        "createTopic",
    )
    .await
}

async fn variables(app: &TestApp, case: &Case, n: usize, network: &Network) -> Value {
    let arts = network.arts;
    match case.name {
        "createOrganization" | "createTopic" | "createPartnerNetwork" => {
            json!({ "n": format!("item-{n}") })
        }
        "updateOrganization" => json!({ "o": arts.to_string(), "n": format!("Arts {n}") }),
        "createUser" => json!({ "n": format!("new{n}@uni.test") }),
        "resumeEmail" => {
            // A suspended address, so that resuming it changes something.
            use sea_orm::{ActiveModelTrait, Set};
            let user = app
                .create_user(&format!("bounced{n}@uni.test"), false)
                .await;
            entity::user::ActiveModel {
                id: Set(user),
                email_suspended_at: Set(Some(chrono::Utc::now())),
                ..Default::default()
            }
            .update(&app.state.db)
            .await
            .unwrap();
            json!({ "u": user.to_string() })
        }
        "deactivateUser" | "erasePerson" => {
            let user = app.create_user(&format!("person{n}@uni.test"), false).await;
            json!({ "u": user.to_string() })
        }
        "reactivateUser" => {
            let user = app
                .create_user(&format!("returner{n}@uni.test"), false)
                .await;
            let body = app
                .graphql(
                    "mutation($u: ID!) { deactivateUser(userId: $u) { id } }",
                    json!({ "u": user.to_string() }),
                    Some(&network.tokens.admin),
                )
                .await;
            assert_ok(&body);
            json!({ "u": user.to_string() })
        }
        "addMembership" => {
            let user = app.create_user(&format!("joiner{n}@uni.test"), false).await;
            json!({ "u": user.to_string(), "o": arts.to_string() })
        }
        "removeMembership" => {
            let user = app.create_user(&format!("leaver{n}@uni.test"), false).await;
            let membership = app.add_role(user, arts, Role::Member).await;
            json!({ "m": membership.to_string() })
        }
        "updateTopic" => {
            json!({ "t": topic(app, network, n, "a").await, "n": format!("Renamed {n}") })
        }
        "mergeTopics" => json!({
            "f": topic(app, network, n, "from").await,
            "t": topic(app, network, n, "into").await,
        }),
        "updatePartnerNetwork" => {
            let partner = admin_id(
                app,
                network,
                "mutation($n: String!) { createPartnerNetwork(input: { slug: $n, name: \"Network\", scope: LOCAL }) { id } }",
                json!({ "n": format!("partner-{n}") }),
                "createPartnerNetwork",
            )
            .await;
            json!({ "p": partner, "n": format!("partner-{n}") })
        }
        "retryDelivery" => {
            app.create_user(&format!("mailed{n}@uni.test"), false).await;
            let body = app
                .graphql(
                    "{ deliveries(first: 1) { nodes { id } } }",
                    json!({}),
                    Some(&network.tokens.admin),
                )
                .await;
            assert_ok(&body);
            json!({ "d": body["data"]["deliveries"]["nodes"][0]["id"] })
        }
        "scheduleMeeting" => json!({ "i": meeting_input(n) }),
        "updateMeeting" => {
            json!({ "m": meeting(app, network, n, 1).await, "i": meeting_input(n + 1) })
        }
        "cancelMeeting" => json!({ "m": meeting(app, network, n, 1).await }),
        "setMeetingAgenda" => {
            let item = admin_id(
                app,
                network,
                "mutation($t: String!) { proposeAgendaItem(input: { title: $t }) { id } }",
                json!({ "t": format!("Item {n}") }),
                "proposeAgendaItem",
            )
            .await;
            json!({ "m": meeting(app, network, n, 1).await, "i": [item] })
        }
        "cancelMeetingSeries" => json!({ "m": meeting(app, network, n, 2).await }),
        other => panic!("no variables for {other}"),
    }
}

/// The audit log's entries of one action, newest first.
async fn audit_entries(app: &TestApp, network: &Network, action: &str) -> Vec<Value> {
    let body = app
        .graphql(
            "query($a: String!) { auditLog(action: $a, first: 100) { nodes { action actor { id } subjectId before after createdAt } } }",
            json!({ "a": action }),
            Some(&network.tokens.admin),
        )
        .await;
    assert_ok(&body);
    body["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn admin_mutations_are_refused_to_everyone_but_admins_and_audited() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut n = 0;
    for case in CASES {
        for (role, token) in network.tokens.by_role() {
            n += 1;
            let vars = variables(&app, case, n, &network).await;
            let logged = audit_entries(&app, &network, case.name).await.len();
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
            let entries = audit_entries(&app, &network, case.name).await;
            if expected.is_none() {
                assert_ok(&body);
                // The call wrote exactly one entry, by the admin, about a record.
                assert_eq!(entries.len(), logged + 1, "{}: {entries:?}", case.name);
                let entry = &entries[0];
                assert_eq!(entry["actor"]["id"], network.admin.to_string());
                assert!(entry["subjectId"].is_string(), "{entry}");
                let after: Option<Value> = entry["after"]
                    .as_str()
                    .map(|a| serde_json::from_str(a).unwrap());
                let before: Option<Value> = entry["before"]
                    .as_str()
                    .map(|b| serde_json::from_str(b).unwrap());
                assert!(after.is_some() || before.is_some(), "{entry}");
                if before.is_some() && after.is_some() {
                    assert_ne!(before, after, "{}: nothing changed? {entry}", case.name);
                }
                for snapshot in [&before, &after].into_iter().flatten() {
                    let text = snapshot.to_string();
                    assert!(
                        !text.contains("password_hash") && !text.contains("$argon2"),
                        "{text}"
                    );
                }
            } else {
                assert!(
                    body["data"].is_null(),
                    "{} as {role} returned data: {body}",
                    case.name
                );
                assert_eq!(entries.len(), logged, "{} as {role} was audited", case.name);
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
    // (Topics and partner networks named `item-…` are created by the calls under test only.)
    let created = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["slug"].as_str().unwrap().starts_with("item-"))
            .count()
    };
    let topics = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert_eq!(created(&topics["data"]["topics"]), 1, "{topics}");
    let partners = app
        .graphql("{ partnerNetworks { slug } }", json!({}), None)
        .await;
    assert_eq!(
        created(&partners["data"]["partnerNetworks"]),
        1,
        "{partners}"
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
