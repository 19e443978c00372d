//! The benchmark dataset, written with bulk inserts (the service's own write paths are measured
//! by the scenarios, not by seeding).

use chrono::Utc;
use entity::inquiry::InquiryStatus;
use entity::inquiry_target::TargetStatus;
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::topic_subscription::Frequency;
use entity::user::Locale;
use entity::{
    access_token, event, inquiry, inquiry_target, membership, organization, tip, tip_topic, topic,
    topic_subscription, user,
};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use uuid::Uuid;

/// How much to seed.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Scale {
    pub organizations: usize,
    pub users: usize,
    pub inquiries: usize,
    /// Communities each inquiry asks; two of every three answer.
    pub slots_per_inquiry: usize,
    /// Tips in the tips bank, each with its `tip.created` event; the newest are in the digest
    /// window.
    pub tips: usize,
    pub topics: usize,
    /// Topic subscriptions: users follow topics in turn, daily and weekly by turns (at most
    /// users × topics).
    pub subscriptions: usize,
    /// Emails in the outbox for the drain (scenario 6).
    pub deliveries: usize,
    /// Idle WebSocket subscriptions for the fan-out (scenario 5).
    pub websockets: usize,
    /// Times each abusive request is sent per pass.
    pub abuse_repeats: usize,
}

impl Scale {
    pub fn full() -> Self {
        Self {
            organizations: 100,
            users: 10_000,
            inquiries: 10_000,
            slots_per_inquiry: 3,
            tips: 20_000,
            topics: 10,
            subscriptions: 100_000,
            deliveries: 50_000,
            websockets: 10_000,
            abuse_repeats: 100,
        }
    }

    pub fn quick() -> Self {
        Self {
            organizations: 10,
            users: 200,
            inquiries: 300,
            slots_per_inquiry: 3,
            tips: 400,
            topics: 10,
            subscriptions: 400,
            deliveries: 300,
            websockets: 200,
            abuse_repeats: 10,
        }
    }
}

/// What the scenarios need to know about the seeded data.
pub struct Dataset {
    pub admin_email: String,
    pub password: String,
    pub inquiry_ids: Vec<Uuid>,
    /// A staff member (role member) and their community, for asking questions.
    pub member_email: String,
    pub member_community: Uuid,
    /// A mentor of a community, for writing tips (public events: everyone may read them).
    pub mentor_email: String,
    pub mentor_community: Uuid,
    /// One bearer token per user (stored hashed, as the service issues them), for WebSockets.
    pub tokens: Vec<String>,
    /// The digest boundary the seeded window ends at (the latest 07:00 in Helsinki).
    pub digest_boundary: chrono::DateTime<Utc>,
}

impl Dataset {
    /// When scenario 7 runs the digests: just after the seeded window closes.
    pub fn digests_due(&self) -> chrono::DateTime<Utc> {
        self.digest_boundary + chrono::Duration::minutes(1)
    }
}

const CHUNK: usize = 500;

