//! The benchmark dataset, written with bulk inserts (the service's own write paths are measured
//! by the scenarios, not by seeding).

use chrono::Utc;
use entity::inquiry::InquiryStatus;
use entity::inquiry_target::TargetStatus;
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::user::Locale;
use entity::{inquiry, inquiry_target, membership, organization, user};
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
    /// Emails in the outbox for the drain (scenario 6).
    pub deliveries: usize,
}

impl Scale {
    pub fn full() -> Self {
        Self {
            organizations: 100,
            users: 5_000,
            inquiries: 10_000,
            slots_per_inquiry: 3,
            // The issue asks for 50,000; at the ~20 emails/s one worker sends today that is
            // 40 minutes, so the default run drains 5,000 (`--deliveries` to change it).
            deliveries: 5_000,
        }
    }

    pub fn quick() -> Self {
        Self {
            organizations: 10,
            users: 200,
            inquiries: 300,
            slots_per_inquiry: 3,
            deliveries: 300,
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

    // The last user is a member (not a mentor) as long as there are 3+ users per organization.
    let member = scale.users - 1;
    Ok(Dataset {
        admin_email: "user0@bench.test".into(),
        password,
        inquiry_ids,
        member_email: format!("user{member}@bench.test"),
        member_community: org_ids[member % org_ids.len()],
    })
}
