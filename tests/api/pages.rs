//! The web pages over real HTTP: language, the home page's data as a visitor, the localized
//! 404 page and the headers that keep pages safe.

use reqwest::header;

use crate::helpers::{TestApp, spawn_app};

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
