//! Community plans: written by the community's mentors, public, history kept per year.

use chrono::Datelike;
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

const SET: &str = "mutation($c: ID!, $y: Int!, $g: String!) { setCommunityPlan(communityId: $c, year: $y, goals: $g, activities: \"Monthly clinics\") { year version goals author { email } } }";

#[tokio::test]
async fn mentors_write_their_communitys_plan_and_anyone_reads_it_with_history() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let year = chrono::Utc::now().year() + 1;
    for (who, expected) in [
        ("visitor", Some("UNAUTHENTICATED")),
        ("science.staff", Some("FORBIDDEN")),
        ("arts.mentor", Some("FORBIDDEN")),
        ("admin", Some("FORBIDDEN")),
        ("science.mentor", None),
    ] {
        let body = app
            .graphql(
                SET,
                json!({ "c": ch.org("science"), "y": year, "g": "Every course in Moodle" }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), expected, "{who}: {body}");
    }
    let revised = app.graphql(SET, json!({ "c": ch.org("science"), "y": year, "g": "Every course in Moodle, with rubrics" }), ch.token("science.comentor")).await;
    assert_eq!(revised["data"]["setCommunityPlan"]["version"], 2);

    let read = app
        .graphql("query($y: Int!) { communityPlan(community: \"science\", year: $y) { goals activities version author { email } history { version goals } } }", json!({ "y": year }), None)
        .await;
    assert_eq!(
        read["data"]["communityPlan"]["goals"],
        "Every course in Moodle, with rubrics"
    );
    assert_eq!(
        read["data"]["communityPlan"]["author"]["email"],
        "science.comentor@uni.test"
    );
    assert_eq!(
        read["data"]["communityPlan"]["history"],
        json!([{ "version": 1, "goals": "Every course in Moodle" }])
    );
    // Each year has its own plan.
    let other_year = app
        .graphql(
            "query($y: Int!) { communityPlan(community: \"science\", year: $y) { goals } }",
            json!({ "y": year - 1 }),
            None,
        )
        .await;
    assert!(other_year["data"]["communityPlan"].is_null());
}

#[tokio::test]
async fn plan_input_is_validated() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let year = chrono::Utc::now().year();
    for (vars, field) in [
        (
            json!({ "c": ch.org("science"), "y": year + 40, "g": "Far" }),
            "year",
        ),
        (
            json!({ "c": ch.org("science"), "y": 1999, "g": "Past" }),
            "year",
        ),
        (
            json!({ "c": ch.org("science"), "y": year, "g": " " }),
            "goals",
        ),
        (
            json!({ "c": ch.org("it-services"), "y": year, "g": "Unit" }),
            "communityId",
        ),
        (
            json!({ "c": uuid::Uuid::now_v7().to_string(), "y": year, "g": "Nowhere" }),
            "communityId",
        ),
    ] {
        let body = app
            .graphql(SET, vars.clone(), ch.token("science.mentor"))
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{vars}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
}
