//! Partner networks: admins keep them, anyone reads them; a meeting can be joint with one and a
//! news post can come from one, and the pages, the invitation and the home page say so.

use serde_json::{Value, json};

use crate::helpers::{WsClient, assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

const CREATE: &str = "mutation($i: PartnerNetworkInput!) { createPartnerNetwork(input: $i) { id slug name scope description url contacts { name email title } } }";
const UPDATE: &str = "mutation($id: ID!, $i: PartnerNetworkInput!) { updatePartnerNetwork(id: $id, input: $i) { id slug name scope contacts { name email title } } }";
const LIST: &str = "{ partnerNetworks { slug name scope } }";

fn partner(slug: &str, name: &str, scope: &str) -> Value {
    json!({
        "slug": slug,
        "name": name,
        "scope": scope,
        "description": "  Works with the network on *digital pedagogy*.  ",
        "url": "https://Partner.example.org",
        "contacts": [
            { "name": "Sanna Lehto", "email": "Sanna.Lehto@Partner.example.org", "title": "Coordinator" },
            { "name": "Erik Holm", "email": " ", "title": null },
        ],
    })
}

fn with(mut input: Value, key: &str, value: Value) -> Value {
    input[key] = value;
    input
}

#[tokio::test]
async fn admins_keep_partner_networks_that_anyone_reads_live_and_on_the_page() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut visitor = WsClient::connect(&app, json!({})).await.unwrap();
    visitor
        .subscribe_ready(
            "p",
            "subscription { events(filter: { kinds: [\"partner.created\", \"partner.updated\"] }) { kind } }",
            json!({}),
        )
        .await;

    let national = partner(
        "digipedagogy",
        "National Digital Pedagogy Network",
        "NATIONAL",
    );
    // Refused: by role, then by each kind of bad input; nothing is written.
    for (who, input, code, field) in [
        ("visitor", national.clone(), "UNAUTHENTICATED", None),
        ("science.mentor", national.clone(), "FORBIDDEN", None),
        ("arts.staff", national.clone(), "FORBIDDEN", None),
        (
            "admin",
            with(national.clone(), "slug", json!("Not a slug!")),
            "BAD_USER_INPUT",
            Some("slug"),
        ),
        (
            "admin",
            with(national.clone(), "name", json!("  ")),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            "admin",
            with(national.clone(), "url", json!("javascript:alert(1)")),
            "BAD_USER_INPUT",
            Some("url"),
        ),
        (
            "admin",
            with(national.clone(), "url", json!("https://x.org/\r\nX: y")),
            "BAD_USER_INPUT",
            Some("url"),
        ),
        (
            "admin",
            with(
                national.clone(),
                "contacts",
                json!([{ "name": "A" }, { "name": "B", "email": "not-an-address" }]),
            ),
            "BAD_USER_INPUT",
            Some("contacts[1].email"),
        ),
        (
            "admin",
            with(national.clone(), "contacts", json!([{ "name": "A\nB" }])),
            "BAD_USER_INPUT",
            Some("contacts[0].name"),
        ),
        (
            "admin",
            with(
                national.clone(),
                "contacts",
                Value::Array(vec![json!({ "name": "A" }); 21]),
            ),
            "BAD_USER_INPUT",
            Some("contacts"),
        ),
    ] {
        let body = app
            .graphql(CREATE, json!({ "i": input }), ch.token(who))
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    let none = app.graphql(LIST, json!({}), None).await;
    assert_eq!(none["data"]["partnerNetworks"], json!([]));

    let created = app
        .graphql(CREATE, json!({ "i": national }), ch.token("admin"))
        .await;
    assert_ok(&created);
    let created = &created["data"]["createPartnerNetwork"];
    assert_eq!(created["url"], "https://partner.example.org/");
    assert_eq!(
        created["description"],
        "Works with the network on *digital pedagogy*."
    );
    assert_eq!(
        created["contacts"],
        json!([
            { "name": "Sanna Lehto", "email": "sanna.lehto@partner.example.org", "title": "Coordinator" },
            { "name": "Erik Holm", "email": null, "title": null },
        ])
    );
    let local = app
        .graphql(
            CREATE,
            json!({ "i": partner("campus-edtech", "Campus EdTech Network", "LOCAL") }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&local);
    let taken = app
        .graphql(
            CREATE,
            json!({ "i": partner("campus-edtech", "Another", "LOCAL") }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&taken).as_deref(), Some("CONFLICT"), "{taken}");

    // Anyone reads them, local ones first.
    let listed = app.graphql(LIST, json!({}), None).await;
    assert_eq!(
        listed["data"]["partnerNetworks"],
        json!([
            { "slug": "campus-edtech", "name": "Campus EdTech Network", "scope": "LOCAL" },
            { "slug": "digipedagogy", "name": "National Digital Pedagogy Network", "scope": "NATIONAL" },
        ])
    );
    let national_only = app
        .graphql(
            "{ partnerNetworks(scope: NATIONAL) { slug } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        national_only["data"]["partnerNetworks"],
        json!([{ "slug": "digipedagogy" }])
    );

    // A change replaces the contact people; only admins change, and only what exists.
    let id = created["id"].as_str().unwrap();
    let changed = with(
        partner(
            "digipedagogy",
            "National Digital Pedagogy Network",
            "NATIONAL",
        ),
        "contacts",
        json!([{ "name": "Mikko Rinne", "email": "mikko.rinne@partner.example.org", "title": "Chair" }]),
    );
    let refused = app
        .graphql(
            UPDATE,
            json!({ "id": id, "i": changed }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let missing = app
        .graphql(
            UPDATE,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "i": changed }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));
    let clash = app
        .graphql(
            UPDATE,
            json!({ "id": id, "i": with(changed.clone(), "slug", json!("campus-edtech")) }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&clash).as_deref(), Some("CONFLICT"));
    let updated = app
        .graphql(UPDATE, json!({ "id": id, "i": changed }), ch.token("admin"))
        .await;
    assert_ok(&updated);
    let one = app
        .graphql(
            "{ partnerNetwork(slug: \"digipedagogy\") { contacts { name email title } } missing: partnerNetwork(slug: \"nope\") { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        one["data"]["partnerNetwork"]["contacts"],
        json!([{ "name": "Mikko Rinne", "email": "mikko.rinne@partner.example.org", "title": "Chair" }])
    );
    assert!(one["data"]["missing"].is_null());

    // A visitor heard each change live, and nothing of what was refused.
    for kind in ["partner.created", "partner.created", "partner.updated"] {
        assert_eq!(visitor.next_data().await["events"]["kind"], kind);
    }

    // The home page lists them; their page lists both with their contact people, in the
    // reader's language.
    let home = app.get_text("/").await;
    assert!(
        home.contains(
            "<a href=\"/partners#campus-edtech\">Campus EdTech Network</a> (Paikallinen verkosto)"
        ),
        "{home}"
    );
    assert!(home.contains("<a href=\"/partners\">"), "{home}");
    let page = app.get_text("/partners?lang=sv").await;
    assert!(page.contains("<h1>Partnernätverk</h1>"), "{page}");
    assert!(page.contains("id=\"campus-edtech\""), "{page}");
    assert!(page.contains("Nationellt nätverk"), "{page}");
    assert!(
        page.contains("Mikko Rinne (Chair) – <a href=\"mailto:mikko.rinne@partner.example.org\">"),
        "{page}"
    );
    let card = page.split("id=\"digipedagogy\"").nth(1).unwrap();
    assert!(!card.contains("Sanna Lehto"), "replaced: {card}");
    assert!(
        page.contains("<em>digital pedagogy</em>"),
        "Markdown: {page}"
    );
}

#[tokio::test]
async fn a_meeting_joint_with_a_partner_and_news_from_one_say_so_in_email_and_on_pages() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: SV }) { locale } }",
            json!({}),
            ch.token("arts.mentor"),
        )
        .await,
    );
    let partner_id = app
        .graphql(
            CREATE,
            json!({ "i": partner("campus-edtech", "Campus EdTech Network", "LOCAL") }),
            ch.token("admin"),
        )
        .await["data"]["createPartnerNetwork"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = chrono::Utc::now() + chrono::Duration::days(10);
    let meeting = |partner: &str| {
        json!({
            "title": "Joint seminar",
            "startsAt": start.to_rfc3339(),
            "endsAt": (start + chrono::Duration::hours(3)).to_rfc3339(),
            "place": "Learning Centre",
            "partnerId": partner,
        })
    };
    const SCHEDULE: &str =
        "mutation($i: MeetingInput!) { scheduleMeeting(input: $i) { id partner { slug name } } }";
    let unknown = app
        .graphql(
            SCHEDULE,
            json!({ "i": meeting(&uuid::Uuid::now_v7().to_string()) }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(unknown["errors"][0]["extensions"]["field"], "partnerId");
    app.drain_mail().await;
    assert!(sink.messages().is_empty(), "nothing for a refused meeting");

    let scheduled = app
        .graphql(
            SCHEDULE,
            json!({ "i": meeting(&partner_id) }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&scheduled);
    let scheduled = &scheduled["data"]["scheduleMeeting"][0];
    assert_eq!(
        scheduled["partner"],
        json!({ "slug": "campus-edtech", "name": "Campus EdTech Network" })
    );
    let id = scheduled["id"].as_str().unwrap();
    app.drain_mail().await;
    let invitations = sink.messages();
    assert_eq!(invitations.len(), 4, "every mentor");
    for message in &invitations {
        let parsed = message.parsed();
        let text = parsed.body_text(0).unwrap().to_string();
        let html = parsed.body_html(0).unwrap().to_string();
        if message.to[0].contains("arts.mentor") {
            assert!(
                text.contains(
                    "Mötet hålls tillsammans med partnernätverket **Campus EdTech Network**."
                ),
                "{text}"
            );
        } else {
            assert!(
                text.contains("Tapaaminen järjestetään yhdessä kumppaniverkoston **Campus EdTech Network** kanssa."),
                "{text}"
            );
        }
        assert!(
            html.contains("<strong>Campus EdTech Network</strong>"),
            "{html}"
        );
    }
    let page = app.get_text(&format!("/meetings/{id}")).await;
    assert!(
        page.contains("<dt>Yhteistapaaminen</dt><dd><a href=\"/partners#campus-edtech\">Campus EdTech Network</a></dd>"),
        "{page}"
    );
    // The link leads to the partner on its page.
    let partners = app.get_text("/partners").await;
    assert!(partners.contains("<li id=\"campus-edtech\">"), "{partners}");

    // News from a partner, and a meeting without one says nothing of partners.
    const PUBLISH: &str =
        "mutation($i: NewsInput!) { publishNews(input: $i) { id partner { slug } } }";
    let news = |partner: Option<&str>| json!({ "title": "Webinars on feedback", "body": "Four webinars this term.", "partnerId": partner });
    let unknown = app
        .graphql(
            PUBLISH,
            json!({ "i": news(Some("not-an-id")) }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("BAD_USER_INPUT"));
    let post = app
        .graphql(
            PUBLISH,
            json!({ "i": news(Some(&partner_id)) }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&post);
    assert_eq!(
        post["data"]["publishNews"]["partner"]["slug"],
        "campus-edtech"
    );
    let post_id = post["data"]["publishNews"]["id"].as_str().unwrap();
    let page = app.get_text(&format!("/news/{post_id}?lang=en")).await;
    assert!(
        page.contains("From the partner network: <a href=\"/partners#campus-edtech\">Campus EdTech Network</a>"),
        "{page}"
    );
    let plain = app
        .graphql(
            PUBLISH,
            json!({ "i": news(None) }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&plain);
    assert!(plain["data"]["publishNews"]["partner"].is_null());
    let page = app
        .get_text(&format!(
            "/news/{}",
            plain["data"]["publishNews"]["id"].as_str().unwrap()
        ))
        .await;
    assert!(!page.contains("/partners#"), "{page}");
}
