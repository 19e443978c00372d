//! The web pages over real HTTP: language, the home page's data as a visitor, the localized
//! 404 page and the headers that keep pages safe.

use reqwest::header;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{TestApp, assert_ok, spawn_app, spawn_app_with};
use crate::smtp::{Received, SmtpSink};

async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(path))
        .header(header::ACCEPT, "text/html");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_home_page_speaks_the_readers_language_and_remembers_a_choice() {
    let app = spawn_app().await;
    for (accept, lang, heading) in [
        ("fi-FI,fi;q=0.9", "fi", "Digimentoriverkosto"),
        ("sv-FI,sv;q=0.9,en;q=0.5", "sv", "Digimentornätverket"),
        ("en-GB,en;q=0.9", "en", "Digimentor network"),
        ("de-DE", "fi", "Digimentoriverkosto"),
    ] {
        let response = page(&app, "/", &[("accept-language", accept)]).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(
            headers[header::CONTENT_TYPE].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("style-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(&format!("<html lang=\"{lang}\">")),
            "{accept}: {body}"
        );
        assert!(body.contains(&format!("<h1>{heading}</h1>")), "{accept}");
        assert!(!body.contains("style="), "no inline style under the CSP");
        assert!(!body.contains("<script"), "no script");
    }

    // Choosing a language is remembered over the browser's.
    let chosen = page(&app, "/?lang=sv", &[("accept-language", "en")]).await;
    let cookie = chosen.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("lang=sv;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let again = page(
        &app,
        "/",
        &[("accept-language", "en"), ("cookie", "lang=sv")],
    )
    .await;
    assert!(again.text().await.unwrap().contains("<html lang=\"sv\">"));
}

#[tokio::test]
async fn a_visitor_sees_the_next_meeting_and_the_latest_news_and_tips() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let body = page(&app, "/", &[("accept-language", "fi")])
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("Digimentor network meeting"), "{body}");
    assert!(body.contains(" klo "), "a Finnish time: {body}");
    assert!(body.contains("Exam room opening hours extended"), "{body}");
    assert!(
        body.contains("Opiskelijoiden tiedot etäopetuksessa"),
        "the newest tip: {body}"
    );
    // One door: what the API shows a visitor, so no draft inquiry and nobody's email.
    assert!(!body.contains("Accessibility of our digital services"));
    assert!(!body.contains("@demo.digimentor.fi"));
    // In English, a tip's organization is named in English.
    let english = page(&app, "/?lang=en", &[]).await.text().await.unwrap();
    assert!(english.contains("(Open University)"), "{english}");
}

#[tokio::test]
async fn an_unknown_page_is_a_localized_404_and_the_stylesheet_is_served() {
    let app = spawn_app().await;
    let missing = page(&app, "/no/such/page", &[("accept-language", "sv")]).await;
    assert_eq!(missing.status(), 404);
    let body = missing.text().await.unwrap();
    assert!(body.contains("<html lang=\"sv\">"), "{body}");
    assert!(body.contains("Sidan hittades inte"), "{body}");
    assert!(body.contains("href=\"/\""), "a way back: {body}");

    // Not a browser: a plain 404.
    let plain = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 404);
    assert!(plain.text().await.unwrap().is_empty());

    let css = app
        .client
        .get(app.url("/static/site.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "text/css; charset=utf-8"
    );
    assert!(css.text().await.unwrap().contains(":focus-visible"));
}

/// A browser over plain HTTP: it keeps cookies, sends `Accept: text/html` and does not follow
/// redirects, so a test sees each step.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

/// A page as the browser got it.
pub(crate) struct Got {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    set_cookies: Vec<String>,
    pub(crate) body: String,
}

impl Got {
    /// The value of the first hidden `csrf` field.
    pub(crate) fn csrf(&self) -> String {
        self.field("csrf")
    }

