//! Development projects and groups: who starts and manages them, the link to a goal of the
//! community's plan, public and internal ones, joining and adding people, progress updates
//! (emailed to the project's people, heard by topic followers and digests), promoting an
//! outcome to the tips bank, who hears live, and the pages where it is done.

use chrono::{Datelike, Utc};
use serde_json::{Value, json};

use crate::helpers::{WsClient, assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

const CREATE: &str = "mutation($c: ID!, $i: ProjectInput!) { createProject(communityId: $c, input: $i) { id status canManage myRole planGoal { year goal } people { role person { email } } } }";
const UPDATE: &str =
    "mutation($id: ID!, $i: ProjectInput!) { updateProject(id: $id, input: $i) { id status } }";
const JOIN: &str =
    "mutation($id: ID!, $u: ID) { joinProject(id: $id, userId: $u) { peopleCount myRole } }";
const LEAVE: &str =
    "mutation($id: ID!, $u: ID) { leaveProject(id: $id, userId: $u) { peopleCount myRole } }";
const POST: &str = "mutation($id: ID!, $b: String!) { postProjectUpdate(id: $id, body: $b) { updates { id body } } }";
const PROMOTE: &str = "mutation($u: ID!, $t: String!) { promoteProjectOutcome(updateId: $u, title: $t) { id title organization { slug } topics { slug } } }";

fn input(name: &str) -> Value {
    json!({ "name": name, "goal": "Move the first-year exams to *Moodle*.", "status": "ACTIVE" })
}

fn year() -> i32 {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .year()
}

async fn create(
    app: &crate::helpers::TestApp,
    token: Option<&str>,
    community: &str,
    i: Value,
) -> String {
    let body = app
        .graphql(CREATE, json!({ "c": community, "i": i }), token)
        .await;
    assert_ok(&body);
    body["data"]["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn emails_to(messages: &[crate::smtp::Received]) -> Vec<String> {
    let mut to: Vec<String> = messages
        .iter()
        .map(|m| m.to[0].trim_matches(['<', '>']).to_owned())
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn community_mentors_start_projects_linked_to_their_plan_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (science, arts) = (ch.org("science"), ch.org("arts"));
    for (who, community, expected) in [
        ("visitor", &science, "UNAUTHENTICATED"),
        ("science.staff", &science, "FORBIDDEN"),
        ("arts.mentor", &science, "FORBIDDEN"),
        ("unit.contact", &science, "FORBIDDEN"),
        ("lead", &science, "FORBIDDEN"),
        // An admin names the coordinators: they are the community's digimentors.
        ("admin", &science, "BAD_USER_INPUT"),
        ("unit.contact", &ch.org("it-services"), "BAD_USER_INPUT"),
    ] {
        let body = app
            .graphql(
                CREATE,
                json!({ "c": community, "i": input("Moodle exams") }),
                ch.token(who),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some(expected),
            "{who}: {body}"
        );
    }
    let created = app
        .graphql(
            CREATE,
            json!({ "c": science, "i": input("Moodle exams") }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&created);
    let p = &created["data"]["createProject"];
    assert_eq!(p["myRole"], "COORDINATOR");
    assert_eq!(
        p["people"],
        json!([{ "role": "COORDINATOR", "person": { "email": "science.mentor@uni.test" } }])
    );
    let mut by_admin = input("Exam rooms");
    by_admin["coordinatorIds"] = json!([ch.user_id("science.comentor").to_string()]);
    let body = app
        .graphql(
            CREATE,
            json!({ "c": science, "i": by_admin }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["createProject"]["myRole"], Value::Null);

    // The plan's goals are its list items; a project links to one of them.
    assert_ok(
        &app.graphql(
            "mutation($c: ID!, $y: Int!) { setCommunityPlan(communityId: $c, year: $y, goals: \"- Moodle in every course\\n- Exams in Moodle\", activities: \"Clinics\") { goalItems } }",
            json!({ "c": science, "y": year() }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let with = |year: i32, goal: &str| {
        let mut i = input("Linked");
        i["planYear"] = json!(year);
        i["planGoal"] = json!(goal);
        i
    };
    for (i, field) in [
        (with(year() + 1, "Exams in Moodle"), "planYear"),
        (with(year(), "Exams on paper"), "planGoal"),
        (
            {
                let mut i = input("Half");
                i["planGoal"] = json!("Exams in Moodle");
                i
            },
            "planYear",
        ),
        (
            {
                let mut i = input("Dates");
                i["startsOn"] = json!("2027-05-01");
                i["endsOn"] = json!("2027-04-01");
                i
            },
            "endsOn",
        ),
        (
            {
                let mut i = input("Named");
                i["coordinatorIds"] = json!([ch.user_id("science.staff").to_string()]);
                i
            },
            "coordinatorIds",
        ),
        (input("  "), "name"),
        (
            {
                let mut i = input("Empty");
                i["goal"] = json!(" ");
                i
            },
            "goal",
        ),
    ] {
        let body = app
            .graphql(
                CREATE,
                json!({ "c": science, "i": i }),
                ch.token("science.mentor"),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let linked = app
        .graphql(
            CREATE,
            json!({ "c": science, "i": with(year(), "Exams in Moodle") }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&linked);
    assert_eq!(
        linked["data"]["createProject"]["planGoal"],
        json!({ "year": year(), "goal": "Exams in Moodle" })
    );
    let id = linked["data"]["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The community's digimentors change it; nobody else does.
    for (who, expected) in [
        ("science.comentor", None),
        ("admin", None),
        ("arts.mentor", Some("FORBIDDEN")),
        ("science.staff", Some("FORBIDDEN")),
        ("visitor", Some("UNAUTHENTICATED")),
    ] {
        let mut i = with(year(), "Exams in Moodle");
        i["status"] = json!("FINISHED");
        let body = app
            .graphql(UPDATE, json!({ "id": id, "i": i }), ch.token(who))
            .await;
        match expected {
            None => assert_eq!(
                body["data"]["updateProject"]["status"], "FINISHED",
                "{who}: {body}"
            ),
            Some(code) => assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}"),
        }
    }
    // The network-wide list filters by community and state.
    create(&app, ch.token("arts.mentor"), &arts, input("AI in essays")).await;
    let list = |vars: Value| {
        let app = &app;
        async move {
            let body = app
                .graphql(
                    "query($c: ID, $s: ProjectStatus) { projects(communityId: $c, status: $s) { name community { slug } status } }",
                    vars,
                    None,
                )
                .await;
            assert_ok(&body);
            body["data"]["projects"].as_array().unwrap().clone()
        }
    };
    assert_eq!(list(json!({})).await.len(), 4);
    let finished = list(json!({ "s": "FINISHED" })).await;
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["name"], "Linked");
    let arts_only = list(json!({ "c": arts })).await;
    assert_eq!(
        arts_only,
        vec![
            json!({ "name": "AI in essays", "community": { "slug": "arts" }, "status": "ACTIVE" })
        ]
    );
}

#[tokio::test]
async fn internal_projects_stay_in_their_community_and_their_events_too() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let science = ch.org("science");
    let kinds = "subscription { events(filter: { kinds: [\"project.created\", \"project.progress_posted\"] }) { kind } }";
    let mut outsider = WsClient::connect(&app, json!({ "token": ch.token("arts.staff") }))
        .await
        .unwrap();
    outsider.subscribe_ready("a", kinds, json!({})).await;
    let mut insider = WsClient::connect(&app, json!({ "token": ch.token("science.staff2") }))
        .await
        .unwrap();
    insider.subscribe_ready("a", kinds, json!({})).await;
    let mut i = input("Lab bookings");
    i["internal"] = json!(true);
    let id = create(&app, ch.token("science.mentor"), &science, i).await;
    assert_eq!(
        insider.next_data().await["events"]["kind"],
        "project.created"
    );
    assert!(
        outsider
            .stays_quiet(std::time::Duration::from_millis(400))
            .await
    );

    let read = "query($id: ID!) { project(id: $id) { name } projects { name } }";
    for (who, sees) in [
        ("visitor", false),
        ("arts.staff", false),
        ("arts.mentor", false),
        ("unit.contact", false),
        ("science.staff", true),
        ("admin", true),
    ] {
        let body = app.graphql(read, json!({ "id": id }), ch.token(who)).await;
        assert_ok(&body);
        assert_eq!(!body["data"]["project"].is_null(), sees, "{who}: {body}");
        assert_eq!(
            body["data"]["projects"].as_array().unwrap().len(),
            usize::from(sees),
            "{who}"
        );
    }
    // Outsiders can neither join it, be added to it, nor post to it.
    let join = app
        .graphql(JOIN, json!({ "id": id }), ch.token("arts.staff"))
        .await;
    assert_eq!(error_code(&join).as_deref(), Some("NOT_FOUND"));
    let add = app
        .graphql(
            JOIN,
            json!({ "id": id, "u": ch.user_id("arts.staff").to_string() }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&add).as_deref(), Some("BAD_USER_INPUT"));
    let post = app
        .graphql(
            POST,
            json!({ "id": id, "b": "Hi" }),
            ch.token("arts.mentor"),
        )
        .await;
    assert_eq!(error_code(&post).as_deref(), Some("NOT_FOUND"));
    assert_ok(
        &app.graphql(
            POST,
            json!({ "id": id, "b": "Calendar chosen." }),
            ch.token("science.mentor"),
        )
        .await,
    );
    assert_eq!(
        insider.next_data().await["events"]["kind"],
        "project.progress_posted"
    );
    assert!(
        outsider
            .stays_quiet(std::time::Duration::from_millis(400))
            .await
    );
    let page = crate::pages::Browser::new(&app)
        .get(&format!("/projects/{id}"))
        .await;
    assert_eq!(page.status, 303, "a visitor is asked to sign in");
    assert!(page.location.unwrap().starts_with("/sign-in?next="));
    let other = crate::pages::signed_in(&app, "arts.staff")
        .await
        .get(&format!("/projects/{id}"))
        .await;
    assert_eq!(other.status, 404, "not available to another community");
    let community = crate::pages::Browser::new(&app)
        .get("/communities/science")
        .await;
    assert!(!community.body.contains("Lab bookings"));
}

#[tokio::test]
async fn people_join_and_are_added_progress_reaches_them_and_an_outcome_becomes_a_tip() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: SV }) { locale } }",
            json!({}),
            ch.token("arts.staff"),
        )
        .await,
    );
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, frequency) in [
        ("medicine.mentor", "IMMEDIATE"),
        ("library.contact", "DAILY"),
    ] {
        assert_ok(
            &app.graphql(
                "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
                json!({ "t": topic, "f": frequency }),
                ch.token(who),
            )
            .await,
        );
    }
    let science = ch.org("science");
    let mut i = input("Moodle exams");
    i["topicIds"] = json!([topic]);
    i["coordinatorIds"] = json!([
        ch.user_id("science.mentor").to_string(),
        ch.user_id("science.comentor").to_string()
    ]);
    app.drain_mail().await;
    let before = sink.messages().len();
    let id = create(&app, ch.token("science.mentor"), &science, i).await;
    app.drain_mail().await;
    // The co-coordinator is told; the topic's immediate follower hears of it.
    assert_eq!(
        emails_to(&sink.messages()[before..]),
        ["medicine.mentor@uni.test", "science.comentor@uni.test"]
    );

    // Staff join (the coordinators are told); a digimentor adds someone (who is told, in Swedish).
    let before = sink.messages().len();
    let joined = app
        .graphql(JOIN, json!({ "id": id }), ch.token("science.staff"))
        .await;
    assert_eq!(
        joined["data"]["joinProject"],
        json!({ "peopleCount": 3, "myRole": "MEMBER" })
    );
    let again = app
        .graphql(JOIN, json!({ "id": id }), ch.token("science.staff"))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
    let by_staff = app
        .graphql(
            JOIN,
            json!({ "id": id, "u": ch.user_id("arts.staff").to_string() }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(error_code(&by_staff).as_deref(), Some("FORBIDDEN"));
    assert_ok(
        &app.graphql(
            JOIN,
            json!({ "id": id, "u": ch.user_id("arts.staff").to_string() }),
            ch.token("science.mentor"),
        )
        .await,
    );
    app.drain_mail().await;
    let told = sink.messages()[before..].to_vec();
    assert_eq!(
        emails_to(&told),
        [
            "arts.staff@uni.test",
            "science.comentor@uni.test",
            "science.mentor@uni.test"
        ]
    );
    let added = told
        .iter()
        .find(|m| m.to[0].contains("arts.staff"))
        .unwrap();
    let text = added.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("lade till dig"), "{text}");
    assert!(
        text.contains(&format!("http://digimentor.test/projects/{id}")),
        "{text}"
    );

    // The last coordinator cannot leave; a member can; a digimentor takes someone off.
    let last = app
        .graphql(LEAVE, json!({ "id": id }), ch.token("science.comentor"))
        .await;
    assert_ok(&last);
    let alone = app
        .graphql(LEAVE, json!({ "id": id }), ch.token("science.mentor"))
        .await;
    assert_eq!(error_code(&alone).as_deref(), Some("CONFLICT"));
    let not_in = app
        .graphql(LEAVE, json!({ "id": id }), ch.token("science.comentor"))
        .await;
    assert_eq!(error_code(&not_in).as_deref(), Some("CONFLICT"));

    // A progress update reaches the project's other people and the topic's followers.
    let before = sink.messages().len();
    let posted = app
        .graphql(
            POST,
            json!({ "id": id, "b": "The first quiz ran for **180** students." }),
            ch.token("science.staff"),
        )
        .await;
    assert_ok(&posted);
    let update = posted["data"]["postProjectUpdate"]["updates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outsider = app
        .graphql(
            POST,
            json!({ "id": id, "b": "Hi" }),
            ch.token("medicine.mentor"),
        )
        .await;
    assert_eq!(error_code(&outsider).as_deref(), Some("FORBIDDEN"));
    app.drain_mail().await;
    let told = sink.messages()[before..].to_vec();
    assert_eq!(
        emails_to(&told),
        [
            "arts.staff@uni.test",
            "medicine.mentor@uni.test",
            "science.mentor@uni.test"
        ]
    );
    let follower = told
        .iter()
        .find(|m| m.to[0].contains("medicine.mentor"))
        .unwrap();
    let text = follower.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Hankkeen edistyminen"), "{text}");
    let html = told
        .iter()
        .find(|m| m.to[0].contains("science.mentor"))
        .unwrap()
        .parsed()
        .body_html(0)
        .unwrap()
        .to_string();
    assert!(html.contains("<strong>180</strong>"), "{html}");
    // The daily digest carries it too.
    let before = sink.messages().len();
    app.run_digests(Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    app.drain_mail().await;
    let digest = sink.messages()[before..]
        .iter()
        .find(|m| m.to[0].contains("library.contact"))
        .expect("a digest")
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(
        digest.contains("Moodle exams") && digest.contains(&format!("/projects/{id}")),
        "{digest}"
    );

    // A digimentor promotes the outcome: a tip of the community with the project's topics.
    let before = sink.messages().len();
    let by_staff = app
        .graphql(
            PROMOTE,
            json!({ "u": update, "t": "Quizzes" }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(error_code(&by_staff).as_deref(), Some("FORBIDDEN"));
    let tip = app
        .graphql(
            PROMOTE,
            json!({ "u": update, "t": "Randomised Moodle exams" }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&tip);
    let tip = &tip["data"]["promoteProjectOutcome"];
    assert_eq!(tip["organization"]["slug"], "science");
    assert_eq!(tip["topics"], json!([{ "slug": "moodle" }]));
    let twice = app
        .graphql(
            PROMOTE,
            json!({ "u": update, "t": "Again" }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&twice).as_deref(), Some("CONFLICT"));
    let found = app
        .graphql(
            "{ tips(search: \"Randomised\") { nodes { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        found["data"]["tips"]["nodes"][0]["title"],
        "Randomised Moodle exams"
    );
    app.drain_mail().await;
    let author = sink.messages()[before..]
        .iter()
        .find(|m| m.to[0].contains("science.staff@"))
        .expect("the update's author is told")
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(
        author.contains(&format!(
            "http://digimentor.test/tips/{}",
            tip["id"].as_str().unwrap()
        )),
        "{author}"
    );
}

#[tokio::test]
async fn the_pages_list_projects_and_people_join_post_and_promote_there() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let science = ch.org("science");
    assert_ok(
        &app.graphql(
            "mutation($c: ID!, $y: Int!) { setCommunityPlan(communityId: $c, year: $y, goals: \"- Exams in Moodle\", activities: \"Clinics\") { year } }",
            json!({ "c": science, "y": year() }),
            ch.token("science.mentor"),
        )
        .await,
    );
    // A digimentor starts one from the form, linked to the plan's goal.
    let mut mentor = crate::pages::signed_in(&app, "science.mentor").await;
    let form = mentor.get("/projects/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let goal = format!("{}|Exams in Moodle", year());
    assert!(
        form.body.contains(&format!("value=\"{goal}\"")),
        "{}",
        form.body
    );
    let bad = mentor
        .post(
            "/projects/new",
            &[
                ("csrf", &form.csrf()),
                ("community", &science),
                ("name", "Moodle exams"),
                ("goal", "Quizzes"),
                ("starts_on", "2027-05-01"),
                ("ends_on", "2027-04-01"),
                ("status", "ACTIVE"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"Moodle exams\""),
        "the draft is kept"
    );
    let saved = mentor
        .post(
            "/projects/new",
            &[
                ("csrf", &form.csrf()),
                ("community", &science),
                ("name", "Moodle exams"),
                ("goal", "Quizzes for *all*"),
                ("plan_goal", &goal),
                ("status", "ACTIVE"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let path = saved.location.clone().unwrap();
    let id = path
        .trim_start_matches("/projects/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = mentor.follow(saved).await;
    assert!(page.body.contains("<em>all</em>"));
    assert!(page.body.contains("Exams in Moodle"));

    // Visitors find it from the list and the community's page.
    let mut visitor = crate::pages::Browser::new(&app);
    let list = visitor.get("/projects").await;
    assert!(list.body.contains(&format!("href=\"/projects/{id}\"")));
    let community = visitor.get("/communities/science").await;
    assert!(community.body.contains(&format!("href=\"/projects/{id}\"")));
    let filtered = visitor
        .get(&format!("/projects?status=FINISHED&community={science}"))
        .await;
    assert!(!filtered.body.contains(&format!("href=\"/projects/{id}\"")));
    let page = visitor.get(&format!("/projects/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/sign-in?next="));

    // Staff join and post; the digimentor promotes the outcome.
    let mut staff = crate::pages::signed_in(&app, "science.staff").await;
    let got = staff.get(&format!("/projects/{id}")).await;
    let joined = staff
        .post(&format!("/projects/{id}/join"), &[("csrf", &got.csrf())])
        .await;
    assert_eq!(joined.status, 303);
    let page = staff.follow(joined).await;
    assert!(
        page.body.contains("action=\"/projects/") && page.body.contains("/update\""),
        "{}",
        page.body
    );
    let posted = staff
        .post(
            &format!("/projects/{id}/update"),
            &[
                ("csrf", &page.csrf()),
                ("body", "180 students took the quiz."),
            ],
        )
        .await;
    let page = staff.follow(posted).await;
    assert!(page.body.contains("180 students took the quiz."));
    assert!(
        !page.body.contains("/promote\""),
        "only digimentors promote"
    );
    let page = mentor.get(&format!("/projects/{id}")).await;
    let marker = "name=\"update\" value=\"";
    let at = page.body.find(marker).expect("a promote form") + marker.len();
    let update = page.body[at..at + 36].to_owned();
    let promoted = mentor
        .post(
            &format!("/projects/{id}/promote"),
            &[
                ("csrf", &page.csrf()),
                ("update", &update),
                ("title", "Quizzes for everyone"),
            ],
        )
        .await;
    let page = mentor.follow(promoted).await;
    assert!(page.body.contains("href=\"/tips/"), "{}", page.body);
    let tips = visitor.get("/tips?q=Quizzes").await;
    assert!(tips.body.contains("Quizzes for everyone"));
    // The last coordinator cannot leave.
    let left = mentor
        .post(&format!("/projects/{id}/leave"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(left.status, 409);
    // Someone who is no digimentor gets no form.
    assert_eq!(staff.get("/projects/new").await.status, 403);
    assert_eq!(staff.get(&format!("/projects/{id}/edit")).await.status, 403);
    let edit = mentor.get(&format!("/projects/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(
        edit.body.contains(&format!("value=\"{goal}\" selected")),
        "{}",
        edit.body
    );
}
