//! The pages in a real browser: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`, which `.ci/run` installs when missing), with axe-core run on every
//! page kind (WCAG 2.1 A and AA) and the page checked at 320 px wide; every email kind opened
//! at 375 px.
//!
//! Without `chromedriver` on the machine the test says so and passes, except under CI
//! (`CI` set), where a missing browser is a failure.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_ok, free_port, spawn_app_with};
use crate::smtp::SmtpSink;

const DEMO_PASSWORD: &str = "digimentor-demo-2026";
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/node_modules/axe-core/axe.min.js"
);

/// A chromedriver process, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or `None` when the machine has none (and this is not CI).
async fn start_driver() -> Option<Driver> {
    let binary = ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok());
    let missing = match binary {
        None => Some("chromedriver (apt-get install chromium chromium-driver)"),
        Some(_) if !std::path::Path::new(AXE).exists() => {
            Some("axe-core (npm ci in tests/browser)")
        }
        Some(_) => None,
    };
    if let Some(missing) = missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "{missing} is missing; .ci/run installs it"
        );
        eprintln!("SKIPPED: the browser test needs {missing}");
        return None;
    }
    let binary = binary?;
    let port = free_port();
    let driver = Driver {
        child: Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        port,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A headless Chromium whose browser language is `lang`.
async fn browser(driver: &Driver, lang: &str) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--lang={lang}"),
                "--window-size=1280,900",
            ],
            "prefs": { "intl.accept_languages": lang },
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// Runs axe-core on the current page and fails on any WCAG 2.1 A/AA violation.
async fn assert_accessible(client: &Client, what: &str) {
    let axe = std::fs::read_to_string(AXE).unwrap();
    client.execute(&axe, Vec::new()).await.unwrap();
    let violations = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                   help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))))
               .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        violations,
        json!([]),
        "{what}: axe-core found WCAG 2.1 A/AA violations"
    );
}

/// At 320 CSS pixels (a phone, or 1280 px at 400 %) nothing scrolls sideways.
async fn assert_reflows(client: &Client, what: &str) {
    client.set_window_size(320, 800).await.unwrap();
    let widths = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => {
             const w = document.documentElement.clientWidth;
             const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 1)
               .slice(0, 5)
               .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
             const inner = [...document.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0).slice(0,5).map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth);
             done([document.documentElement.scrollWidth, w, [wide, inner, window.innerWidth, document.body.scrollWidth]]); }));",
            Vec::new(),
        )
        .await
        .unwrap();
    client.set_window_size(1280, 900).await.unwrap();
    let (scroll, client_width) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= client_width,
        "{what}: {scroll} px wide in a {client_width} px window: {}",
        widths[2]
    );
}

/// Checks the page a browser shows: accessible and reflowing.
async fn check_page(client: &Client, what: &str) {
    assert_accessible(client, what).await;
    assert_reflows(client, what).await;
}

/// Clicks what `locator` finds and waits until the next page has replaced this one (the old
/// document goes stale) and has loaded.
async fn click_through(client: &Client, locator: Locator<'_>) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    client.find(locator).await.unwrap().click().await.unwrap();
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        old.tag_name().await.is_err(),
        "the click did not lead to a new page"
    );
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("footer"))
        .await
        .unwrap();
}