    /// The value of the first field named `name` (`name="…" value="…"`).
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).expect("a form") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    /// The cookies the browser would send.
    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn take(&mut self, response: reqwest::Response) -> Got {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        // Pages escape `/` in what they print as `&#x2f;`; a test reads them as a browser does.
        let body = response.text().await.unwrap().replace("&#x2f;", "/");
        Got {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Got {
        let response = self
            .client
            .get(self.app.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.take(response).await
    }

    /// Posts a form from this site (as a browser does: `Origin` is this site).
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Got {
        self.post_from(path, fields, Some(&format!("http://{}", self.app.address)))
            .await
    }

    async fn post_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Got {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header())
            .form(fields);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.take(response).await
    }

    /// Follows redirects from `got` and returns the final page.
    pub(crate) async fn follow(&mut self, mut got: Got) -> Got {
        for _ in 0..5 {
            let Some(location) = got.location.clone() else {
                return got;
            };
            let path = location
                .strip_prefix(&format!("http://{}", self.app.address))
                .unwrap_or(&location)
                .to_owned();
            got = self.get(&path).await;
        }
        got
    }

    /// Signs in by password from `next`'s sign-in page and returns where it led.
    async fn sign_in(&mut self, email: &str, password: &str, next: &str) -> Got {
        let form = self
            .get(&format!("/sign-in?next={}", urlencode(next)))
            .await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("next", next),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Every `href` of a page.
fn links(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&"))
        .collect()
}

/// The first link that starts with `prefix`.
fn first_link(body: &str, prefix: &str) -> String {
    links(body)
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link to {prefix}: {body}"))
}

const DEMO_PASSWORD: &str = "digimentor-demo-2026";

#[tokio::test]
async fn a_visitor_reads_news_meetings_tips_contacts_and_communities() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut browser = Browser::new(&app);

    // The news column pages, ten posts a page, and the next page continues.
    let news = browser.get("/news?lang=fi").await;
    assert_eq!(news.status, 200);
    assert!(news.body.contains("<h1>Uutiset</h1>"), "{}", news.body);
    let posts = links(&news.body)
        .into_iter()
        .filter(|l| l.starts_with("/news/"))
        .count();
    assert_eq!(posts, 10, "{}", news.body);
    let older = first_link(&news.body, "/news?after=");
    let page_two = browser.get(&older).await;
    assert_eq!(page_two.status, 200);
    let more: Vec<String> = links(&page_two.body)
        .into_iter()
        .filter(|l| l.starts_with("/news/"))
        .collect();
    assert!(!more.is_empty(), "{}", page_two.body);
    assert!(
        more.iter().all(|l| !news.body.contains(l.as_str())),
        "page two repeats page one"
    );

    // A meeting report links its meeting, and the meeting links its report back.
    let meetings = browser.get("/meetings").await;
    assert_eq!(meetings.status, 200);
    assert!(meetings.body.contains("Tulevat tapaamiset"));
    assert!(meetings.body.contains("Menneet tapaamiset"));
    assert!(
        meetings
            .body
            .contains("href=\"webcal://digimentor.test/feeds/meetings.ics\"")
    );
    assert!(meetings.body.contains("href=\"/feeds/meetings.ics\""));
    let report = first_link(
        &meetings.body[meetings.body.find("id=\"past\"").unwrap()..],
        "/news/",
    );
    let post = browser.get(&report).await;
    assert_eq!(post.status, 200);
    let meeting_link = first_link(&post.body, "/meetings/");
    let meeting = browser.get(&meeting_link).await;
    assert_eq!(meeting.status, 200);
    assert!(meeting.body.contains("Esityslista"), "{}", meeting.body);
    assert!(meeting.body.contains(&format!("href=\"{report}\"")));
    assert!(meeting.body.contains(" klo "), "a Finnish time");

    // The tips bank: a Finnish word finds its tip, the topic filter narrows, a tip opens.
    let found = browser
        .get(&format!("/tips?q={}", urlencode("etäopetuksessa")))
        .await;
    assert_eq!(found.status, 200);
    assert!(
        found.body.contains("Opiskelijoiden tiedot etäopetuksessa"),
        "{}",
        found.body
    );
    assert!(
        found.body.contains("value=\"etäopetuksessa\""),
        "the search is kept"
    );
    let nothing = browser.get("/tips?q=zzzxqy").await;
    assert!(nothing.body.contains("Haulla ei löytynyt vinkkejä"));
    let all = browser.get("/tips").await;
    let topic_value = all.body.split("<option value=\"").nth(2).unwrap();
    let topic = topic_value.split('"').next().unwrap();
    let filtered = browser.get(&format!("/tips?topic={topic}")).await;
    let count = |body: &str| body.matches("<h3><a href=\"/tips/").count();
    assert!(
        count(&filtered.body) < count(&all.body),
        "the filter narrows"
    );
    assert!(
        filtered
            .body
            .contains(&format!("value=\"{topic}\" selected"))
    );
    let tip = browser.get(&first_link(&found.body, "/tips/")).await;
    assert_eq!(tip.status, 200);
    assert!(
        tip.body
            .contains("<h1>Opiskelijoiden tiedot etäopetuksessa</h1>")
    );

    // Contacts: every community, its mentors, and a flag with whom to ask when it has none.
    let contacts = browser.get("/contacts?lang=en").await;
    assert_eq!(contacts.status, 200);
    assert!(
        contacts
            .body
            .contains("mailto:aino.virtanen@demo.digimentor.fi")
    );
    assert!(
        contacts
            .body
            .contains("This unit has no digimentor at the moment."),
        "the demo has a community without a mentor: {}",
        contacts.body
    );
    assert!(contacts.body.contains("mailto:digimentor@digimentor.test"));

    // A community: its mentors, this year's plan and an earlier year's.
    let science = browser.get("/communities/science").await;
    assert_eq!(science.status, 200);
    assert!(
        science.body.contains("Every course has a Moodle area"),
        "{}",
        science.body
    );
    let earlier = first_link(&science.body, "/communities/science?year=");
    let last_year = browser.get(&earlier).await;
    assert_eq!(last_year.status, 200);
    assert!(!last_year.body.contains("Every course has a Moodle area"));
    assert!(last_year.body.contains("Moodle"), "{}", last_year.body);

    // Feeds are announced on every page.
    for body in [&news.body, &meetings.body, &tip.body] {
        assert!(body.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
        assert!(body.contains("<link rel=\"alternate\" type=\"text/calendar\""));
    }

    // What does not exist is a localized 404 page, never an error.
    for path in [
        "/news/not-an-id",
        "/news/00000000-0000-0000-0000-000000000000",
        "/tips/00000000-0000-0000-0000-000000000000",
        "/meetings/00000000-0000-0000-0000-000000000000",
        "/communities/no-such-unit",
        "/communities/it-services",
    ] {
        let missing = browser.get(path).await;
        assert_eq!(missing.status, 404, "{path}");
        assert!(missing.body.contains("Page not found"), "{path}");
    }
}

#[tokio::test]
async fn signing_in_by_password_sets_a_safe_session_and_returns_to_the_page_asked_for() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut browser = Browser::new(&app);

    // A visitor asking for their settings is sent to sign in, and back after.
    let asked = browser.get("/me/notifications").await;
    assert_eq!(asked.status, 303);
    assert_eq!(
        asked.location.as_deref(),
        Some("/sign-in?next=%2Fme%2Fnotifications")
    );

    // A wrong password: an error next to the form, the address kept, no session.
    let form = browser.get("/sign-in?next=%2Fme%2Fnotifications").await;
    let csrf = form.csrf();
    let wrong = browser
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("next", "/me/notifications"),
                ("email", "aino.virtanen@demo.digimentor.fi"),
                ("password", "not-the-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(
        wrong
            .body
            .contains("value=\"aino.virtanen@demo.digimentor.fi\"")
    );
    assert!(!browser.cookies.contains_key("session"));

    let signed_in = browser
        .sign_in(
            "aino.virtanen@demo.digimentor.fi",
            DEMO_PASSWORD,
            "/me/notifications",
        )
        .await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location.as_deref(), Some("/me/notifications"));
    let session = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(session.contains("Max-Age="), "it expires: {session}");
    assert!(
        !session.contains("Secure"),
        "PUBLIC_URL is http here: {session}"
    );
    let settings = browser.get("/me/notifications").await;
    assert_eq!(settings.status, 200);
    assert!(settings.body.contains("Aino Virtanen"));

    // Another site's address is never returned to.
    let mut other = Browser::new(&app);
    let outside = other
        .sign_in(
            "aino.virtanen@demo.digimentor.fi",
            DEMO_PASSWORD,
            "//evil.example/",
        )
        .await;
    assert_eq!(outside.location.as_deref(), Some("/"));

    // Signing out revokes the session: the old cookie no longer signs anyone in.
    let token = browser.cookies["session"].clone();
    let page = browser.get("/").await;
    let out = browser.post("/sign-out", &[("csrf", &page.csrf())]).await;
    assert_eq!(out.status, 303);
    assert!(!browser.cookies.contains_key("session"));
    let mut replay = Browser::new(&app);
    replay.cookies.insert("session".into(), token);
    let after = replay.get("/me/notifications").await;
    assert_eq!(after.status, 303, "a revoked session is a visitor");
    assert!(
        after.set_cookies.iter().any(|c| c.starts_with("session=;")),
        "the dead cookie is cleared"
    );
}

#[tokio::test]
async fn over_https_the_cookies_are_secure() {
    let app = spawn_app_with(|c| {
        c.public_url = url::Url::parse("https://digimentor.example.edu").unwrap();
    })
    .await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    let csrf = browser_cookie(&form, "csrf=").expect("a CSRF cookie");
    assert!(
        csrf.contains("Secure") && csrf.contains("HttpOnly"),
        "{csrf}"
    );
    assert!(csrf.contains("SameSite=Strict"), "{csrf}");
    let signed_in = browser
        .sign_in("aino.virtanen@demo.digimentor.fi", DEMO_PASSWORD, "/")
        .await;
    assert_eq!(signed_in.status, 303);
    let session = browser_cookie(&signed_in, "session=").unwrap();
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}

fn browser_cookie(got: &Got, prefix: &str) -> Option<String> {
    got.set_cookies
        .iter()
        .find(|c| c.starts_with(prefix))
        .cloned()
}

#[tokio::test]
async fn a_form_post_without_the_token_or_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut browser = Browser::new(&app);
    browser
        .sign_in("aino.virtanen@demo.digimentor.fi", DEMO_PASSWORD, "/")
        .await;
    let settings = browser.get("/me/notifications?lang=en").await;
    let csrf = settings.csrf();
    let fields = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("time_zone", "America/New_York"),
            ("digest_hour", "5"),
            ("locale", "en"),
        ]
    };
    // No token.
    let missing = browser.post("/me/notifications", &fields("")[1..]).await;
    assert_eq!(missing.status, 403);
    assert!(
        missing.body.contains("The form could not be sent"),
        "{}",
        missing.body
    );
    // A wrong token.
    let wrong = browser
        .post(
            "/me/notifications",
            &fields("forged-token-forged-token-forged"),
        )
        .await;
    assert_eq!(wrong.status, 403);
    // The right token, but posted from another site.
    let leaked: &'static str = Box::leak(csrf.clone().into_boxed_str());
    let cross = browser
        .post_from(
            "/me/notifications",
            &fields(leaked),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross.status, 403);
    // Signing out from another site is refused too (the session stays).
    let out = browser
        .post_from(
            "/sign-out",
            &[("csrf", leaked)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(out.status, 403);
    assert!(browser.cookies.contains_key("session"));
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("aino.virtanen@demo.digimentor.fi"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.time_zone, "Europe/Helsinki", "nothing was saved");
    // The same post from this site, with the token, is saved.
    let saved = browser.post("/me/notifications", &fields(leaked)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
}

#[tokio::test]
async fn my_notifications_set_topic_frequencies_digests_zone_and_language_in_one_change() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut browser = Browser::new(&app);
    browser
        .sign_in("mikko.korhonen@demo.digimentor.fi", DEMO_PASSWORD, "/")
        .await;
    let settings = browser.get("/me/notifications").await;
    assert_eq!(settings.status, 200);
    let csrf = settings.csrf();
    let topics: Vec<String> = settings
        .body
        .split("name=\"topic-")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    assert!(topics.len() >= 3, "{}", settings.body);

    // A bad time zone: an error next to the field, nothing saved.
    let first = format!("topic-{}", topics[0]);
    let bad = browser
        .post(
            "/me/notifications",
            &[
                ("csrf", &csrf),
                (&first, "IMMEDIATE"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\""), "{}", bad.body);
    let subscriptions = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            entity::topic_subscription::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .len()
        }
    };
    let before = subscriptions(&app).await;
    // An empty name: an error beside it, nothing saved, the name as it was.
    let nameless = browser
        .post(
            "/me/notifications",
            &[
                ("csrf", &csrf),
                (&first, "IMMEDIATE"),
                ("display_name", "  "),
            ],
        )
        .await;
    assert_eq!(nameless.status, 422, "{}", nameless.body);
    assert!(
        nameless
            .body
            .contains("Kirjoita nimesi yhdelle riville (enintään 200 merkkiä)."),
        "{}",
        nameless.body
    );
    assert!(nameless.body.contains("value=\"Mikko Korhonen\""));
    assert_eq!(subscriptions(&app).await, before);

    // Three topics at three frequencies, digests at 6 on Fridays, Stockholm, in Swedish, and
    // a name as he likes it.
    let second = format!("topic-{}", topics[1]);
    let third = format!("topic-{}", topics[2]);
    let saved = browser
        .post(
            "/me/notifications",
            &[
                ("csrf", &csrf),
                (&first, "IMMEDIATE"),
                (&second, "DAILY"),
                (&third, "WEEKLY"),
                ("digest_hour", "6"),
                ("digest_weekday", "4"),
                ("time_zone", "Europe/Stockholm"),
                ("locale", "sv"),
                ("display_name", " Mikko K. Korhonen "),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(subscriptions(&app).await, before + 3);
    let shown = browser.follow(saved).await;
    assert!(
        shown.body.contains("<html lang=\"sv\">"),
        "the pages switch language"
    );
    assert!(shown.body.contains("Inställningarna har sparats."));
    assert!(
        shown.body.contains("value=\"Mikko K. Korhonen\""),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("<option value=\"DAILY\" selected>"));
    assert!(shown.body.contains("<option value=\"WEEKLY\" selected>"));
    assert!(
        shown
            .body
            .contains("<option selected>Europe/Stockholm</option>")
    );
    assert!(
        shown
            .body
            .contains("<option value=\"4\" selected>fredag</option>")
    );
    let home = browser.get("/").await;
    assert!(home.body.contains("<html lang=\"sv\">"));

    // Off stops following a topic.
    let off = browser
        .post("/me/notifications", &[("csrf", &csrf), (&second, "OFF")])
        .await;
    assert_eq!(off.status, 303);
    assert_eq!(subscriptions(&app).await, before + 2);
}

#[tokio::test]
async fn inquiry_and_question_pages_show_only_what_their_reader_may_read() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let inquiry = entity::inquiry::Entity::find()
        .filter(entity::inquiry::Column::Status.eq(entity::inquiry::InquiryStatus::Open))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/inquiries/{}", inquiry.id);

    // A visitor signs in first and comes back.
    let mut visitor = Browser::new(&app);
    let asked = visitor.get(&path).await;
    assert_eq!(asked.status, 303);
    assert_eq!(
        asked.location.unwrap(),
        format!("/sign-in?next={}", urlencode(&path))
    );

    // A mentor of an addressed community reads it.
    let target = entity::inquiry_target::Entity::find()
        .filter(entity::inquiry_target::Column::InquiryId.eq(inquiry.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mentor = a_mentor_of(&app, target.community_id).await;
    let mut reader = Browser::new(&app);
    let landed = reader.sign_in(&mentor.email, DEMO_PASSWORD, &path).await;
    assert_eq!(landed.location.as_deref(), Some(path.as_str()));
    let page = reader.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<h1>{}</h1>", escape(&inquiry.title)))
    );

    // A contact of an unrelated service unit may not: "not available", not the content.
    let mut outsider = Browser::new(&app);
    outsider
        .sign_in("sanna.peltonen@demo.digimentor.fi", DEMO_PASSWORD, "/")
        .await;
    let refused = outsider.get(&path).await;
    assert_eq!(refused.status, 404);
    assert!(!refused.body.contains(&escape(&inquiry.title)));

    // A question: its asker reads it; a visitor is sent to sign in.
    let question = entity::question::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let asker = entity::user::Entity::find_by_id(question.asker_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let qpath = format!("/questions/{}", question.id);
    assert_eq!(Browser::new(&app).get(&qpath).await.status, 303);
    let mut own = Browser::new(&app);
    own.sign_in(&asker.email, DEMO_PASSWORD, "/").await;
    let mine = own.get(&qpath).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains(&escape(&question.title)));
}

/// One of a community's digimentors.
async fn a_mentor_of(app: &TestApp, community: uuid::Uuid) -> entity::user::Model {
    entity::membership::Entity::find()
        .filter(entity::membership::Column::OrganizationId.eq(community))
        .filter(entity::membership::Column::Role.eq(entity::membership::Role::Mentor))
        .find_also_related(entity::user::Entity)
        .one(&app.state.db)
        .await
        .unwrap()
        .and_then(|(_, user)| user)
        .expect("the community has a mentor")
}

fn escape(text: &str) -> String {
    minijinja::HtmlEscape(text).to_string()
}

async fn app_with_sink(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await
}

/// The links to this service in a received email's text part, as paths.
fn email_links(message: &Received) -> Vec<String> {
    let parsed = message.parsed();
    let text = parsed.body_text(0).unwrap().to_string();
    text.split("http://digimentor.test")
        .skip(1)
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == ')' || c == '>' || c == '"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Asks for a sign-in link from the sign-in page and returns where the browser was sent.
pub(crate) async fn ask_for_link(browser: &mut Browser<'_>, email: &str, next: &str) -> Got {
    let form = browser
        .get(&format!("/sign-in?next={}", urlencode(next)))
        .await;
    let csrf = form.csrf();
    browser
        .post(
            "/sign-in/link",
            &[("csrf", &csrf), ("next", next), ("email", email)],
        )
        .await
}

#[tokio::test]
async fn a_sign_in_link_from_the_smtp_server_signs_in_once_and_lands_on_the_page_asked_for() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    app.drain_mail().await;
    let before = sink.messages().len();
    let staff = "juha.kinnunen@demo.digimentor.fi";

    let mut browser = Browser::new(&app);
    let asked = browser.get("/me/notifications").await;
    assert_eq!(asked.status, 303);
    let sent = ask_for_link(&mut browser, staff, "/me/notifications").await;
    assert_eq!(sent.status, 303);
    let told = browser.follow(sent).await;
    assert!(
        told.body
            .contains("Jos osoitteella on tunnus, lähetimme siihen kirjautumislinkin."),
        "{}",
        told.body
    );
    // An unknown address gets the very same answer, and no email.
    let mut stranger = Browser::new(&app);
    let unknown = ask_for_link(
        &mut stranger,
        "nobody@demo.digimentor.fi",
        "/me/notifications",
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.location.clone()),
        (
            303,
            Some("/sign-in?sent=1&next=%2Fme%2Fnotifications".to_owned())
        )
    );

    app.drain_mail().await;
    let messages = sink.messages();
    assert_eq!(
        messages.len(),
        before + 1,
        "one email, to the known address only"
    );
    let email = messages.last().unwrap();
    assert_eq!(email.to, vec![format!("<{staff}>")]);
    let parsed = email.parsed();
    assert_eq!(parsed.subject(), Some("[Digimentor] Kirjautumislinkkisi"));
    let link = email_links(email)
        .into_iter()
        .find(|l| l.starts_with("/sign-in/link/"))
        .expect("a sign-in link");
    assert!(
        email_links(email).contains(&"/me/notifications".to_owned()),
        "the footer links to the notification settings"
    );
    // Only a hash of the token is stored.
    let token = link.trim_start_matches("/sign-in/link/");
    let row = entity::sign_in_link::Entity::find()
        .order_by_desc(entity::sign_in_link::Column::CreatedAt)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.token_hash, token);
    assert!(!row.token_hash.contains(token));
    assert_eq!(
        (row.expires_at - row.created_at).num_minutes(),
        15,
        "it expires in 15 minutes"
    );

    // Following the link does not use it (mail scanners follow links); the button does.
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, 200);
    let confirm = browser.get(&link).await;
    let used = browser.post(&link, &[("csrf", &confirm.csrf())]).await;
    assert_eq!(used.status, 303, "{}", used.body);
    assert_eq!(used.location.as_deref(), Some("/me/notifications"));
    let landed = browser.follow(used).await;
    assert_eq!(landed.status, 200);
    assert!(landed.body.contains(staff), "{}", landed.body);

    // Once only.
    let mut again = Browser::new(&app);
    let form = again.get(&link).await;
    let reused = again.post(&link, &[("csrf", &form.csrf())]).await;
    assert_eq!(reused.status, 410);
    assert!(
        reused.body.contains("Linkki ei ole enää voimassa"),
        "{}",
        reused.body
    );
    assert!(!again.cookies.contains_key("session"));

    // An expired link is refused the same way.
    ask_for_link(&mut stranger, staff, "/").await;
    app.drain_mail().await;
    let late = email_links(sink.messages().last().unwrap())
        .into_iter()
        .find(|l| l.starts_with("/sign-in/link/"))
        .unwrap();
    entity::sign_in_link::Entity::update_many()
        .col_expr(
            entity::sign_in_link::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    let form = stranger.get(&late).await;
    let expired = stranger.post(&late, &[("csrf", &form.csrf())]).await;
    assert_eq!(expired.status, 410);

    // Link requests count like failed logins: the same address is soon refused, known or
    // not, with the same answer.
    for address in [staff, "nobody@demo.digimentor.fi"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(ask_for_link(&mut stranger, address, "/").await.status);
        }
        assert_eq!(statuses.last(), Some(&429), "{address}: {statuses:?}");
    }
}