async fn insert_chunked<A>(db: &DatabaseConnection, rows: Vec<A>) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Clone + Send,
{
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn seed(db: &DatabaseConnection, scale: Scale) -> anyhow::Result<Dataset> {
    let now = Utc::now();
    let password = "bench-password-123".to_owned();
    let hash = digimentor::auth::password::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    // One management organization, then faculties (communities).
    let organizations: Vec<organization::ActiveModel> = (0..scale.organizations)
        .map(|i| organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(format!("org-{i}")),
            kind: Set(if i == 0 {
                OrganizationKind::Management
            } else {
                OrganizationKind::Faculty
            }),
            name_fi: Set(format!("Yksikkö {i}")),
            name_sv: Set(format!("Enhet {i}")),
            name_en: Set(format!("Unit {i}")),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let org_ids: Vec<Uuid> = organizations.iter().map(|o| *o.id.as_ref()).collect();
    insert_chunked(db, organizations).await?;

    let users: Vec<user::ActiveModel> = (0..scale.users)
        .map(|i| user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(format!("user{i}@bench.test")),
            display_name: Set(format!("User {i}")),
            locale: Set([Locale::Fi, Locale::Sv, Locale::En][i % 3]),
            time_zone: Set("Europe/Helsinki".into()),
            digest_hour: Set(7),
            digest_weekday: Set(1),
            is_admin: Set(i == 0),
            password_hash: Set(Some(hash.clone())),
            created_at: Set(now),
            updated_at: Set(now),
            email_suspended_at: Set(None),
            deactivated_at: Set(None),
            oidc_subject: Set(None),
            erased_at: Set(None),
        })
        .collect();
    let user_ids: Vec<Uuid> = users.iter().map(|u| *u.id.as_ref()).collect();
    insert_chunked(db, users).await?;

    // Users spread over organizations; the first two of each are mentors, user 1 leads.
    let memberships: Vec<membership::ActiveModel> = user_ids
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, user)| {
            let org = org_ids[i % org_ids.len()];
            let role = if i == 1 {
                Role::Lead
            } else if i / org_ids.len() < 2 {
                Role::Mentor
            } else {
                Role::Member
            };
            membership::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(*user),
                organization_id: Set(if i == 1 { org_ids[0] } else { org }),
                role: Set(role),
                created_at: Set(now),
            }
        })
        .collect();
    insert_chunked(db, memberships).await?;

    let communities = &org_ids[1..];
    let mut inquiries = Vec::with_capacity(scale.inquiries);
    let mut targets = Vec::with_capacity(scale.inquiries * scale.slots_per_inquiry);
    for i in 0..scale.inquiries {
        let id = Uuid::now_v7();
        inquiries.push(inquiry::ActiveModel {
            id: Set(id),
            organization_id: Set(org_ids[0]),
            author_id: Set(user_ids[1]),
            title: Set(format!(
                "Inquiry {i}: how does your unit use the learning platform?"
            )),
            body: Set("Please describe the tools, the support you need and your plans.".into()),
            deadline: Set(Some(now + chrono::Duration::days(30))),
            status: Set(InquiryStatus::Open),
            all_communities: Set(false),
            answers_shared: Set(true),
            published_at: Set(Some(now)),
            closed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        for s in 0..scale.slots_per_inquiry {
            let community = communities[(i + s) % communities.len()];
            let answered = s % 3 != 2;
            targets.push(inquiry_target::ActiveModel {
                id: Set(Uuid::now_v7()),
                inquiry_id: Set(id),
                community_id: Set(community),
                status: Set(if answered {
                    TargetStatus::Answered
                } else {
                    TargetStatus::Pending
                }),
                answer: Set(answered.then(|| "We use it in every course.".to_owned())),
                decline_reason: Set(None),
                version: Set(i32::from(answered)),
                answered_by: Set(answered.then_some(user_ids[(i + s) % user_ids.len()])),
                answered_at: Set(answered.then_some(now)),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    let inquiry_ids = inquiries.iter().map(|q| *q.id.as_ref()).collect();
    insert_chunked(db, inquiries).await?;
    insert_chunked(db, targets).await?;

    let tokens = seed_tokens(db, &user_ids, now).await?;
    let digest_boundary = digimentor::subscriptions::windows::last_boundary(
        now,
        chrono_tz::Europe::Helsinki,
        7,
        0,
        Frequency::Daily,
    );
    let topic_ids = seed_topics(db, scale, now).await?;
    seed_tips(db, scale, &org_ids, &user_ids, &topic_ids, digest_boundary).await?;
    seed_subscriptions(db, scale, &user_ids, &topic_ids, digest_boundary).await?;

    // The last user is a member (not a mentor) as long as there are 3+ users per organization.
    let member = scale.users - 1;
    Ok(Dataset {
        admin_email: "user0@bench.test".into(),
        password,
        inquiry_ids,
        member_email: format!("user{member}@bench.test"),
        member_community: org_ids[member % org_ids.len()],
        mentor_email: format!("user{}@bench.test", org_ids.len() + 1),
        mentor_community: org_ids[1],
        tokens,
        digest_boundary,
    })
}

/// The user of index `organizations + j` is a mentor of organization `j` (see the memberships).
fn mentor_of(j: usize, user_ids: &[Uuid], organizations: usize) -> Uuid {
    user_ids[organizations + j]
}

async fn seed_tokens(
    db: &DatabaseConnection,
    user_ids: &[Uuid],
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Vec<String>> {
    let tokens: Vec<String> = user_ids
        .iter()
        .map(|_| digimentor::auth::token::generate_token())
        .collect();
    let rows = user_ids
        .iter()
        .zip(&tokens)
        .map(|(user, token)| access_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(*user),
            token_hash: Set(digimentor::auth::token::hash_token(token)),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(1)),
            revoked_at: Set(None),
        })
        .collect();
    insert_chunked(db, rows).await?;
    Ok(tokens)
}

async fn seed_topics(
    db: &DatabaseConnection,
    scale: Scale,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    let topics: Vec<topic::ActiveModel> = (0..scale.topics)
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
    let ids = topics.iter().map(|t| *t.id.as_ref()).collect();
    insert_chunked(db, topics).await?;
    Ok(ids)
}

/// Tips written by communities' mentors over the past year, one topic each, with their
/// `tip.created` events; the newest 2 % fall in the day before `boundary` (the digest window).
async fn seed_tips(
    db: &DatabaseConnection,
    scale: Scale,
    org_ids: &[Uuid],
    user_ids: &[Uuid],
    topic_ids: &[Uuid],
    boundary: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let in_window = scale.tips / 50;
    let mut tips = Vec::with_capacity(scale.tips);
    let mut links = Vec::with_capacity(scale.tips);
    let mut events = Vec::with_capacity(scale.tips);
    for i in 0..scale.tips {
        // Newest first: the first `in_window` tips are spread over the window's day, the rest
        // over the year before it.
        let age = if i < in_window {
            chrono::Duration::seconds(1 + (i as i64 * 86_000) / in_window.max(1) as i64)
        } else {
            chrono::Duration::days(1)
                + chrono::Duration::seconds((i as i64 * 364 * 86_400) / scale.tips as i64)
        };
        let at = boundary - age;
        let j = 1 + i % (org_ids.len() - 1);
        let (id, author, topic) = (
            Uuid::now_v7(),
            mentor_of(j, user_ids, org_ids.len()),
            topic_ids[i % topic_ids.len()],
        );
        tips.push(tip::ActiveModel {
            id: Set(id),
            author_id: Set(author),
            organization_id: Set(org_ids[j]),
            title: Set(format!("Tip {i}: recording lectures with the campus tools")),
            body: Set("We record every lecture and share it in the course area. **Students** like it; see the [guide](https://example.edu/guide).".into()),
            source_target_id: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        });
        links.push(tip_topic::ActiveModel {
            tip_id: Set(id),
            topic_id: Set(topic),
        });
        events.push(event::ActiveModel {
            seq: sea_orm::NotSet,
            id: Set(Uuid::now_v7()),
            kind: Set(digimentor::events::kinds::TIP_CREATED.into()),
            actor_id: Set(Some(author)),
            subject_id: Set(id),
            object_id: Set(None),
            organization_ids: Set(serde_json::json!([org_ids[j]])),
            topic_ids: Set(serde_json::json!([topic])),
            audience: Set(serde_json::to_value([
                digimentor::events::audience::Reader::Public,
            ])?),
            created_at: Set(at),
        });
    }
    // Events in time order, as the log would hold them.
    events.reverse();
    index_for_search(db, &tips).await?;
    insert_chunked(db, tips).await?;
    insert_chunked(db, links).await?;
    insert_chunked(db, events).await?;
    Ok(())
}

/// Each user follows one topic daily, the next weekly, the next daily again and so on (their
/// weekly digest falls on the boundary's weekday), until `scale.subscriptions` are made (at
/// most users × topics).
async fn seed_subscriptions(
    db: &DatabaseConnection,
    scale: Scale,
    user_ids: &[Uuid],
    topic_ids: &[Uuid],
    boundary: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    use chrono::Datelike;
    let weekday = boundary
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .weekday()
        .num_days_from_monday();
    user::Entity::update_many()
        .col_expr(
            user::Column::DigestWeekday,
            sea_orm::sea_query::Expr::value(weekday as i32),
        )
        .exec(db)
        .await?;
    let created = boundary - chrono::Duration::days(30);
    let rows: Vec<topic_subscription::ActiveModel> = (0..scale.subscriptions)
        .map(|i| {
            let user = i % user_ids.len();
            let round = i / user_ids.len();
            let weekly = round % 2 == 1;
            topic_subscription::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_ids[user]),
                topic_id: Set(topic_ids[(user + round) % topic_ids.len()]),
                frequency: Set(if weekly {
                    Frequency::Weekly
                } else {
                    Frequency::Daily
                }),
                created_at: Set(created),
                updated_at: Set(created),
            }
        })
        .collect();
    insert_chunked(db, rows).await?;
    Ok(())
}

/// On SQLite the tips' words go into the full-text index as the service puts them there
/// (`tips::search::index`); PostgreSQL's index is a generated column.
async fn index_for_search(
    db: &DatabaseConnection,
    tips: &[tip::ActiveModel],
) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    // Three values a row, under SQLite's 999 parameters a statement.
    for chunk in tips.chunks(300) {
        let rows = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        for tip in chunk {
            let (Set(id), Set(title), Set(body)) = (&tip.id, &tip.title, &tip.body) else {
                anyhow::bail!("a seeded tip without its id, title or body");
            };
            values.extend([
                id.to_string().into(),
                title.clone().into(),
                body.clone().into(),
            ]);
        }
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("INSERT INTO tip_fts (tip_id, title, body) VALUES {rows}"),
            values,
        ))
        .await?;
    }
    Ok(())
}