async fn html_lang(client: &Client) -> String {
    client
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Types `text` into the field with the id `id`.
async fn fill(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clicks the element with the id `id` (a radio button, a checkbox).
async fn tick(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The text of the first element `css` finds, waiting for it (a click may still be loading the
/// next page).
async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

fn path_of(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

#[tokio::test]
async fn a_visitor_and_a_staff_member_use_the_pages_in_a_real_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let app: TestApp = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&smtp)).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    app.drain_mail().await;
    let base = app.url("");

    // A Finnish visitor.
    let visitor = browser(&driver, "fi").await;
    visitor.goto(&base).await.unwrap();
    assert_eq!(html_lang(&visitor).await, "fi");
    assert_eq!(text_of(&visitor, "h1").await, "Digimentoriverkosto");
    check_page(&visitor, "home").await;

    // The news column and a post.
    click_through(&visitor, Locator::LinkText("Uutiset")).await;
    assert_eq!(path_of(&visitor.current_url().await.unwrap()), "/news");
    check_page(&visitor, "news").await;
    click_through(&visitor, Locator::Css("ul.cards h2 a")).await;
    assert!(
        visitor
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/news/")
    );
    check_page(&visitor, "news post").await;

    // A meeting.
    click_through(&visitor, Locator::LinkText("Tapaamiset")).await;
    check_page(&visitor, "meetings").await;
    click_through(
        &visitor,
        Locator::Css("#upcoming ~ ul a, section ul.cards h3 a"),
    )
    .await;
    assert!(
        visitor
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/meetings/")
    );
    assert!(visitor.source().await.unwrap().contains("Esityslista"));
    check_page(&visitor, "meeting").await;

    // The tips bank, searched in Finnish, and a tip.
    click_through(&visitor, Locator::LinkText("Vinkkipankki")).await;
    check_page(&visitor, "tips").await;
    let search = visitor.find(Locator::Id("q")).await.unwrap();
    search.send_keys("etäopetuksessa").await.unwrap();
    click_through(&visitor, Locator::Css("form.search button")).await;
    assert_eq!(text_of(&visitor, "#results").await, "Hakutulokset");
    check_page(&visitor, "tips search").await;
    click_through(
        &visitor,
        Locator::LinkText("Opiskelijoiden tiedot etäopetuksessa"),
    )
    .await;
    assert_eq!(
        text_of(&visitor, "h1").await,
        "Opiskelijoiden tiedot etäopetuksessa"
    );
    check_page(&visitor, "tip").await;

    // Contacts and a community.
    click_through(&visitor, Locator::LinkText("Yhteystiedot")).await;
    assert!(
        visitor
            .source()
            .await
            .unwrap()
            .contains("Yksiköllä ei ole tällä hetkellä digimentoria.")
    );
    check_page(&visitor, "contacts").await;
    visitor
        .goto(&app.url("/communities/science"))
        .await
        .unwrap();
    check_page(&visitor, "community").await;

    // The partner networks, found from the home page, and a meeting held jointly with one,
    // whose partner link leads back to the partner.
    click_through(&visitor, Locator::LinkText("Etusivu")).await;
    click_through(&visitor, Locator::LinkText("Campus EdTech Network")).await;
    let at = visitor.current_url().await.unwrap();
    assert_eq!(path_of(&at), "/partners");
    assert_eq!(at.fragment(), Some("campus-edtech"));
    assert_eq!(text_of(&visitor, "h1").await, "Kumppaniverkostot");
    assert!(
        text_of(&visitor, "#campus-edtech")
            .await
            .contains("Sanna Lehto (Coordinator)")
    );
    check_page(&visitor, "partners").await;
    click_through(&visitor, Locator::LinkText("Tapaamiset")).await;
    click_through(
        &visitor,
        Locator::LinkText("Joint seminar with the Campus EdTech Network"),
    )
    .await;
    check_page(&visitor, "joint meeting").await;
    click_through(
        &visitor,
        Locator::Css("dd a[href='/partners#campus-edtech']"),
    )
    .await;
    assert_eq!(path_of(&visitor.current_url().await.unwrap()), "/partners");

    // What is not there, and what a visitor may not read.
    visitor.goto(&app.url("/no/such/page")).await.unwrap();
    assert_eq!(text_of(&visitor, "h1").await, "Sivua ei löydy");
    check_page(&visitor, "404").await;

    // A staff member asks for their notification settings, and is sent to sign in.
    let staff = browser(&driver, "fi").await;
    staff.goto(&app.url("/me/notifications")).await.unwrap();
    let at = staff.current_url().await.unwrap();
    assert_eq!(path_of(&at), "/sign-in?next=%2Fme%2Fnotifications");
    check_page(&staff, "sign-in").await;
    fill(&staff, "link-email", "juha.kinnunen@demo.digimentor.fi").await;
    click_through(
        &staff,
        Locator::Css("#by-link ~ form button, section[aria-labelledby=by-link] button"),
    )
    .await;
    assert!(
        text_of(&staff, "p.notice")
            .await
            .contains("kirjautumislinkin")
    );
    check_page(&staff, "sign-in, link sent").await;

    // The link, from the SMTP server.
    app.drain_mail().await;
    let email = sink.messages().pop().unwrap();
    let text = email.parsed().body_text(0).unwrap().to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/sign-in/link/"))
        .unwrap()
        .replace("http://digimentor.test", &base);
    staff.goto(&link).await.unwrap();
    check_page(&staff, "sign-in link").await;
    click_through(&staff, Locator::Css("main form button")).await;
    assert_eq!(
        path_of(&staff.current_url().await.unwrap()),
        "/me/notifications",
        "lands on the page asked for"
    );
    check_page(&staff, "my notifications").await;

    // A topic at once, and Swedish.
    let topic = staff
        .find(Locator::Css("select[name^=topic-]"))
        .await
        .unwrap();
    topic.select_by_value("IMMEDIATE").await.unwrap();
    staff
        .find(Locator::Id("locale"))
        .await
        .unwrap()
        .select_by_value("sv")
        .await
        .unwrap();
    click_through(&staff, Locator::Css("main form button[type=submit]")).await;
    assert_eq!(html_lang(&staff).await, "sv", "the pages switch language");
    assert_eq!(
        text_of(&staff, "p.notice").await,
        "Inställningarna har sparats."
    );
    let chosen: Value = staff
        .execute(
            "return document.querySelector('select[name^=topic-]').value;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(chosen, json!("IMMEDIATE"));
    check_page(&staff, "my notifications, saved").await;
    staff.goto(&base).await.unwrap();
    assert_eq!(text_of(&staff, "h1").await, "Digimentornätverket");

    // An inquiry and a question as someone who may read them.
    let mentor = browser(&driver, "en").await;
    mentor.goto(&app.url("/sign-in")).await.unwrap();
    fill(&mentor, "email", "aino.virtanen@demo.digimentor.fi").await;
    mentor
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(DEMO_PASSWORD)
        .await
        .unwrap();
    click_through(
        &mentor,
        Locator::Css("section[aria-labelledby=by-password] button"),
    )
    .await;
    let inquiry = entity_path(&app, "inquiries").await;
    mentor.goto(&app.url(&inquiry)).await.unwrap();
    check_page(&mentor, "inquiry").await;
    let question = entity_path(&app, "questions").await;
    mentor.goto(&app.url(&question)).await.unwrap();
    check_page(&mentor, "question").await;

    // A cancelled meeting, as the visitor sees it.
    let admin = app.login("admin@demo.digimentor.fi", DEMO_PASSWORD).await;
    let upcoming = app
        .graphql(
            "{ meetings(when: UPCOMING, first: 1) { id } }",
            json!({}),
            None,
        )
        .await;
    let meeting = upcoming["data"]["meetings"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation($id: ID!) { cancelMeeting(id: $id, reason: \"Sali on remontissa.\") { id } }",
            json!({ "id": meeting }),
            Some(&admin),
        )
        .await,
    );
    visitor
        .goto(&app.url(&format!("/meetings/{meeting}")))
        .await
        .unwrap();
    assert!(
        text_of(&visitor, "p.cancelled")
            .await
            .contains("Sali on remontissa.")
    );
    check_page(&visitor, "cancelled meeting").await;
    visitor.goto(&app.url("/meetings")).await.unwrap();
    check_page(&visitor, "meetings with a cancelled one").await;

    // A new person, in English, chooses a password with the link in their welcome email.
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation { createUser(input: { email: \"new.person@demo.digimentor.fi\", displayName: \"New Person\", locale: EN }) { passwordLinkSent } }",
            json!({}),
            Some(&admin),
        )
        .await,
    );
    app.drain_mail().await;
    let email = sink
        .messages()
        .into_iter()
        .find(|m| m.to == ["<new.person@demo.digimentor.fi>"])
        .unwrap();
    let text = email.parsed().body_text(0).unwrap().to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/set-password/"))
        .unwrap()
        .replace("http://digimentor.test", &base);
    let newcomer = browser(&driver, "en").await;
    newcomer.goto(&link).await.unwrap();
    assert_eq!(text_of(&newcomer, "h1").await, "Choose your password");
    check_page(&newcomer, "set password").await;
    fill(&newcomer, "password", "too short").await;
    // The browser's own check (minlength) stops a short one first; the server's answer is
    // what a browser without it sees.
    newcomer
        .execute(
            "document.getElementById('password').removeAttribute('minlength');",
            Vec::new(),
        )
        .await
        .unwrap();
    click_through(&newcomer, Locator::Css("main form button")).await;
    assert_eq!(
        text_of(&newcomer, "span.error").await,
        "The password must have 12 to 256 characters."
    );
    check_page(&newcomer, "set password, too short").await;
    fill(&newcomer, "password", "a long sentence is a good password").await;
    click_through(&newcomer, Locator::Css("main form button")).await;
    assert_eq!(
        path_of(&newcomer.current_url().await.unwrap()),
        "/me/notifications?welcome=1"
    );
    assert!(
        text_of(&newcomer, "p.notice")
            .await
            .contains("Your password is saved and you are signed in.")
    );
    check_page(&newcomer, "my notifications, welcome").await;

    for client in [visitor, staff, mentor, newcomer] {
        client.close().await.unwrap();
    }
}

/// A page of the given kind that the science mentor may read.
async fn entity_path(app: &TestApp, kind: &str) -> String {
    let token = app
        .login("aino.virtanen@demo.digimentor.fi", DEMO_PASSWORD)
        .await;
    let query = format!("{{ {kind}(first: 1) {{ nodes {{ id }} }} }}");
    let body = app.graphql(&query, json!({}), Some(&token)).await;
    let id = body["data"][kind]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    format!("/{kind}/{id}")
}

/// Every kind of email the demo network's life sends, in each language it was sent in, opened
/// as its HTML part in Chromium at 375 px (a phone): nothing scrolls sideways, there is one
/// button-styled action (a digest's items are its links), and axe-core finds no WCAG 2.1 A/AA
/// violation.
#[tokio::test]
async fn every_email_reads_on_a_phone_with_one_obvious_action() {
    use base64::Engine;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let Some(driver) = start_driver().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let app = crate::replies::app_taking_replies(&sink).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    // What the demo's life does not send by itself: a welcome to a new account in each
    // language, a forgotten password's link, and a meeting's cancellation.
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation { requestPasswordReset(email: \"juha.kinnunen@demo.digimentor.fi\") }",
            serde_json::json!({}),
            None,
        )
        .await,
    );
    let admin = app
        .login("admin@demo.digimentor.fi", "digimentor-demo-2026")
        .await;
    for locale in ["FI", "SV", "EN"] {
        crate::helpers::assert_ok(
            &app.graphql(
                "mutation($e: String!, $l: Locale!) { createUser(input: { email: $e, displayName: \"New Person\", locale: $l }) { passwordLinkSent } }",
                serde_json::json!({ "e": format!("new.{locale}@demo.digimentor.fi"), "l": locale }),
                Some(&admin),
            )
            .await,
        );
    }
    let upcoming = app
        .graphql(
            "{ meetings(when: UPCOMING, first: 1) { id } }",
            serde_json::json!({}),
            None,
        )
        .await;
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation($id: ID!) { cancelMeeting(id: $id, reason: \"The hall is being renovated.\") { id } }",
            serde_json::json!({ "id": upcoming["data"]["meetings"][0]["id"] }),
            Some(&admin),
        )
        .await,
    );
    app.drain_mail().await;
    let mut seen = std::collections::BTreeSet::new();
    let client = browser(&driver, "fi").await;
    client.set_window_size(375, 800).await.unwrap();
    for message in sink.messages() {
        let parsed = message.parsed();
        let id = format!("<{}>", parsed.message_id().unwrap());
        let row = entity::delivery::Entity::find()
            .filter(entity::delivery::Column::MessageId.eq(id))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        // A cancellation is a meeting email of its own look.
        let cancel = {
            use mail_parser::MimeHeaders;
            parsed
                .attachments()
                .any(|a| a.attachment_name() == Some("cancel.ics"))
        };
        if !seen.insert((row.kind.clone(), row.locale.clone(), cancel)) {
            continue;
        }
        let what = format!(
            "{}{} ({})",
            row.kind,
            if cancel { " cancelled" } else { "" },
            row.locale
        );
        let html = parsed.body_html(0).unwrap().to_string();
        let url = format!(
            "data:text/html;charset=utf-8;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(html.as_bytes())
        );
        client.goto(&url).await.unwrap();
        let measured = client
            .execute(
                "const w = document.documentElement.clientWidth;
                 const buttons = [...document.querySelectorAll('a')]
                   .filter(a => getComputedStyle(a).display === 'inline-block');
                 return [document.documentElement.scrollWidth, w, buttons.length,
                         buttons.map(b => b.getBoundingClientRect().height)];",
                Vec::new(),
            )
            .await
            .unwrap();
        let (scroll, width) = (measured[0].as_i64().unwrap(), measured[1].as_i64().unwrap());
        assert!(scroll <= width, "{what}: {scroll} px wide at {width} px");
        let expected = usize::from(row.kind != "digest");
        assert_eq!(
            measured[2].as_u64().unwrap() as usize,
            expected,
            "{what}: one button"
        );
        // The button is a comfortable target (WCAG 2.5.5 asks 44 px; 24 px is the AA minimum).
        for height in measured[3].as_array().unwrap() {
            assert!(
                height.as_f64().unwrap() >= 40.0,
                "{what}: {height} px button"
            );
        }
        assert_accessible(&client, &what).await;
    }
    let kinds: std::collections::BTreeSet<&String> = seen.iter().map(|(k, _, _)| k).collect();
    assert!(kinds.len() >= 8, "the demo sent many kinds: {kinds:?}");
    for locale in ["fi", "sv", "en"] {
        assert!(
            seen.contains(&("account_created".to_owned(), locale.to_owned(), false)),
            "{locale}: {seen:?}"
        );
    }
    assert!(
        seen.iter()
            .any(|(kind, _, cancel)| kind == "meeting_invitation" && *cancel),
        "a cancellation: {seen:?}"
    );
    client.close().await.unwrap();
}

/// With `SCREENSHOTS=<folder>` set, saves what `client` shows as `<folder>/<name>.png` (the
/// README's pictures are made this way: `SCREENSHOTS=docs/screenshots cargo test browser::`).
async fn screenshot(client: &Client, name: &str, at: Option<&str>) {
    let Some(folder) = std::env::var_os("SCREENSHOTS") else {
        return;
    };
    if let Some(css) = at {
        client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({ block: 'start' });",
                vec![json!(css)],
            )
            .await
            .unwrap();
    }
    let png = client.screenshot().await.unwrap();
    let folder = std::path::PathBuf::from(folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

/// Signs `client` in by password as one of the channel's people.
async fn sign_in_as(app: &TestApp, client: &Client, name: &str) {
    client.goto(&app.url("/sign-in?next=%2Fme")).await.unwrap();
    client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(&format!("{name}@uni.test"))
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(crate::helpers::PASSWORD)
        .await
        .unwrap();
    click_through(
        client,
        Locator::Css("section[aria-labelledby=by-password] button"),
    )
    .await;
    assert_eq!(
        path_of(&client.current_url().await.unwrap()),
        "/me",
        "{name}"
    );
}

/// Waits (10 s at most) until the text of `css` contains `expected`, without reloading.
async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        seen = client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if seen.contains(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: {expected:?} never appeared; last {seen:?}");
}

/// The lead watches an inquiry's coverage while two mentors answer and one declines, each in a
/// browser of their own; the lead's page changes without a reload at each step. A co-mentor's
/// edit of the version they loaded before shows the conflict, and is saved over it knowingly.
/// Every page state passes axe-core.
#[tokio::test]
async fn the_lead_sees_coverage_change_live_while_mentors_answer_in_their_browsers() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    // The lead composes and publishes the inquiry to three units in the browser.
    let lead = browser(&driver, "en").await;
    sign_in_as(&app, &lead, "lead").await;
    click_through(&lead, Locator::Css("a[href='/inquiries/new']")).await;
    check_page(&lead, "compose an inquiry").await;
    screenshot(&lead, "compose-an-inquiry", None).await;
    lead.find(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("Moodle exam practices")
        .await
        .unwrap();
    lead.find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("How does your unit examine with Moodle?")
        .await
        .unwrap();
    click_through(&lead, Locator::Css("button[value=publish]")).await;
    assert!(
        text_of(&lead, "span.error")
            .await
            .contains("Valitse vähintään yksi yksikkö."),
        "no unit chosen yet"
    );
    check_page(&lead, "compose an inquiry, no unit chosen").await;
    lead.find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for slug in ["science", "arts", "medicine"] {
        lead.find(Locator::Id(&format!("community-{}", ch.org(slug))))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    click_through(&lead, Locator::Css("button[value=publish]")).await;
    assert!(text_of(&lead, "p.notice").await.contains("julkaistu"));
    let url = lead.current_url().await.unwrap();
    let inquiry = url.path().rsplit('/').next().unwrap().to_owned();
    let page = app.url(&format!("/inquiries/{inquiry}"));
    lead.goto(&page).await.unwrap();
    // Marks this document: a reload would lose it.
    lead.execute("window.notReloaded = true;", Vec::new())
        .await
        .unwrap();
    lead.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main[data-live-ready=live]"))
        .await
        .unwrap();
    assert!(text_of(&lead, "[data-live=coverage]").await.contains("0/3"));
    check_page(&lead, "inquiry, as its author").await;

    // The co-mentor opens the page first, the mentor answers.
    let comentor = browser(&driver, "fi").await;
    sign_in_as(&app, &comentor, "science.comentor").await;
    comentor.goto(&page).await.unwrap();
    let mentor = browser(&driver, "fi").await;
    sign_in_as(&app, &mentor, "science.mentor").await;
    check_page(&mentor, "my work, a mentor").await;
    screenshot(&mentor, "my-work", None).await;
    let Ok(mine) = mentor.find(Locator::Css("a[href^='/inquiries/']")).await else {
        panic!("no inquiry on My work: {}", mentor.source().await.unwrap());
    };
    mine.click().await.unwrap();
    mentor
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("We use **Exam** with Moodle quizzes.")
        .await
        .unwrap();
    click_through(
        &mentor,
        Locator::Css("form[action$='/answer'] button[name=preview]"),
    )
    .await;
    assert!(
        text_of(&mentor, ".preview strong").await.contains("Exam"),
        "the preview shows the formatting"
    );
    check_page(&mentor, "inquiry, answer previewed").await;
    screenshot(&mentor, "answer-for-your-unit", Some(".respond")).await;
    click_through(
        &mentor,
        Locator::Css("form[action$='/answer'] button:not([name])"),
    )
    .await;
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("Vastaus on tallennettu")
    );
    check_page(&mentor, "inquiry, answered").await;
    wait_for_text(&lead, "[data-live=coverage]", "vastanneet 1/3").await;

    // The co-mentor's stale edit: the conflict, then saved over it.
    comentor
        .find(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("Mostly essays.")
        .await
        .unwrap();
    click_through(
        &comentor,
        Locator::Css("form[action$='/answer'] button:not([name])"),
    )
    .await;
    assert!(
        text_of(&comentor, ".conflict")
            .await
            .contains("Vastausta on muutettu sillä välin.")
    );
    check_page(&comentor, "inquiry, a co-mentor's conflict").await;
    screenshot(&comentor, "a-co-mentors-newer-answer", Some(".respond")).await;
    click_through(
        &comentor,
        Locator::Css("form[action$='/answer'] button:not([name])"),
    )
    .await;
    assert!(text_of(&comentor, "p.notice").await.contains("tallennettu"));

    // The arts mentor declines.
    let arts = browser(&driver, "sv").await;
    sign_in_as(&app, &arts, "arts.mentor").await;
    arts.goto(&page).await.unwrap();
    arts.find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arts.find(Locator::Css("form[action$='/decline'] textarea"))
        .await
        .unwrap()
        .send_keys("Inga tentamina den här terminen.")
        .await
        .unwrap();
    click_through(&arts, Locator::Css("form[action$='/decline'] button")).await;
    wait_for_text(&lead, "[data-live=coverage]", "kieltäytyneet 1").await;

    // A second unit's mentor answers, in English, in a browser of their own.
    let medicine = browser(&driver, "en").await;
    sign_in_as(&app, &medicine, "medicine.mentor").await;
    medicine.goto(&page).await.unwrap();
    medicine
        .find(Locator::Css("form[action$='/answer'] textarea"))
        .await
        .unwrap()
        .send_keys("Oral exams, mostly.")
        .await
        .unwrap();
    click_through(
        &medicine,
        Locator::Css("form[action$='/answer'] button:not([name])"),
    )
    .await;
    wait_for_text(&lead, "[data-live=coverage]", "vastanneet 2/3").await;

    let lead_still: Value = lead
        .execute("return window.notReloaded === true;", Vec::new())
        .await
        .unwrap();
    assert_eq!(
        lead_still,
        json!(true),
        "the lead's page was never reloaded"
    );
    assert!(
        text_of(&lead, "section[aria-labelledby=answers]")
            .await
            .contains("Mostly essays.")
    );
    check_page(&lead, "inquiry, updated live").await;
    screenshot(&lead, "coverage-live", None).await;

    // Management reads the answers side by side, and as CSV.
    click_through(
        &lead,
        Locator::Css(&format!("a[href='/inquiries/{inquiry}/print']")),
    )
    .await;
    check_page(&lead, "the answers to print").await;
    screenshot(&lead, "answers-side-by-side", None).await;
    let csv: Value = lead
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin' }).then(r => r.text()).then(done);",
            vec![json!(format!("/inquiries/{inquiry}/answers.csv"))],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    for answer in [
        "Mostly essays.",
        "Inga tentamina den här terminen.",
        "Oral exams, mostly.",
    ] {
        assert!(csv.contains(answer), "{csv}");
    }
    assert_eq!(csv.trim_end().split("\r\n").count(), 4, "{csv}");

    for client in [lead, comentor, mentor, arts, medicine] {
        client.close().await.unwrap();
    }
}

/// A staff member asks (the empty title refused beside the field first) and wishes the service
/// unit not to see their name; the mentor, in a browser of their own, forwards with the name
/// hidden; the service unit's contact, in a third, answers without ever seeing who asked; the
/// asker's page shows the answer. Every page state passes axe-core and reflows at 320 px.
#[tokio::test]
async fn a_question_travels_from_staff_to_a_service_unit_and_back_in_three_browsers() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;

    let staff = browser(&driver, "fi").await;
    sign_in_as(&app, &staff, "science.staff").await;
    check_page(&staff, "my work, staff").await;
    click_through(&staff, Locator::Css("a[href='/questions/new']")).await;
    check_page(&staff, "ask a question").await;
    screenshot(&staff, "ask-the-digimentors", None).await;
    fill(&staff, "body", "Miten varaan tenttisalin?").await;
    staff
        .execute(
            "document.getElementById('title').removeAttribute('required');",
            Vec::new(),
        )
        .await
        .unwrap();
    click_through(&staff, Locator::Css("main form button:not([name])")).await;
    assert!(
        text_of(&staff, "span.error")
            .await
            .contains("Kirjoita otsikko")
    );
    check_page(&staff, "ask a question, the title missing").await;
    fill(&staff, "title", "Tenttisalit").await;
    tick(&staff, "hide").await;
    click_through(&staff, Locator::Css("main form button:not([name])")).await;
    assert!(text_of(&staff, "p.notice").await.contains("lähetetty"));
    check_page(&staff, "my question, sent").await;
    let question = staff.current_url().await.unwrap();
    let question_path = question.path().to_owned();

    let mentor = browser(&driver, "fi").await;
    sign_in_as(&app, &mentor, "science.mentor").await;
    mentor.goto(&app.url(&question_path)).await.unwrap();
    assert!(
        text_of(&mentor, "dl.facts")
            .await
            .contains("Nimeä ei näytetä palveluyksikölle")
    );
    check_page(&mentor, "a question to triage").await;
    screenshot(&mentor, "a-question-to-handle", Some("main")).await;
    let hidden: Value = mentor
        .execute(
            "return document.getElementById('hide').checked;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(hidden, json!(true), "the asker's wish is the default");
    fill(&mentor, "note", "Tilavaraukset kuuluvat teille.").await;
    click_through(&mentor, Locator::Css("form[action$='/forward'] button")).await;
    assert!(text_of(&mentor, "p.notice").await.contains("välitetty"));

    let contact = browser(&driver, "en").await;
    sign_in_as(&app, &contact, "unit.contact").await;
    assert!(
        text_of(&contact, "main")
            .await
            .contains("Yksikköönne välitetyt kysymykset"),
        "the contact's own language is Finnish"
    );
    contact.goto(&app.url(&question_path)).await.unwrap();
    let seen = text_of(&contact, "main").await;
    assert!(!seen.contains("science staff"), "{seen}");
    assert!(seen.contains("Nimi piilotettu"), "{seen}");
    check_page(&contact, "a forwarded question").await;
    screenshot(&contact, "a-forwarded-question", Some("main")).await;
    fill(&contact, "answer-body", "Varaa sali tilakalenterista.").await;
    click_through(
        &contact,
        Locator::Css("form[action$='/answer'] button:not([name])"),
    )
    .await;
    assert!(
        text_of(&contact, "p.notice")
            .await
            .contains("Vastaus on lähetetty")
    );

    staff.goto(question.as_ref()).await.unwrap();
    assert!(
        text_of(&staff, "section[aria-labelledby=answer]")
            .await
            .contains("Varaa sali tilakalenterista.")
    );
    check_page(&staff, "my question, answered").await;
    screenshot(&staff, "my-question-answered", Some("main")).await;

    // A wish: passed on in the browser, forwarded, and decided by the unit on its page.
    staff.goto(&app.url("/questions/new")).await.unwrap();
    tick(&staff, "kind-wish").await;
    for (field, text) in [
        ("title", "Tenttisalien kalenteri"),
        ("body", "Yksi kalenteri kaikille tenttisaleille."),
    ] {
        fill(&staff, field, text).await;
    }
    click_through(&staff, Locator::Css("main form button:not([name])")).await;
    let wish = staff.current_url().await.unwrap().path().to_owned();
    assert!(text_of(&staff, "dl.facts").await.contains("Toive"));
    mentor.goto(&app.url(&wish)).await.unwrap();
    mentor
        .execute(
            &format!(
                "document.getElementById('unit').value = '{}';",
                ch.org("it-services")
            ),
            Vec::new(),
        )
        .await
        .unwrap();
    click_through(&mentor, Locator::Css("form[action$='/forward'] button")).await;
    contact.goto(&app.url(&wish)).await.unwrap();
    check_page(&contact, "a wish to decide on").await;
    tick(&contact, "decision-planned").await;
    fill(&contact, "why", "Tulee kevään päivityksen mukana.").await;
    click_through(&contact, Locator::Css("form[action$='/decide'] button")).await;
    assert!(
        text_of(&contact, "p.notice")
            .await
            .contains("Päätös on tallennettu")
    );
    check_page(&contact, "a decided wish").await;
    staff.goto(&app.url(&wish)).await.unwrap();
    let decision = text_of(&staff, "section[aria-labelledby=decision]").await;
    assert!(decision.contains("Suunnitteilla"), "{decision}");
    assert!(
        decision.contains("Tulee kevään päivityksen mukana."),
        "{decision}"
    );
    check_page(&staff, "my wish, decided").await;

    // The network's agenda: a mentor proposes an item, the chair sees it to place.
    let start = chrono::Utc::now() + chrono::Duration::days(10);
    assert_ok(
        &app.graphql(
            "mutation($i: MeetingInput!) { scheduleMeeting(input: $i) { id } }",
            json!({ "i": {
                "title": "Verkostotapaaminen",
                "startsAt": start.to_rfc3339(),
                "endsAt": (start + chrono::Duration::hours(2)).to_rfc3339(),
                "place": "Sali 12",
            } }),
            ch.token("admin"),
        )
        .await,
    );
    mentor.goto(&app.url("/agenda")).await.unwrap();
    check_page(&mentor, "the network's agenda").await;
    fill(&mentor, "title", "Tenttisalien varaus").await;
    click_through(&mentor, Locator::Css("form[action='/agenda'] button")).await;
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("Ehdotus on lähetetty")
    );
    check_page(&mentor, "the network's agenda, proposed").await;
    let chair = browser(&driver, "fi").await;
    sign_in_as(&app, &chair, "admin").await;
    chair.goto(&app.url("/agenda")).await.unwrap();
    assert!(
        text_of(&chair, "main form[action$='/set']")
            .await
            .contains("Tenttisalien varaus")
    );
    check_page(&chair, "the network's agenda, the chair").await;
    chair.close().await.unwrap();

    // An announcement: the contact sends it to every community, the mentor marks it relayed.
    contact.goto(&app.url("/announcements/new")).await.unwrap();
    check_page(&contact, "send an announcement").await;
    for (field, text) in [
        ("title", "Tulostimet muuttavat"),
        ("body", "Tulostimet siirtyvät aulaan maanantaina."),
    ] {
        fill(&contact, field, text).await;
    }
    tick(&contact, "all").await;
    click_through(&contact, Locator::Css("main form button")).await;
    assert!(
        text_of(&contact, "p.notice")
            .await
            .contains("Tiedote on lähetetty")
    );
    check_page(&contact, "an announcement, sent").await;
    let announcement = contact.current_url().await.unwrap().path().to_owned();
    mentor.goto(&app.url("/announcements")).await.unwrap();
    check_page(&mentor, "announcements").await;
    mentor.goto(&app.url(&announcement)).await.unwrap();
    check_page(&mentor, "an announcement to relay").await;
    mentor
        .find(Locator::Css("input[name=how]"))
        .await
        .unwrap()
        .send_keys("Henkilöstön sähköpostilista")
        .await
        .unwrap();
    click_through(&mentor, Locator::Css("form[action$='/relayed'] button")).await;
    assert!(
        text_of(&mentor, "section[aria-labelledby=coverage]")
            .await
            .contains("Henkilöstön sähköpostilista")
    );
    check_page(&mentor, "an announcement, relayed").await;

    // A training: the mentor organises one from the list, staff find it and register, the
    // mentor sees the participant list.
    mentor.goto(&app.url("/trainings")).await.unwrap();
    check_page(&mentor, "trainings, none yet").await;
    click_through(&mentor, Locator::Css("a[href='/trainings/new']")).await;
    check_page(&mentor, "organise a training").await;
    fill(&mentor, "title", "Moodlen tentit käytännössä").await;
    fill(&mentor, "place", "Physicum A113").await;
    let day = (chrono::Utc::now() + chrono::Duration::days(8))
        .format("%Y-%m-%d")
        .to_string();
    mentor
        .execute(
            &format!(
                "document.getElementById('date').value = '{day}';\
                 document.getElementById('start').value = '13:00';\
                 document.getElementById('end').value = '14:30';\
                 document.getElementById('capacity').value = '1';"
            ),
            Vec::new(),
        )
        .await
        .unwrap();
    click_through(&mentor, Locator::Css("main form button")).await;
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("Koulutus on tallennettu")
    );
    check_page(&mentor, "a training, organised").await;
    let training = mentor.current_url().await.unwrap().path().to_owned();
    staff.goto(&app.url("/")).await.unwrap();
    click_through(&staff, Locator::Css(&format!("a[href='{training}']"))).await;
    check_page(&staff, "a training to register for").await;
    click_through(&staff, Locator::Css("form[action$='/register'] button")).await;
    assert!(
        text_of(&staff, "section[aria-labelledby=registration]")
            .await
            .contains("Sinulla on paikka")
    );
    check_page(&staff, "a training, registered").await;
    mentor.goto(&app.url(&training)).await.unwrap();
    assert!(
        text_of(&mentor, "section[aria-labelledby=participants]")
            .await
            .contains("science.staff@uni.test")
    );
    check_page(&mentor, "a training's participants").await;
    contact.goto(&app.url(&training)).await.unwrap();
    click_through(&contact, Locator::Css("form[action$='/register'] button")).await;
    assert!(
        text_of(&contact, "section[aria-labelledby=registration]")
            .await
            .contains("jonossa sijalla 1")
    );
    check_page(&contact, "a training, on the waiting list").await;

    // A development project: the mentor starts one, staff find it in the list and join, post
    // progress, and the mentor promotes the outcome to the tips bank.
    mentor.goto(&app.url("/projects/new")).await.unwrap();
    check_page(&mentor, "start a project").await;
    fill(&mentor, "name", "Moodlen tentit").await;
    fill(&mentor, "goal", "Ensimmäisen vuoden tentit Moodleen.").await;
    click_through(&mentor, Locator::Css("main form button")).await;
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("Hanke on tallennettu")
    );
    check_page(&mentor, "a project, started").await;
    let project = mentor.current_url().await.unwrap().path().to_owned();
    staff.goto(&app.url("/projects")).await.unwrap();
    check_page(&staff, "projects").await;
    click_through(&staff, Locator::Css(&format!("a[href='{project}']"))).await;
    click_through(&staff, Locator::Css("form[action$='/join'] button")).await;
    check_page(&staff, "a project, joined").await;
    fill(&staff, "body", "Kysymyspankissa on 240 kysymystä.").await;
    click_through(&staff, Locator::Css("form[action$='/update'] button")).await;
    assert!(
        text_of(&staff, "section[aria-labelledby=progress]")
            .await
            .contains("240 kysymystä")
    );
    check_page(&staff, "a project, progress posted").await;
    mentor.goto(&app.url(&project)).await.unwrap();
    check_page(&mentor, "a project to promote from").await;
    click_through(&mentor, Locator::Css("form[action$='/promote'] button")).await;
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("vinkkipankkiin")
    );
    check_page(&mentor, "a project, outcome promoted").await;
    mentor.goto(&app.url("/communities/science")).await.unwrap();
    check_page(&mentor, "a community with its projects").await;

    for client in [staff, mentor, contact] {
        client.close().await.unwrap();
    }
}

/// Keyboard only: a mentor gets from the top of the inquiry page to the answer field with Tab,
/// writes, tabs on to the save button and presses Enter. My work and a question's page change
/// live, without a reload, when something they show happens.
#[tokio::test]
async fn keyboard_only_answering_and_live_lists() {
    use fantoccini::key::Key;
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    let (inquiry, _) = app
        .published_inquiry(&ch, "Keyboard only", &["science"])
        .await;

    let mentor = browser(&driver, "fi").await;
    sign_in_as(&app, &mentor, "science.mentor").await;
    mentor
        .goto(&app.url(&format!("/inquiries/{inquiry}")))
        .await
        .unwrap();
    let mut reached = false;
    for _ in 0..80 {
        mentor
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        let id: Value = mentor
            .execute("return document.activeElement.id;", Vec::new())
            .await
            .unwrap();
        if id.as_str().is_some_and(|id| id.starts_with("answer-")) {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the answer field");
    let field = mentor.active_element().await.unwrap();
    field.send_keys("Vastattu näppäimistöllä.").await.unwrap();
    // On to "Esikatsele", then "Tallenna vastaus", and Enter.
    for _ in 0..2 {
        mentor
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
    }
    let label = mentor.active_element().await.unwrap().text().await.unwrap();
    assert_eq!(label, "Tallenna vastaus");
    let old = mentor.find(Locator::Css("html")).await.unwrap();
    mentor
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        text_of(&mentor, "p.notice")
            .await
            .contains("Vastaus on tallennettu")
    );

    // My work follows the mentor's events: a new inquiry appears without a reload.
    mentor.goto(&app.url("/me")).await.unwrap();
    mentor
        .execute("window.notReloaded = true;", Vec::new())
        .await
        .unwrap();
    mentor
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main[data-live-ready=live]"))
        .await
        .unwrap();
    app.published_inquiry(&ch, "Arrives live", &["science"])
        .await;
    wait_for_text(&mentor, "[data-live=waiting]", "Arrives live").await;

    // The mentor's rights change (a new membership): the server ends their socket; the page
    // connects again by itself, reads what it missed meanwhile, and keeps following.
    app.add_role(
        ch.user_id("science.mentor"),
        uuid::Uuid::parse_str(&ch.org("arts")).unwrap(),
        entity::membership::Role::Member,
    )
    .await;
    app.published_inquiry(&ch, "While away", &["science"]).await;
    mentor
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(
            "main[data-live-connections='2'][data-live-ready=live]",
        ))
        .await
        .expect("the page connected again");
    wait_for_text(&mentor, "[data-live=waiting]", "While away").await;
    app.published_inquiry(&ch, "After the break", &["science"])
        .await;
    wait_for_text(&mentor, "[data-live=waiting]", "After the break").await;

    // A question's page follows too: the asker sees it forwarded.
    let staff = browser(&driver, "fi").await;
    sign_in_as(&app, &staff, "science.staff").await;
    let asked = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Live question\", body: \"b\" }) { id } }",
            json!({ "c": ch.org("science") }),
            ch.token("science.staff"),
        )
        .await;
    let question = asked["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_text(&mentor, "[data-live=triage]", "Live question").await;
    staff
        .goto(&app.url(&format!("/questions/{question}")))
        .await
        .unwrap();
    staff
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main[data-live-ready=live]"))
        .await
        .unwrap();
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation($q: ID!, $u: ID!) { forwardQuestion(input: { questionId: $q, serviceUnitId: $u }) { id } }",
            json!({ "q": question, "u": ch.org("it-services") }),
            ch.token("science.mentor"),
        )
        .await,
    );
    wait_for_text(&staff, "[data-live=question]", "Välitetty").await;
    let still: Value = mentor
        .execute("return window.notReloaded === true;", Vec::new())
        .await
        .unwrap();
    assert_eq!(still, json!(true));
    check_page(&mentor, "my work, updated live").await;

    for client in [mentor, staff] {
        client.close().await.unwrap();
    }
}

/// An admin works in the admin pages in a real browser: every page passes axe-core and
/// reflows at 320 px; deactivating someone from the people page shows the notice, and the
/// audit log lists the action with the record before and after.
#[tokio::test]
async fn an_admin_works_in_the_admin_pages_in_a_real_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app: TestApp = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }",
            json!({}),
            ch.token("admin"),
        )
        .await,
    );
    for lang in ["fi", "sv", "en"] {
        let client = browser(&driver, lang).await;
        sign_in_as(&app, &client, "admin").await;
        client
            .goto(&app.url(&format!("/admin?lang={lang}")))
            .await
            .unwrap();
        assert_eq!(html_lang(&client).await, lang);
        check_page(&client, &format!("admin hub ({lang})")).await;
        for page in ["people", "organizations", "outbox", "audit"] {
            click_through(&client, Locator::Css(&format!("a[href='/admin/{page}']"))).await;
            check_page(&client, &format!("admin {page} ({lang})")).await;
        }
        client.close().await.unwrap();
    }

    let client = browser(&driver, "en").await;
    sign_in_as(&app, &client, "admin").await;
    client.goto(&app.url("/admin/people")).await.unwrap();
    fill(&client, "search", "arts.staff").await;
    click_through(&client, Locator::Css("form[role=search] button")).await;
    let id = ch.user_id("arts.staff");
    click_through(
        &client,
        Locator::Css(&format!(
            "form[action='/admin/people/{id}/deactivate'] button"
        )),
    )
    .await;
    assert!(text_of(&client, "p.notice").await.starts_with("Tehty."));
    check_page(&client, "admin people after a change").await;
    client
        .goto(&app.url("/admin/audit?action=deactivateUser"))
        .await
        .unwrap();
    assert_eq!(text_of(&client, "ol.cards h2").await, "deactivateUser");
    client
        .find(Locator::Css("ol.cards details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        text_of(&client, "ol.cards pre")
            .await
            .contains("arts.staff@uni.test")
    );
    check_page(&client, "admin audit with an entry open").await;
    client.close().await.unwrap();
}