/// An admin creates an account without a password: its owner is emailed a link (once, for 7
/// days) that opens a form to choose a password and signs in; the link is refused as a sign-in
/// link, a too short password keeps it usable, and a used or expired one is refused.
#[tokio::test]
async fn a_new_account_chooses_its_password_by_the_link_in_its_welcome_email() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    app.drain_mail().await;
    let before = sink.messages().len();
    let admin = app.login("admin@demo.digimentor.fi", DEMO_PASSWORD).await;
    let newcomer = "uusi.ihminen@demo.digimentor.fi";
    let created = app
        .graphql(
            "mutation($e: String!) { createUser(input: { email: $e, displayName: \"Uusi Ihminen\" }) { passwordLinkSent user { email } } }",
            json!({ "e": newcomer }),
            Some(&admin),
        )
        .await;
    assert_ok(&created);
    assert_eq!(created["data"]["createUser"]["passwordLinkSent"], true);
    // Nobody knows a password of the new account, so none signs in.
    let guessed = app
        .graphql(
            "mutation($e: String!) { login(email: $e, password: \"\") { token } }",
            json!({ "e": newcomer }),
            None,
        )
        .await;
    assert_eq!(
        guessed["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    app.drain_mail().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), before + 1, "one welcome email");
    let welcome = messages.last().unwrap();
    assert_eq!(welcome.to, vec![format!("<{newcomer}>")]);
    let parsed = welcome.parsed();
    assert_eq!(
        parsed.subject(),
        Some("[Digimentor] Tervetuloa – tunnuksesi on valmis")
    );
    let text = parsed.body_text(0).unwrap().to_string();
    assert!(text.contains(newcomer), "it says how to sign in: {text}");
    assert!(
        text.contains("Saat tämän viestin, koska sinulle luotiin Digimentor-tunnus"),
        "the footer says why: {text}"
    );
    let link = email_links(welcome)
        .into_iter()
        .find(|l| l.starts_with("/set-password/"))
        .expect("a link to set the password");
    let token = link.trim_start_matches("/set-password/").to_owned();
    let row = entity::sign_in_link::Entity::find()
        .filter(
            entity::sign_in_link::Column::TokenHash.eq(digimentor::auth::token::hash_token(&token)),
        )
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("only the token's hash is stored");
    assert_eq!(row.purpose, "set_password");
    assert_eq!((row.expires_at - row.created_at).num_days(), 7);

    // Not a sign-in link: refused as one, and still usable for what it is.
    let mut browser = Browser::new(&app);
    let as_sign_in = browser.get(&format!("/sign-in/link/{token}")).await;
    let refused = browser
        .post(
            &format!("/sign-in/link/{token}"),
            &[("csrf", &as_sign_in.csrf())],
        )
        .await;
    assert_eq!(refused.status, 410);
    assert!(!browser.cookies.contains_key("session"));

    // Opening the link uses nothing (mail scanners follow links); a short password is refused
    // beside the field and the link keeps working.
    let form = browser.get(&link).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("autocomplete=\"new-password\""),
        "{}",
        form.body
    );
    let form = browser.get(&link).await;
    let short = browser
        .post(&link, &[("csrf", &form.csrf()), ("password", "lyhyt")])
        .await;
    assert_eq!(short.status, 422);
    assert!(
        short
            .body
            .contains("Salasanassa pitää olla 12–256 merkkiä."),
        "{}",
        short.body
    );
    assert!(short.body.contains("aria-invalid=\"true\""));
    let chosen = "oma pitkä salasana 2026";
    let set = browser
        .post(&link, &[("csrf", &short.csrf()), ("password", chosen)])
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(set.location.as_deref(), Some("/me/notifications?welcome=1"));
    assert!(browser.cookies.contains_key("session"));
    let landed = browser.follow(set).await;
    assert_eq!(landed.status, 200);
    assert!(
        landed
            .body
            .contains("Salasanasi on tallennettu ja olet kirjautunut sisään."),
        "{}",
        landed.body
    );
    assert!(landed.body.contains(newcomer));
    app.login(newcomer, chosen).await;

    // Once only.
    let mut again = Browser::new(&app);
    let form = again.get(&link).await;
    let reused = again
        .post(
            &link,
            &[
                ("csrf", &form.csrf()),
                ("password", "toinen pitkä salasana"),
            ],
        )
        .await;
    assert_eq!(reused.status, 410);
    assert!(reused.body.contains("Linkki ei ole enää voimassa"));
    assert!(!again.cookies.contains_key("session"));
    app.login(newcomer, chosen).await;

    // The owner is told their password was set (a security notice), and nothing else.
    app.drain_mail().await;
    let theirs: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| m.to == vec![format!("<{newcomer}>")])
        .map(|m| m.parsed().subject().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        theirs,
        [
            "[Digimentor] Tervetuloa – tunnuksesi on valmis",
            "Salasanasi vaihdettiin – Digimentor"
        ]
    );

    // An expired link is refused; an account created with a password gets no link.
    let late = app
        .graphql(
            "mutation { createUser(input: { email: \"late@demo.digimentor.fi\", displayName: \"Late\" }) { passwordLinkSent } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_ok(&late);
    let given = app
        .graphql(
            "mutation { createUser(input: { email: \"given@demo.digimentor.fi\", displayName: \"Given\", password: \"a password given by the admin\" }) { passwordLinkSent } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(given["data"]["createUser"]["passwordLinkSent"], false);
    app.drain_mail().await;
    let late_link = email_links(
        sink.messages()
            .iter()
            .find(|m| m.to == vec!["<late@demo.digimentor.fi>".to_owned()])
            .unwrap(),
    )
    .into_iter()
    .find(|l| l.starts_with("/set-password/"))
    .unwrap();
    assert!(
        !sink
            .messages()
            .iter()
            .any(|m| m.to == vec!["<given@demo.digimentor.fi>".to_owned()]),
        "a given password needs no link"
    );
    entity::sign_in_link::Entity::update_many()
        .col_expr(
            entity::sign_in_link::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    let mut late_browser = Browser::new(&app);
    let form = late_browser.get(&late_link).await;
    let expired = late_browser
        .post(&late_link, &[("csrf", &form.csrf()), ("password", chosen)])
        .await;
    assert_eq!(expired.status, 410);
    let by_api = app
        .graphql(
            "mutation($t: String!) { setPasswordWithLink(token: $t, newPassword: \"long enough password\") { token } }",
            json!({ "t": late_link.trim_start_matches("/set-password/") }),
            None,
        )
        .await;
    assert_eq!(by_api["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let short = app
        .graphql(
            "mutation { setPasswordWithLink(token: \"dmt_whatever\", newPassword: \"short\") { token } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(short["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword");
}

/// Every email kind the service sends, collected from the SMTP test server: every link to the
/// service answers with a page or the sign-in redirect, never 404, and the recipient reads
/// what their email links to.
#[tokio::test]
async fn every_link_in_every_email_kind_answers_with_a_page() {
    let sink = SmtpSink::start().await;
    let app = crate::replies::app_taking_replies(&sink).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();

    // Topic emails and digests: a staff member follows topics at once and daily; a post and
    // a tip on those topics are published.
    let subscriber = "juha.kinnunen@demo.digimentor.fi";
    let token = app.login(subscriber, DEMO_PASSWORD).await;
    let topics = app.graphql("{ topics { id } }", json!({}), None).await;
    let topic_ids: Vec<String> = topics["data"]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    for (topic, frequency) in [(&topic_ids[0], "IMMEDIATE"), (&topic_ids[1], "DAILY")] {
        assert_ok(
            &app.graphql(
                "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
                json!({ "t": topic, "f": frequency }),
                Some(&token),
            )
            .await,
        );
    }
    // The digest hour twelve hours from now: the item published below lands in a window that a
    // run a day later finds due, whatever the time of day the test runs (with the default 07:00,
    // an item published at 06:59:59 Helsinki time fell in the window before the one due).
    use chrono::Timelike;
    let hour = (chrono::Utc::now().hour() + 12) % 24;
    assert_ok(
        &app.graphql(
            "mutation($h: Int!) { updateNotificationSettings(input: { digestHour: $h, timeZone: \"UTC\" }) { digestHour } }",
            json!({ "h": hour }),
            Some(&token),
        )
        .await,
    );
    let admin = app.login("admin@demo.digimentor.fi", DEMO_PASSWORD).await;
    assert_ok(
        &app.graphql(
            "mutation($t: [ID!]!) { publishNews(input: { title: \"Links\", body: \"b\", topicIds: $t }) { id } }",
            json!({ "t": [&topic_ids[0], &topic_ids[1]] }),
            Some(&admin),
        )
        .await,
    );
    // A follow-up message in an answered slot's thread, from the inquiry's author.
    let target = entity::inquiry_target::Entity::find()
        .filter(
            entity::inquiry_target::Column::Status
                .eq(entity::inquiry_target::TargetStatus::Answered),
        )
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let inquiry = entity::inquiry::Entity::find_by_id(target.inquiry_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let author = entity::user::Entity::find_by_id(inquiry.author_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let author_token = app.login(&author.email, DEMO_PASSWORD).await;
    assert_ok(
        &app.graphql(
            "mutation($t: ID!) { postInquiryMessage(input: { targetId: $t, body: \"Thanks, one more thing\" }) { id } }",
            json!({ "t": target.id }),
            Some(&author_token),
        )
        .await,
    );
    // A question closed by a mentor of its community.
    let open_question = entity::question::Entity::find()
        .filter(entity::question::Column::Status.ne(entity::question::QuestionStatus::Closed))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let closer = a_mentor_of(&app, open_question.community_id).await;
    let closer_token = app.login(&closer.email, DEMO_PASSWORD).await;
    assert_ok(
        &app.graphql(
            "mutation($q: ID!) { closeQuestion(input: { questionId: $q, reason: \"Answered in the tips bank\" }) { status } }",
            json!({ "q": open_question.id }),
            Some(&closer_token),
        )
        .await,
    );
    app.drain_mail().await;
    app.run_digests(chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    // Deadline reminders.
    digimentor::scheduler::queue_reminders(
        &app.state.changes,
        chrono::Utc::now() + chrono::Duration::days(9),
        chrono::Duration::days(3),
    )
    .await
    .unwrap();
    // An open inquiry that a community has not answered yet, closed by its author.
    let pending = entity::inquiry_target::Entity::find()
        .filter(
            entity::inquiry_target::Column::Status
                .eq(entity::inquiry_target::TargetStatus::Pending),
        )
        .all(&app.state.db)
        .await
        .unwrap();
    let mut closed_one = false;
    for slot in pending {
        let open = entity::inquiry::Entity::find_by_id(slot.inquiry_id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        if open.status != entity::inquiry::InquiryStatus::Open {
            continue;
        }
        let author = entity::user::Entity::find_by_id(open.author_id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        let token = app.login(&author.email, DEMO_PASSWORD).await;
        assert_ok(
            &app.graphql(
                "mutation($id: ID!) { closeInquiry(id: $id) { status } }",
                json!({ "id": open.id }),
                Some(&token),
            )
            .await,
        );
        closed_one = true;
        break;
    }
    assert!(
        closed_one,
        "the demo has an open inquiry with a pending community"
    );
    // A password changed (and changed back, so the person can still sign in below).
    for (old, new) in [
        (DEMO_PASSWORD, "a-new-long-password-9"),
        ("a-new-long-password-9", DEMO_PASSWORD),
    ] {
        assert_ok(
            &app.graphql(
                "mutation($o: String!, $n: String!) { changePassword(currentPassword: $o, newPassword: $n) { token } }",
                json!({ "o": old, "n": new }),
                Some(&app.login(&closer.email, old).await),
            )
            .await,
        );
    }
    // A meeting cancelled.
    let upcoming = app
        .graphql(
            "{ meetings(when: UPCOMING, first: 1) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { cancelMeeting(id: $id, reason: \"Illness\") { id } }",
            json!({ "id": upcoming["data"]["meetings"][0]["id"] }),
            Some(&admin),
        )
        .await,
    );
    // A sign-in link, a forgotten password's link, and a new account's welcome.
    let mut visitor = Browser::new(&app);
    ask_for_link(&mut visitor, subscriber, "/").await;
    assert_ok(
        &app.graphql(
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({ "e": subscriber }),
            None,
        )
        .await,
    );
    assert_ok(
        &app.graphql(
            "mutation { createUser(input: { email: \"tervetullut@demo.digimentor.fi\", displayName: \"Tervetullut\" }) { passwordLinkSent } }",
            json!({}),
            Some(&admin),
        )
        .await,
    );
    app.drain_mail().await;
    // Replies by email: a mentor's is recorded; the inquiry's author replying with that
    // mentor's address is refused and told why.
    let invitation = entity::delivery::Entity::find()
        .filter(entity::delivery::Column::Kind.eq("inquiry_published"))
        .filter(entity::delivery::Column::Status.eq(entity::delivery::DeliveryStatus::Sent))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let sent = sink.messages();
    let email = sent
        .iter()
        .find(|m| {
            m.parsed().message_id().map(|id| format!("<{id}>"))
                == Some(invitation.message_id.clone())
        })
        .unwrap();
    let address = crate::replies::reply_address(email);
    let title = crate::replies::subject(email);
    let mentor = invitation.recipient_email.clone();
    let raw = crate::replies::fixture("apple_en.eml", &mentor, &address, &title);
    crate::replies::send(&app, &mentor, &address, &raw)
        .await
        .unwrap();
    let asker = entity::inquiry::Entity::find_by_id(invitation.thread_id.unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let asker = entity::user::Entity::find_by_id(asker.author_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .email;
    let raw = crate::replies::fixture("apple_en.eml", &asker, &address, &title);
    crate::replies::send(&app, &asker, &address, &raw)
        .await
        .unwrap();
    app.drain_mail().await;

    let kinds: std::collections::BTreeSet<String> = entity::delivery::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    let every: std::collections::BTreeSet<String> = digimentor::notify::Template::ALL
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    assert_eq!(kinds, every, "the test saw every email kind");

    let mut checked = std::collections::BTreeSet::new();
    let mut readers: std::collections::HashMap<String, Browser> = Default::default();
    for message in sink.messages() {
        let recipient = message.to[0].trim_matches(['<', '>']).to_owned();
        for link in email_links(&message) {
            if !checked.insert((recipient.clone(), link.clone())) {
                continue;
            }
            let as_visitor = Browser::new(&app).get(&link).await;
            if link.starts_with("/unsubscribe/") {
                assert!(
                    as_visitor.body.contains("href=\"/me/notifications\""),
                    "the unsubscribe page links to the settings: {}",
                    as_visitor.body
                );
            }
            match as_visitor.status {
                200 => {}
                303 => assert!(
                    as_visitor
                        .location
                        .as_deref()
                        .unwrap()
                        .starts_with("/sign-in?next="),
                    "{link}"
                ),
                other => panic!("{link} answered {other} to a visitor"),
            }
            if link.starts_with("/inquiries/") || link.starts_with("/questions/") {
                if !readers.contains_key(&recipient) {
                    let mut reader = Browser::new(&app);
                    let signed = reader.sign_in(&recipient, DEMO_PASSWORD, "/").await;
                    assert_eq!(signed.status, 303, "{recipient}");
                    readers.insert(recipient.clone(), reader);
                }
                let reader = readers.get_mut(&recipient).unwrap();
                let page = reader.get(&link).await;
                assert_eq!(
                    page.status, 200,
                    "{recipient} reading {link}: {}",
                    page.body
                );
            }
        }
    }
    let distinct: std::collections::BTreeSet<&String> = checked.iter().map(|(_, l)| l).collect();
    let prefixes: std::collections::BTreeSet<&str> = distinct
        .iter()
        .map(|l| l.split('/').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        prefixes,
        std::collections::BTreeSet::from([
            "",
            "agenda",
            "announcements",
            "inquiries",
            "me",
            "meetings",
            "news",
            "projects",
            "questions",
            "set-password",
            "sign-in",
            "tips",
            "trainings",
            "unsubscribe",
        ]),
        "{distinct:?}"
    );
}

/// Generated input, as an attacker or a careless paste sends it: any text (control characters,
/// every script, long), in every query parameter, path segment and form field of the pages.
/// Each answer is a page or a redirect, never a server error.
#[tokio::test]
async fn any_input_to_the_pages_gets_a_page_never_a_server_error() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let text = proptest::prop_oneof![
        proptest::string::string_regex("\\PC{0,40}").unwrap(),
        proptest::string::string_regex("[\\x00-\\x1f\\x7f/%?#&=.<>\"']{0,20}").unwrap(),
        proptest::string::string_regex("(x){0,3}\\PC{0,3}")
            .unwrap()
            .prop_map(|s| s.repeat(700)),
    ];
    let mut browser = Browser::new(&app);
    browser
        .sign_in("mikko.korhonen@demo.digimentor.fi", DEMO_PASSWORD, "/")
        .await;
    let settings = browser.get("/me/notifications").await;
    let csrf = settings.csrf();
    let mut visitor = Browser::new(&app);
    let visitor_csrf = visitor.get("/sign-in").await.csrf();
    // 413: a form body over the pages' limit (64 KiB).
    let acceptable = [200, 303, 400, 401, 403, 404, 410, 413, 422, 429];
    for case in 0..48 {
        let value = text.new_tree(&mut runner).unwrap().current();
        let v = urlencode(&value);
        for path in [
            format!("/tips?q={v}"),
            format!("/tips?topic={v}&after={v}"),
            format!("/news?after={v}"),
            format!("/news/{v}"),
            format!("/meetings/{v}"),
            format!("/tips/{v}"),
            format!("/communities/{v}"),
            format!("/communities/science?year={v}"),
            format!("/?lang={v}"),
            format!("/sign-in?next={v}"),
            format!("/sign-in/link/{v}"),
            format!("/inquiries/{v}"),
            format!("/questions/{v}"),
        ] {
            let got = browser.get(&path).await;
            assert!(
                acceptable.contains(&got.status),
                "{case} GET {path:?}: {}",
                got.status
            );
        }
        let topic = format!("topic-{value}");
        let posts: [(&str, Vec<(&str, &str)>); 3] = [
            (
                "/me/notifications",
                vec![
                    ("csrf", &csrf),
                    (&topic, &value),
                    ("digest_hour", &value),
                    ("digest_weekday", &value),
                    ("time_zone", &value),
                    ("locale", &value),
                ],
            ),
            (
                "/sign-in",
                vec![
                    ("csrf", &visitor_csrf),
                    ("email", &value),
                    ("password", &value),
                    ("next", &value),
                ],
            ),
            (
                "/sign-in/link",
                vec![("csrf", &visitor_csrf), ("email", &value), ("next", &value)],
            ),
        ];
        for (path, fields) in posts {
            let client = if path == "/me/notifications" {
                &mut browser
            } else {
                &mut visitor
            };
            let got = client.post(path, &fields).await;
            assert!(
                acceptable.contains(&got.status),
                "{case} POST {path} {value:?}: {} {}",
                got.status,
                got.body
            );
        }
    }
    // The settings page still works, and nothing but valid settings was saved.
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("mikko.korhonen@demo.digimentor.fi"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!((0..24).contains(&user.digest_hour));
    assert!(
        user.time_zone.parse::<chrono_tz::Tz>().is_ok(),
        "{}",
        user.time_zone
    );
    assert_eq!(browser.get("/me/notifications").await.status, 200);
}

/// A Browser signed in as one of the channel's people.
pub(crate) async fn signed_in<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let signed = browser
        .sign_in(&format!("{name}@uni.test"), crate::helpers::PASSWORD, "/me")
        .await;
    assert_eq!(signed.status, 303, "{name}: {}", signed.body);
    browser
}

/// A mentor answers for their community from the inquiry page: "My work" lists the slot, a
/// preview saves nothing, an empty answer is refused beside the field with nothing lost, a
/// saved answer comes back with a confirmation (and the same form sent twice saves once), a
/// co-mentor's stale edit shows the newer answer, who and when, and can be saved over it
/// knowingly; earlier versions are listed; another community's mentor, a visitor and a forged
/// post are refused as the API would; the inquirer and the unit talk in the follow-up thread.
#[tokio::test]
async fn a_mentor_answers_for_the_community_from_the_inquiry_page() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (inquiry, slots) = app
        .published_inquiry(&ch, "Moodle exam practices", &["science", "arts"])
        .await;
    let page_path = format!("/inquiries/{inquiry}");
    let science = slots["science"].clone();
    let arts = slots["arts"].clone();

    let mut mentor = signed_in(&app, "science.mentor").await;
    let work = mentor.get("/me").await;
    assert_eq!(work.status, 200);
    assert!(
        work.body.contains(&format!("href=\"{page_path}\"")),
        "{}",
        work.body
    );
    assert!(
        work.body
            .contains("Kyselyt, jotka odottavat yksikkönne vastausta")
    );

    let page = mentor.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("action=\"{page_path}/answer\""))
    );
    assert!(page.body.contains(&format!("id=\"answer-{science}\"")));
    assert!(
        !page.body.contains(&format!("id=\"answer-{arts}\"")),
        "no form for another unit's slot"
    );
    let csrf = page.csrf();
    let post = |body: &'static str, version: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("target", science.clone()),
            ("version", version.to_owned()),
            ("body", body.to_owned()),
        ]
    };
    let fields =
        |pairs: &[(&'static str, String)]| -> Vec<(&'static str, String)> { pairs.to_vec() };
    async fn send(browser: &mut Browser<'_>, path: &str, pairs: &[(&'static str, String)]) -> Got {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser.post(path, &borrowed).await
    }
    let status_of = async |app: &TestApp| -> String {
        let body = app
            .graphql(
                "query($id: ID!) { inquiry(id: $id) { targets { id status answer version } } }",
                json!({ "id": inquiry }),
                ch.token("lead"),
            )
            .await;
        body["data"]["inquiry"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == science.as_str())
            .unwrap()
            .to_string()
    };

    // Preview: the text rendered, nothing saved.
    let mut preview = fields(&post("We use **Exam**.", "0"));
    preview.push(("preview", "1".into()));
    let shown = send(&mut mentor, &format!("{page_path}/answer"), &preview).await;
    assert_eq!(shown.status, 200);
    assert!(
        shown.body.contains("<strong>Exam</strong>"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("We use **Exam**.</textarea>"));
    assert!(status_of(&app).await.contains("PENDING"));

    // An empty answer: refused beside the field.
    let empty = send(
        &mut mentor,
        &format!("{page_path}/answer"),
        &post("   ", "0"),
    )
    .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty
            .body
            .contains("Kirjoita teksti (enintään 20 000 merkkiä).")
    );
    assert!(empty.body.contains("aria-invalid=\"true\""));

    // Saved, with a confirmation; the same form sent again saves nothing more.
    let saved = send(
        &mut mentor,
        &format!("{page_path}/answer"),
        &post("We use Exam.", "0"),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{page_path}?done=answer#target-{science}").as_str())
    );
    let again = send(
        &mut mentor,
        &format!("{page_path}/answer"),
        &post("We use Exam.", "0"),
    )
    .await;
    assert_eq!(
        again.status, 303,
        "a double press is no conflict: {}",
        again.body
    );
    assert!(status_of(&app).await.contains("\"version\":1"));
    let confirmed = mentor.follow(saved).await;
    assert!(
        confirmed
            .body
            .contains("Vastaus on tallennettu yksikkönne vastaukseksi.")
    );

    // The co-mentor edits the version they loaded before: the conflict, then a conscious save.
    let mut comentor = signed_in(&app, "science.comentor").await;
    let stale = comentor.get(&page_path).await;
    let stale_csrf = stale.csrf();
    let edit = |text: &str, version: &str| {
        vec![
            ("csrf", stale_csrf.clone()),
            ("target", science.clone()),
            ("version", version.to_owned()),
            ("body", text.to_owned()),
        ]
    };
    let conflict = send(
        &mut comentor,
        &format!("{page_path}/answer"),
        &edit("Mostly essays.", "0"),
    )
    .await;
    assert_eq!(conflict.status, 409);
    assert!(conflict.body.contains("Vastausta on muutettu sillä välin."));
    assert!(
        conflict.body.contains("science mentor"),
        "who: {}",
        conflict.body
    );
    assert!(
        conflict.body.contains("Mostly essays.</textarea>"),
        "mine kept"
    );
    assert!(conflict.body.contains("We use Exam."), "theirs shown");
    assert!(
        conflict
            .body
            .contains("Tallenna oma versiosi heidän versionsa päälle")
    );
    let overwrite = send(
        &mut comentor,
        &format!("{page_path}/answer"),
        &edit("Mostly essays.", "1"),
    )
    .await;
    assert_eq!(overwrite.status, 303, "{}", overwrite.body);
    let now = comentor.follow(overwrite).await;
    assert!(now.body.contains("Aiemmat versiot (1)"), "{}", now.body);

    // Refused as the API refuses: another unit's mentor, a visitor, a forged post.
    let mut other = signed_in(&app, "arts.mentor").await;
    let other_page = other.get(&page_path).await;
    let wrong = other
        .post(
            &format!("{page_path}/answer"),
            &[
                ("csrf", &other_page.csrf()),
                ("target", &science),
                ("version", "2"),
                ("body", "Not ours"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert!(wrong.body.contains("Sinulla ei ole tähän oikeutta"));
    let mut visitor = Browser::new(&app);
    let anonymous = visitor
        .post(&format!("{page_path}/answer"), &[("body", "x")])
        .await;
    assert_eq!(
        anonymous.location.as_deref(),
        Some(format!("/sign-in?next=%2Finquiries%2F{inquiry}").as_str())
    );
    let forged = mentor
        .post_from(
            &format!("{page_path}/answer"),
            &[
                ("csrf", "forged"),
                ("target", &science),
                ("version", "2"),
                ("body", "x"),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(status_of(&app).await.contains("Mostly essays."));

    // The arts mentor declines with a reason.
    let declined = other
        .post(
            &format!("{page_path}/decline"),
            &[
                ("csrf", &other_page.csrf()),
                ("target", &arts),
                ("version", "0"),
                ("body", "No exams this term."),
            ],
        )
        .await;
    assert_eq!(declined.status, 303, "{}", declined.body);

    // The lead writes in the science slot's thread; the mentors read it.
    let mut lead = signed_in(&app, "lead").await;
    let lead_page = lead.get(&page_path).await;
    assert!(!lead_page.body.contains(&format!("id=\"answer-{science}\"")));
    let message = lead
        .post(
            &format!("{page_path}/message"),
            &[
                ("csrf", &lead_page.csrf()),
                ("target", &science),
                ("body", "Which exam rooms do you use?"),
            ],
        )
        .await;
    assert_eq!(message.status, 303, "{}", message.body);
    let read = mentor.get(&page_path).await;
    assert!(read.body.contains("Which exam rooms do you use?"));

    // The answer becomes a tip.
    let promoted = mentor
        .post(
            &format!("{page_path}/promote"),
            &[("csrf", &read.csrf()), ("target", &science)],
        )
        .await;
    assert_eq!(promoted.status, 303, "{}", promoted.body);
    let tips = app
        .graphql("{ tips { nodes { title } } }", json!({}), None)
        .await;
    assert!(tips.to_string().contains("Moodle exam practices"), "{tips}");
}

/// A staff member asks with the wish that the service unit not see their name; the mentor sees
/// the wish, forwards with the name hidden and a note; the unit's contact answers without ever
/// seeing the asker; the asker sees each step and the answer. A mentor closes another question
/// as a duplicate. Wrong roles, visitors and an empty answer are refused as the API refuses.
#[tokio::test]
async fn a_question_goes_from_staff_through_a_mentor_to_a_service_unit_and_back() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;

    let mut staff = signed_in(&app, "science.staff").await;
    let work = staff.get("/me").await;
    assert!(work.body.contains("href=\"/questions/new\""));
    let form = staff.get("/questions/new").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let empty = staff
        .post(
            "/questions/new",
            &[
                ("csrf", &csrf),
                ("community", &ch.org("science")),
                ("title", "  "),
                ("body", "How do I book an exam room?"),
                ("hide", "1"),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty
            .body
            .contains("Kirjoita otsikko (enintään 200 merkkiä).")
    );
    assert!(
        empty
            .body
            .contains("How do I book an exam room?</textarea>"),
        "kept"
    );
    let asked = staff
        .post(
            "/questions/new",
            &[
                ("csrf", &csrf),
                ("community", &ch.org("science")),
                ("title", "Exam rooms"),
                ("body", "How do I book an exam room?"),
                ("hide", "1"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let path = asked.location.clone().unwrap();
    let path = path.split('?').next().unwrap().to_owned();
    let mine = staff.follow(asked).await;
    assert!(
        mine.body
            .contains("Kysymyksesi on lähetetty digimentoreille.")
    );

    // The mentor: the wish, the forms, and a forward with the name hidden.
    let mut mentor = signed_in(&app, "science.mentor").await;
    let work = mentor.get("/me").await;
    assert!(
        work.body.contains(&format!("href=\"{path}\"")),
        "{}",
        work.body
    );
    let page = mentor.get(&path).await;
    assert!(
        page.body.contains("Nimeä ei näytetä palveluyksikölle"),
        "the wish: {}",
        page.body
    );
    assert!(
        page.body
            .contains("id=\"hide\" name=\"hide\" value=\"1\" checked"),
        "the wish is the default"
    );
    let forwarded = mentor
        .post(
            &format!("{path}/forward"),
            &[
                ("csrf", &page.csrf()),
                ("unit", &ch.org("it-services")),
                ("note", "Exam room bookings are yours."),
                ("hide", "1"),
            ],
        )
        .await;
    assert_eq!(forwarded.status, 303, "{}", forwarded.body);
    let again = mentor
        .post(
            &format!("{path}/forward"),
            &[("csrf", &page.csrf()), ("unit", &ch.org("library"))],
        )
        .await;
    assert_eq!(again.status, 409, "a second forward finds it moved on");
    assert!(again.body.contains("Kysymys on jo siirtynyt eteenpäin"));

    // The contact answers without ever seeing who asked; another unit's contact cannot.
    let mut library = signed_in(&app, "library.contact").await;
    assert_ne!(library.get(&path).await.status, 200);
    let mut contact = signed_in(&app, "unit.contact").await;
    let work = contact.get("/me").await;
    assert!(work.body.contains("Yksikköönne välitetyt kysymykset"));
    assert!(work.body.contains(&format!("href=\"{path}\"")));
    let page = contact.get(&path).await;
    assert!(!page.body.contains("science staff"), "{}", page.body);
    assert!(page.body.contains("Nimi piilotettu"), "{}", page.body);
    assert!(
        !page.body.contains("Nimeä ei näytetä palveluyksikölle"),
        "not the wish either"
    );
    let blank = contact
        .post(
            &format!("{path}/answer"),
            &[("csrf", &page.csrf()), ("body", " ")],
        )
        .await;
    assert_eq!(blank.status, 422);
    let answered = contact
        .post(
            &format!("{path}/answer"),
            &[
                ("csrf", &page.csrf()),
                ("body", "Book it in the room calendar."),
            ],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);

    // The asker sees the answer; a visitor is sent to sign in; another unit's mentor is refused.
    let seen = staff.get(&path).await;
    assert!(seen.body.contains("Book it in the room calendar."));
    assert!(seen.body.contains("<dd>Vastattu</dd>"), "{}", seen.body);
    let mut visitor = Browser::new(&app);
    let anonymous = visitor
        .post(&format!("{path}/answer"), &[("body", "x")])
        .await;
    assert!(anonymous.location.unwrap().starts_with("/sign-in?next="));

    // A second question closed as a duplicate of the first, with the link back.
    let second = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Exam rooms again\", body: \"Booking?\" }) { id } }",
            json!({ "c": ch.org("science") }),
            ch.token("science.staff2"),
        )
        .await;
    let second = second["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut arts = signed_in(&app, "arts.mentor").await;
    let arts_page = arts.get(&path).await;
    assert_ne!(
        arts_page.status, 200,
        "another unit's mentor does not read it"
    );
    let page = mentor.get(&format!("/questions/{second}")).await;
    assert!(page.body.contains(&format!(
        "<option value=\"{}\"",
        path.trim_start_matches("/questions/")
    )));
    let closed = mentor
        .post(
            &format!("/questions/{second}/close"),
            &[
                ("csrf", &page.csrf()),
                ("reason", "Asked and answered before."),
                ("duplicate", path.trim_start_matches("/questions/")),
            ],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let closed = mentor.follow(closed).await;
    assert!(
        closed.body.contains(&format!("href=\"{path}\"")),
        "{}",
        closed.body
    );
}

/// A lead composes an inquiry: refused beside the field without units or with a past deadline
/// (the text kept), previewed, saved as a draft, edited to "all faculties" with a deadline in
/// their own zone, published, closed; the answers come out as CSV (formula-safe, every row) and
/// as a printable page. Those who do not ask for an organization are refused.
#[tokio::test]
async fn a_lead_composes_edits_publishes_and_closes_an_inquiry_and_exports_the_answers() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut lead = signed_in(&app, "lead").await;
    let work = lead.get("/me").await;
    assert!(work.body.contains("href=\"/inquiries/new\""));
    let form = lead.get("/inquiries/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let management = ch.org("management");
    let base = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("organization", management.clone()),
            ("title", "Exam practices".to_owned()),
            ("body", "How do you **examine**?".to_owned()),
        ];
        fields.extend_from_slice(extra);
        fields
    };
    async fn send(browser: &mut Browser<'_>, path: &str, pairs: &[(&'static str, String)]) -> Got {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser.post(path, &borrowed).await
    }

    let nobody = send(
        &mut lead,
        "/inquiries/new",
        &base(&[("action", "draft".into())]),
    )
    .await;
    assert_eq!(nobody.status, 422);
    assert!(
        nobody.body.contains("Valitse vähintään yksi yksikkö."),
        "{}",
        nobody.body
    );
    assert!(nobody.body.contains("How do you **examine**?</textarea>"));
    let past = send(
        &mut lead,
        "/inquiries/new",
        &base(&[
            ("community", ch.org("science")),
            ("date", "2020-01-01".into()),
            ("action", "draft".into()),
        ]),
    )
    .await;
    assert_eq!(past.status, 422);
    assert!(past.body.contains("Anna määräaika tulevaisuudessa"));
    let preview = send(
        &mut lead,
        "/inquiries/new",
        &base(&[("community", ch.org("science")), ("preview", "1".into())]),
    )
    .await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("<strong>examine</strong>"));

    let saved = send(
        &mut lead,
        "/inquiries/new",
        &base(&[("community", ch.org("science")), ("action", "draft".into())]),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.location.clone().unwrap();
    assert!(location.ends_with("?done=draft"), "{location}");
    let page_path = location.split('?').next().unwrap().to_owned();
    let draft = lead.follow(saved).await;
    assert!(draft.body.contains("Luonnos on tallennettu."));
    assert!(draft.body.contains(&format!("href=\"{page_path}/edit\"")));
    // Mentors do not see a draft.
    let mut mentor = signed_in(&app, "science.mentor").await;
    assert_ne!(mentor.get(&page_path).await.status, 200);

    // Edited: all faculties, a deadline at 12:00 in the lead's zone (Helsinki), then published.
    let edit = lead.get(&format!("{page_path}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("Exam practices"));
    let day = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let published = send(
        &mut lead,
        &format!("{page_path}/edit"),
        &base(&[
            ("all_faculties", "1".into()),
            ("date", day.format("%Y-%m-%d").to_string()),
            ("time", "12:00".into()),
            ("action", "publish".into()),
        ]),
    )
    .await;
    assert_eq!(published.status, 303, "{}", published.body);
    let id = page_path.trim_start_matches("/inquiries/");
    let read = app
        .graphql(
            "query($id: ID!) { inquiry(id: $id) { status deadline targets { community { slug } } } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(read["data"]["inquiry"]["status"], "OPEN");
    let deadline: chrono::DateTime<chrono::Utc> = read["data"]["inquiry"]["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        deadline
            .with_timezone(&chrono_tz::Europe::Helsinki)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        format!("{} 12:00", day.format("%Y-%m-%d"))
    );
    let mut slugs: Vec<String> = read["data"]["inquiry"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["community"]["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["arts", "medicine", "science"], "every faculty");
    assert_eq!(
        lead.get(&format!("{page_path}/edit")).await.status,
        303,
        "a published inquiry is no longer edited"
    );

    // An answer with a formula in it, then the exports.
    let page = mentor.get(&page_path).await;
    let science = read["data"]["inquiry"]["targets"].as_array().unwrap().len();
    assert_eq!(science, 3);
    let target = page
        .body
        .split("name=\"target\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let answered = mentor
        .post(
            &format!("{page_path}/answer"),
            &[
                ("csrf", &page.csrf()),
                ("target", &target),
                ("version", "0"),
                ("body", "=HYPERLINK(\"http://evil\") \"quoted\", ä"),
            ],
        )
        .await;
    assert_eq!(answered.status, 303);
    let csv = lead.get(&format!("{page_path}/answers.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "a header and one row per unit: {lines:?}");
    assert!(
        csv.body
            .contains("\"'=HYPERLINK(\"\"http://evil\"\") \"\"quoted\"\", ä\""),
        "{}",
        csv.body
    );
    let print = lead.get(&format!("{page_path}/print")).await;
    assert_eq!(print.status, 200);
    assert!(print.body.contains("<table class=\"answers\">"));

    // Closed from its page.
    let page = lead.get(&page_path).await;
    let closed = lead
        .post(&format!("{page_path}/close"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    assert_eq!(
        closed.location.as_deref(),
        Some(format!("{page_path}?done=close").as_str()),
        "no empty slot anchor for the whole inquiry"
    );
    let closed = lead.follow(closed).await;
    assert!(closed.body.contains("Kysely on suljettu."));

    // Those who do not ask for an organization; visitors.
    let refused = mentor.get("/inquiries/new").await;
    assert_eq!(refused.status, 403);
    let mut visitor = Browser::new(&app);
    let anonymous = visitor.get("/inquiries/new").await;
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/sign-in?next=%2Finquiries%2Fnew")
    );
}

/// A form pressed twice (the same form, its key and all, posted twice) makes one question and
/// one message, and both presses land on the same page.
#[tokio::test]
async fn a_form_pressed_twice_makes_one_thing() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut staff = signed_in(&app, "science.staff").await;
    let form = staff.get("/questions/new").await;
    let once = form.field("once");
    let fields = [
        ("csrf", form.csrf()),
        ("once", once),
        ("community", ch.org("science")),
        ("title", "Pressed twice".to_owned()),
        ("body", "Once, please.".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = staff.post("/questions/new", &fields).await;
    let second = staff.post("/questions/new", &fields).await;
    assert_eq!((first.status, second.status), (303, 303));
    assert_eq!(first.location, second.location);
    use sea_orm::PaginatorTrait;
    assert_eq!(
        entity::question::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );

    let (inquiry, slots) = app.published_inquiry(&ch, "Messages", &["science"]).await;
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"Yes\", expectedVersion: 0 }) { id } }",
            json!({ "t": slots["science"] }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let mut lead = signed_in(&app, "lead").await;
    let page = lead.get(&format!("/inquiries/{inquiry}")).await;
    let once = page.field("once");
    let csrf = page.csrf();
    let message = [
        ("csrf", csrf.as_str()),
        ("once", once.as_str()),
        ("target", slots["science"].as_str()),
        ("body", "Thanks!"),
    ];
    for _ in 0..2 {
        let sent = lead
            .post(&format!("/inquiries/{inquiry}/message"), &message)
            .await;
        assert_eq!(sent.status, 303);
    }
    assert_eq!(
        entity::inquiry_message::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

/// Every form of the work pages: a visitor is sent to sign in (and nothing changes), a post from
/// another site is refused (403), and a signed-in person without the role gets the API's refusal
/// as a page (403, or "not available" for what they may not read) — never a change.
#[tokio::test]
async fn every_work_form_refuses_visitors_forgeries_and_the_wrong_role() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (inquiry, slots) = app.published_inquiry(&ch, "Forms", &["science"]).await;
    let draft = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"Draft\", body: \"b\", communityIds: $c }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science")] }),
            ch.token("lead"),
        )
        .await["data"]["createInquiry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let question = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Q\", body: \"b\" }) { id } }",
            json!({ "c": ch.org("science") }),
            ch.token("science.staff"),
        )
        .await["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = slots["science"].clone();
    let forms = [
        "/inquiries/new".to_owned(),
        format!("/inquiries/{draft}/edit"),
        format!("/inquiries/{draft}/publish"),
        format!("/inquiries/{inquiry}/answer"),
        format!("/inquiries/{inquiry}/decline"),
        format!("/inquiries/{inquiry}/message"),
        format!("/inquiries/{inquiry}/promote"),
        format!("/inquiries/{inquiry}/close"),
        "/questions/new".to_owned(),
        format!("/questions/{question}/answer"),
        format!("/questions/{question}/forward"),
        format!("/questions/{question}/close"),
    ];
    let fields = |csrf: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", csrf.to_owned()),
            ("target", target.clone()),
            ("version", "0".into()),
            ("body", "Not mine to write".into()),
            ("reason", "Not mine".into()),
            ("unit", ch.org("it-services")),
            ("organization", ch.org("management")),
            ("title", "T".into()),
            // Not the outsider's unit.
            ("community", ch.org("science")),
        ]
    };
    let events_before = {
        use sea_orm::PaginatorTrait;
        entity::event::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap()
    };
    // arts.staff holds no role that any of these forms needs here.
    let mut outsider = signed_in(&app, "arts.staff").await;
    let csrf = outsider.get("/me").await.csrf();
    for form in &forms {
        let mut visitor = Browser::new(&app);
        let anonymous = visitor.post(form, &[("body", "x")]).await;
        assert_eq!(anonymous.status, 303, "{form}");
        assert!(
            anonymous
                .location
                .as_deref()
                .unwrap()
                .starts_with("/sign-in?next="),
            "{form}: {:?}",
            anonymous.location
        );
        let pairs = fields(&csrf);
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let forged = outsider
            .post_from(form, &borrowed, Some("https://evil.example"))
            .await;
        assert_eq!(forged.status, 403, "{form}: a forged post");
        let refused = outsider.post(form, &borrowed).await;
        assert!(
            matches!(refused.status, 403 | 404 | 422),
            "{form}: {} {}",
            refused.status,
            refused.body
        );
        if refused.status == 422 {
            // The API refused the input before the role: still nothing changed.
            assert!(refused.body.contains("role=\"alert\""), "{form}");
        }
    }
    use sea_orm::PaginatorTrait;
    assert_eq!(
        entity::event::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        events_before,
        "nothing changed"
    );
}

/// A staff member passes on a wish from the ask page; the mentor forwards it; the contact of the
/// unit records a decision on the wish's page (a "not possible" without a reason is refused
/// beside the field, nothing lost); the asker's page and "My work" show the decision.
#[tokio::test]
async fn a_wish_is_passed_on_from_the_ask_page_and_the_units_decision_shows_on_its_page() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut staff = signed_in(&app, "science.staff").await;
    let form = staff.get("/questions/new").await;
    assert!(
        form.body
            .contains("<input type=\"radio\" id=\"kind-wish\" name=\"kind\" value=\"wish\""),
        "{}",
        form.body
    );
    let asked = staff
        .post(
            "/questions/new",
            &[
                ("csrf", &form.csrf()),
                ("community", &ch.org("science")),
                ("kind", "wish"),
                ("title", "Exam room calendar"),
                ("body", "One calendar for every exam room, please."),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let path = asked.location.clone().unwrap();
    let path = path.split('?').next().unwrap().to_owned();
    let page = staff.follow(asked).await;
    assert!(
        page.body.contains("<dt>Laji</dt><dd>Toive</dd>"),
        "{}",
        page.body
    );

    let mut mentor = signed_in(&app, "science.mentor").await;
    let page = mentor.get(&path).await;
    assert!(!page.body.contains("/decide\""), "a mentor does not decide");
    let forwarded = mentor
        .post(
            &format!("{path}/forward"),
            &[("csrf", &page.csrf()), ("unit", &ch.org("it-services"))],
        )
        .await;
    assert_eq!(forwarded.status, 303, "{}", forwarded.body);

    let mut contact = signed_in(&app, "unit.contact").await;
    let work = contact.get("/me").await;
    assert!(work.body.contains("Toive · "), "{}", work.body);
    let page = contact.get(&path).await;
    assert!(
        page.body.contains(&format!("action=\"{path}/decide\"")),
        "{}",
        page.body
    );
    let refused = contact
        .post(
            &format!("{path}/decide"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "not_possible"),
                ("why", " "),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Kerro, miksi toteuttaminen ei ole mahdollista.")
    );
    assert!(
        refused.body.contains(
            "id=\"decision-not_possible\" name=\"decision\" value=\"not_possible\" required checked"
        ),
        "the choice is kept: {}",
        refused.body
    );
    let decided = contact
        .post(
            &format!("{path}/decide"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "planned"),
                ("why", "It comes with the **spring** update."),
            ],
        )
        .await;
    assert_eq!(decided.status, 303, "{}", decided.body);
    let page = contact.follow(decided).await;
    assert!(page.body.contains("Päätös on tallennettu"), "{}", page.body);
    assert!(page.body.contains("Muuta päätöstä"), "it can be changed");

    let page = staff.get(&path).await;
    assert!(
        page.body
            .contains("<h2 id=\"decision\">Palveluyksikön päätös</h2>")
    );
    assert!(
        page.body.contains("<strong>Suunnitteilla</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<strong>spring</strong>"),
        "Markdown: {}",
        page.body
    );
    assert!(
        !page.body.contains("/decide\""),
        "the asker does not decide"
    );
    let work = staff.get("/me").await;
    assert!(
        work.body.contains("Toive · Vastattu · Suunnitteilla"),
        "{}",
        work.body
    );
}

/// The demo network, as a newcomer meets it: from the home page, by following links only, they
/// reach its trainings (one full, with people waiting), development projects (one linked to
/// its plan, one outcome in the tips bank) and partner networks; signed in as a digimentor, from
/// the same home page through My work, the network's agenda, an announcement relayed by some
/// communities, and a wish with the service unit's decision.
#[tokio::test]
async fn a_newcomer_finds_every_part_of_the_networks_life_from_the_home_page() {
    let app = spawn_app().await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    /// Follows the first link starting with `prefix` on `from`, and returns the page.
    async fn follow(browser: &mut Browser<'_>, from: &Got, prefix: &str) -> Got {
        let link = first_link(&from.body, prefix);
        let page = browser.get(&link).await;
        assert_eq!(page.status, 200, "{link}: {}", page.body);
        page
    }
    let mut visitor = Browser::new(&app);
    let home = visitor.get("/?lang=en").await;
    let trainings = follow(&mut visitor, &home, "/trainings").await;
    assert!(
        trainings.body.contains("Full, 2 waiting"),
        "{}",
        trainings.body
    );
    let training = follow(&mut visitor, &home, "/trainings/").await;
    assert!(training.body.contains("Sign in to register"));
    let projects = follow(&mut visitor, &home, "/projects").await;
    assert!(!projects.body.contains("Teaching-lab booking"), "internal");
    let project = follow(&mut visitor, &projects, "/projects/").await;
    assert!(project.body.contains("Plan for"), "{}", project.body);
    assert!(project.body.contains("The outcome is in the tips bank"));
    follow(&mut visitor, &project, "/tips/").await;
    let partners = follow(&mut visitor, &home, "/partners").await;
    assert!(partners.body.contains("Campus EdTech"), "{}", partners.body);

    let mut mentor = Browser::new(&app);
    let signed = mentor
        .sign_in(
            "elina.makinen@demo.digimentor.fi",
            DEMO_PASSWORD,
            "/?lang=en",
        )
        .await;
    assert_eq!(signed.status, 303);
    let home = mentor.get("/?lang=en").await;
    assert!(
        links(&home.body).iter().any(|l| l == "/me"),
        "My work is linked"
    );
    let work = mentor.get("/me").await;
    let agenda = follow(&mut mentor, &work, "/agenda").await;
    assert!(
        agenda
            .body
            .contains("Shared guidelines for AI in course assignments"),
        "{}",
        agenda.body
    );
    let announcements = follow(&mut mentor, &work, "/announcements").await;
    let announcement = follow(&mut mentor, &announcements, "/announcements/").await;
    assert!(
        announcement.body.contains("2 of 4"),
        "{}",
        announcement.body
    );
    // The staff member who wished finds the service unit's decision from their own work.
    let mut staff = Browser::new(&app);
    let signed = staff
        .sign_in(
            "kaisa.rantanen@demo.digimentor.fi",
            DEMO_PASSWORD,
            "/?lang=en",
        )
        .await;
    assert_eq!(signed.status, 303);
    let home = staff.get("/?lang=en").await;
    assert!(
        links(&home.body).iter().any(|l| l == "/me"),
        "My work is linked"
    );
    let work = staff.get("/me").await;
    let wish: Vec<String> = links(&work.body)
        .into_iter()
        .filter(|l| l.starts_with("/questions/") && !l.ends_with("/new"))
        .collect();
    let mut found = false;
    for link in wish {
        let page = staff.get(&link).await;
        if page.body.contains("A shared exam room booking calendar") {
            assert!(page.body.contains("spring update"), "{}", page.body);
            found = true;
        }
    }
    assert!(found, "the decided wish is in My work: {}", work.body);
}

/// A forgotten password: the sign-in page's second button emails a link (in the person's
/// language, the same answer for an unknown address), the link chooses a new password once,
/// within the hour, ends every other session, and works as nothing else.
#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_link_that_works_once() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    crate::email::set_locale(&app, "science.staff@uni.test", entity::user::Locale::Sv).await;
    app.drain_mail().await;
    let before = sink.messages().len();
    let ask = |email: &'static str| {
        let app = &app;
        async move {
            let mut browser = Browser::new(app);
            let form = browser.get("/sign-in").await;
            assert!(
                form.body.contains("name=\"purpose\" value=\"reset\""),
                "{}",
                form.body
            );
            let sent = browser
                .post(
                    "/sign-in/link",
                    &[
                        ("csrf", &form.csrf()),
                        ("next", "/"),
                        ("email", email),
                        ("purpose", "reset"),
                    ],
                )
                .await;
            assert_eq!(sent.status, 303);
            browser.follow(sent).await
        }
    };
    let told = ask("science.staff@uni.test").await;
    assert!(
        told.body.contains(
            "Jos osoitteella on tunnus, lähetimme siihen linkin uuden salasanan valintaan."
        ),
        "{}",
        told.body
    );
    let stranger = ask("nobody@uni.test").await;
    assert_eq!(
        stranger.body,
        told.body.replace(&told.csrf(), &stranger.csrf())
    );
    app.drain_mail().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), before + 1, "one email, to the account only");
    let email = messages.last().unwrap();
    assert_eq!(email.to, vec!["<science.staff@uni.test>".to_owned()]);
    assert_eq!(
        email.parsed().subject(),
        Some("[Digimentor] Välj ett nytt lösenord")
    );
    let link = email_links(email)
        .into_iter()
        .find(|l| l.starts_with("/set-password/"))
        .expect("a link to choose the password");
    let token = link.trim_start_matches("/set-password/").to_owned();
    let row = entity::sign_in_link::Entity::find()
        .filter(
            entity::sign_in_link::Column::TokenHash.eq(digimentor::auth::token::hash_token(&token)),
        )
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.purpose, "reset_password");
    assert_eq!((row.expires_at - row.created_at).num_minutes(), 60);

    // Not a sign-in link.
    let mut browser = Browser::new(&app);
    let as_sign_in = browser.get(&format!("/sign-in/link/{token}")).await;
    let refused = browser
        .post(
            &format!("/sign-in/link/{token}"),
            &[("csrf", &as_sign_in.csrf())],
        )
        .await;
    assert_eq!(refused.status, 410);
    // It chooses a new password and signs in; the old password and sessions end.
    let form = browser.get(&link).await;
    assert_eq!(form.status, 200);
    let chosen = "ett nytt långt lösenord";
    let set = browser
        .post(&link, &[("csrf", &form.csrf()), ("password", chosen)])
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    assert!(browser.cookies.contains_key("session"));
    let old = app
        .graphql("{ me { id } }", json!({}), ch.token("science.staff"))
        .await;
    assert_eq!(old["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
    let with_old = app
        .graphql(
            login,
            json!({ "e": "science.staff@uni.test", "p": crate::helpers::PASSWORD }),
            None,
        )
        .await;
    assert_eq!(
        with_old["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(!app.login("science.staff@uni.test", chosen).await.is_empty());
    // Once only.
    let mut again = Browser::new(&app);
    let form = again.get(&link).await;
    let twice = again
        .post(
            &link,
            &[("csrf", &form.csrf()), ("password", "yet another long one")],
        )
        .await;
    assert_ne!(twice.status, 303);
    assert!(!again.cookies.contains_key("session"));
    // An expired link does nothing either.
    assert!(
        app.graphql(
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({ "e": "science.staff@uni.test" }),
            None,
        )
        .await["data"]["requestPasswordReset"]
            == true
    );
    let newest = entity::sign_in_link::Entity::find()
        .filter(entity::sign_in_link::Column::Purpose.eq("reset_password"))
        .filter(entity::sign_in_link::Column::UsedAt.is_null())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut expired: entity::sign_in_link::ActiveModel = newest.into();
    expired.expires_at = sea_orm::Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    sea_orm::ActiveModelTrait::update(expired, &app.state.db)
        .await
        .unwrap();
    app.drain_mail().await;
    // The newest link (the password-changed notice may be sent after it).
    let late_link = sink
        .messages()
        .iter()
        .flat_map(email_links)
        .rfind(|l| l.starts_with("/set-password/") && *l != link)
        .expect("a second link");
    let mut late_browser = Browser::new(&app);
    let form = late_browser.get(&late_link).await;
    let too_late = late_browser
        .post(
            &late_link,
            &[("csrf", &form.csrf()), ("password", "too late a password")],
        )
        .await;
    assert_ne!(too_late.status, 303);
    assert!(app.login("science.staff@uni.test", chosen).await.len() > 10);
}
