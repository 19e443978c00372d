//! Scale check for digests: 10,000 subscribers across 10 topics, a day of inquiries, one digest
//! run. Prints the time of the run and the process's peak memory.
//!
//!     cargo bench --bench digests                       # embedded SQLite in a temp folder
//!     BENCH_DATABASE_URL=postgres://… cargo bench --bench digests

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use digimentor::subscriptions::digests;
use entity::inquiry::InquiryStatus;
use entity::inquiry_target::TargetStatus;
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::topic_subscription::Frequency;
use entity::{
    event, inquiry, inquiry_target, inquiry_topic, membership, organization, topic,
    topic_subscription, user,
};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use uuid::Uuid;

const SUBSCRIBERS: usize = 10_000;
const TOPICS: usize = 10;
const COMMUNITIES: usize = 20;
const INQUIRIES: usize = 200;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

async fn insert_chunked<A, E>(db: &impl ConnectionTrait, rows: Vec<A>)
where
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(500).collect();
        E::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let db = digimentor::db::connect(&url, &Default::default())
        .await
        .unwrap();
    digimentor::db::migrate(&db).await.unwrap();
    if user::Entity::find().count(&db).await.unwrap() > 0 {
        panic!("BENCH_DATABASE_URL must point at an empty database");
    }
    let now = Utc.with_ymd_and_hms(2027, 2, 2, 6, 0, 0).unwrap();
    let window_start = now - Duration::days(1);
    let seed_started = Instant::now();

    let management = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set("management".into()),
        kind: Set(OrganizationKind::Management),
        name_fi: Set("Johto".into()),
        name_sv: Set("Ledning".into()),
        name_en: Set("Management".into()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let management_id = *management.id.as_ref();
    let communities: Vec<organization::ActiveModel> = (0..COMMUNITIES)
        .map(|i| organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(format!("community-{i}")),
            kind: Set(OrganizationKind::Faculty),
            name_fi: Set(format!("Tiedekunta {i}")),
            name_sv: Set(format!("Fakultet {i}")),
            name_en: Set(format!("Faculty {i}")),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let community_ids: Vec<Uuid> = communities.iter().map(|c| *c.id.as_ref()).collect();
    let mut orgs = vec![management];
    orgs.extend(communities);
    insert_chunked(&db, orgs).await;

    let topics: Vec<topic::ActiveModel> = (0..TOPICS)
        .map(|i| topic::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(format!("topic-{i}")),
            name_fi: Set(format!("Aihe {i}")),
            name_sv: Set(format!("Ämne {i}")),
            name_en: Set(format!("Topic {i}")),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let topic_ids: Vec<Uuid> = topics.iter().map(|t| *t.id.as_ref()).collect();
    insert_chunked(&db, topics).await;

    let locales = [
        entity::user::Locale::Fi,
        entity::user::Locale::Sv,
        entity::user::Locale::En,
    ];
    let users: Vec<user::ActiveModel> = (0..SUBSCRIBERS)
        .map(|i| user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(format!("user{i}@bench.test")),
            display_name: Set(format!("User {i}")),
            locale: Set(locales[i % 3]),
            time_zone: Set("Europe/Helsinki".into()),
            digest_hour: Set(7),
            digest_weekday: Set(0),
            is_admin: Set(false),
            password_hash: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let user_ids: Vec<Uuid> = users.iter().map(|u| *u.id.as_ref()).collect();
    insert_chunked(&db, users).await;
    let author = user_ids[0];

    let memberships: Vec<membership::ActiveModel> = user_ids
        .iter()
        .enumerate()
        .map(|(i, id)| membership::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(*id),
            organization_id: Set(community_ids[i % COMMUNITIES]),
            role: Set(if i % 50 == 0 {
                Role::Mentor
            } else {
                Role::Member
            }),
            created_at: Set(now),
        })
        .collect();
    insert_chunked(&db, memberships).await;
    let topic_list = &topic_ids;
    let subscriptions: Vec<topic_subscription::ActiveModel> = user_ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            (0..=(i % 3)).map(move |k| topic_subscription::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(*id),
                topic_id: Set(topic_list[(i + k) % TOPICS]),
                frequency: Set(if i % 4 == 0 {
                    Frequency::Weekly
                } else {
                    Frequency::Daily
                }),
                created_at: Set(now),
                updated_at: Set(now),
            })
        })
        .collect();
    let subscription_count = subscriptions.len();
    insert_chunked(&db, subscriptions).await;

    let mut inquiries = Vec::new();
    let mut links = Vec::new();
    let mut targets = Vec::new();
    let mut events = Vec::new();
    for i in 0..INQUIRIES {
        let id = Uuid::now_v7();
        let at = window_start + Duration::seconds((i as i64) * 400);
        let addressed: Vec<Uuid> = (0..4)
            .map(|k| community_ids[(i + k * 5) % COMMUNITIES])
            .collect();
        let topic_id = topic_ids[i % TOPICS];
        inquiries.push(inquiry::ActiveModel {
            id: Set(id),
            organization_id: Set(management_id),
            author_id: Set(author),
            title: Set(format!("Inquiry {i}")),
            body: Set("What do you need?".into()),
            deadline: Set(None),
            status: Set(InquiryStatus::Open),
            all_communities: Set(false),
            answers_shared: Set(false),
            published_at: Set(Some(at)),
            closed_at: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        });
        links.push(inquiry_topic::ActiveModel {
            inquiry_id: Set(id),
            topic_id: Set(topic_id),
        });
        let mut audience = vec![
            serde_json::json!({ "type": "organization", "id": management_id }),
            serde_json::json!({ "type": "leads" }),
        ];
        for community in &addressed {
            targets.push(inquiry_target::ActiveModel {
                id: Set(Uuid::now_v7()),
                inquiry_id: Set(id),
                community_id: Set(*community),
                status: Set(TargetStatus::Pending),
                answer: Set(None),
                decline_reason: Set(None),
                version: Set(0),
                answered_by: Set(None),
                answered_at: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            });
            audience.push(serde_json::json!({ "type": "organization", "id": community }));
        }
        let mut organization_ids = vec![management_id];
        organization_ids.extend(addressed);
        events.push(event::ActiveModel {
            seq: sea_orm::NotSet,
            id: Set(Uuid::now_v7()),
            kind: Set("inquiry.published".into()),
            actor_id: Set(Some(author)),
            subject_id: Set(id),
            object_id: Set(None),
            organization_ids: Set(serde_json::json!(organization_ids)),
            topic_ids: Set(serde_json::json!([topic_id])),
            audience: Set(serde_json::Value::Array(audience)),
            created_at: Set(at),
        });
    }
    insert_chunked(&db, inquiries).await;
    insert_chunked(&db, links).await;
    insert_chunked(&db, targets).await;
    insert_chunked(&db, events).await;
    let seeded_in = seed_started.elapsed();

    let ctx = digimentor::notify::MailContext {
        public_url: url::Url::parse("https://digimentor.example.edu").unwrap(),
        signer: digimentor::subscriptions::token::Signer::new(b"bench".to_vec()),
    };
    // The first run closes everyone's first (empty) window before the seeded day.
    let baseline = digests::run(&db, &ctx, window_start + Duration::minutes(1))
        .await
        .unwrap();
    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let report = digests::run(&db, &ctx, now).await.unwrap();
    let elapsed = started.elapsed();
    let queued = entity::delivery::Entity::find().count(&db).await.unwrap();
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    println!(
        "| engine | subscribers | subscriptions | items in window | digests queued | empty windows | time | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {engine} | {SUBSCRIBERS} | {subscription_count} | {INQUIRIES} | {} | {} | {:.2} s | {:.0} MiB |",
        report.queued,
        report.empty,
        elapsed.as_secs_f64(),
        peak_rss_mib()
    );
    println!(
        "{{\"engine\":\"{engine}\",\"subscribers\":{SUBSCRIBERS},\"digests_queued\":{},\"seconds\":{:.3},\"peak_rss_mib\":{:.0},\"rss_before_mib\":{rss_before:.0},\"seed_seconds\":{:.1},\"first_run_empty\":{}}}",
        report.queued,
        elapsed.as_secs_f64(),
        peak_rss_mib(),
        seeded_in.as_secs_f64(),
        baseline.empty
    );
    assert_eq!(
        queued, report.queued,
        "every queued digest is in the outbox"
    );
}