/// Clicks on a page of the identity provider and waits for the next page to load (the
/// provider's pages have no footer to wait for).
async fn click_at_provider(client: &Client, locator: Locator<'_>) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    client.find(locator).await.unwrap().click().await.unwrap();
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body"))
        .await
        .unwrap();
}

/// Signs in at the provider's login and consent pages as `login`.
async fn sign_in_at_provider(client: &Client, issuer: &str, login: &str) {
    let at = client.current_url().await.unwrap();
    assert!(at.as_str().starts_with(issuer), "not at the provider: {at}");
    client
        .find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("any")
        .await
        .unwrap();
    click_at_provider(client, Locator::Css("button[type=submit]")).await;
    // The consent page: the service asks for the person's address and profile.
    let consent = client.source().await.unwrap();
    assert!(
        consent.contains("email") && consent.contains("profile"),
        "{consent}"
    );
    click_at_provider(client, Locator::Css("button[type=submit]")).await;
}

/// Single sign-on in a real browser against the local OpenID provider: the sign-in page's
/// button leads to the provider, its login and consent pages lead back with a session (the
/// person known by email gets their own account), signing out ends the session here and at the
/// provider; a newcomer is made staff of their department's community; someone of no
/// community sees a clear page; the sign-in page passes axe-core.
#[tokio::test]
async fn people_sign_in_with_their_university_account_in_a_real_browser() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let (app_port, provider_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{app_port}");
    let Some(provider) = crate::sso::Provider::start(provider_port, &base, crate::sso::accounts())
    else {
        return;
    };
    let issuer = provider.issuer.clone();
    let app: TestApp = spawn_app_with(|c| {
        c.bind = format!("127.0.0.1:{app_port}").parse().unwrap();
        c.public_url = url::Url::parse(&base).unwrap();
        c.sign_in.oidc = Some(crate::sso::settings(
            &issuer,
            digimentor::config::UnknownPeople::Create,
        ));
    })
    .await;
    let ch = app.seed_channel().await;

    let client = browser(&driver, "fi").await;
    client.goto(&app.url("/sign-in?next=%2Fme")).await.unwrap();
    check_page(&client, "sign-in page with single sign-on").await;
    click_at_provider(&client, Locator::Css("a[href^='/sign-in/sso']")).await;
    sign_in_at_provider(&client, &issuer, "staff").await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/me");
    assert!(text_of(&client, ".account").await.contains("science staff"));
    check_page(&client, "my work after single sign-on").await;
    // The account now knows its subject.
    let staff = app
        .graphql(
            "query($s: String!) { users(search: $s) { nodes { id } } }",
            json!({ "s": "science.staff@" }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(
        staff["data"]["users"]["nodes"][0]["id"],
        ch.user_id("science.staff").to_string()
    );
    use sea_orm::EntityTrait;
    let bound = entity::user::Entity::find_by_id(ch.user_id("science.staff"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bound.oidc_subject.as_deref(), Some("staff"));

    // Signing out ends the session here and sends the browser to sign out at the provider,
    // which returns it to the front page.
    click_through(&client, Locator::Css("form[action='/sign-out'] button")).await;
    assert_eq!(text_of(&client, "h1").await, "Olet kirjautunut ulos");
    assert!(
        client
            .find(Locator::Css(".account a[href^='/sign-in']"))
            .await
            .is_ok()
    );
    check_page(&client, "signed out, offered the provider's sign-out").await;
    click_at_provider(&client, Locator::Css("main a.button")).await;
    let at = client.current_url().await.unwrap();
    assert!(
        at.as_str().starts_with(&issuer),
        "not at the provider's sign-out: {at}"
    );
    click_at_provider(
        &client,
        Locator::Css("button[value=yes], button[type=submit]"),
    )
    .await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/");
    assert!(
        client
            .find(Locator::Css(".account a[href^='/sign-in']"))
            .await
            .is_ok()
    );
    client.goto(&app.url("/me")).await.unwrap();
    assert!(path_of(&client.current_url().await.unwrap()).starts_with("/sign-in"));
    client.close().await.unwrap();

    // A newcomer of the Faculty of Arts is made staff there on the first sign-in.
    let client = browser(&driver, "en").await;
    client
        .goto(&app.url("/sign-in/sso?next=%2Fme"))
        .await
        .unwrap();
    sign_in_at_provider(&client, &issuer, "newcomer").await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/me");
    let members = app
        .graphql(
            "{ organization(slug: \"arts\") { members { role person { email } } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert!(
        members["data"]["organization"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["person"]["email"] == "newcomer@uni.test" && m["role"] == "MEMBER"),
        "{members}"
    );
    client.close().await.unwrap();

    // Someone of no community of the network is told so, in their language.
    let client = browser(&driver, "sv").await;
    client.goto(&app.url("/sign-in/sso")).await.unwrap();
    sign_in_at_provider(&client, &issuer, "stranger").await;
    assert_eq!(text_of(&client, "h1").await, "Du har inget konto här ännu");
    check_page(&client, "no account here").await;
    client.close().await.unwrap();

    // A callback without this browser's sign-in in progress is refused, nothing started.
    let client = browser(&driver, "en").await;
    client
        .goto(&app.url("/sign-in/sso/callback?code=forged&state=forged"))
        .await
        .unwrap();
    assert!(
        text_of(&client, "p.error")
            .await
            .contains("did not succeed")
    );
    client.close().await.unwrap();
}
