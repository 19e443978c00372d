//! Deadline reminders: a configurable time before the deadline, and on the deadline day (in the
//! mentor's time zone), to the mentors of communities whose slot is still pending. Each
//! (slot, mentor, stage) has one dedupe key, so several instances or a restart send it once.

use super::payloads::{InquiryMail, to_payload};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use entity::inquiry::{self, InquiryStatus};
use entity::inquiry_target::{self, TargetStatus};
use entity::membership::Role;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Template;
use super::outbox;
use super::rules::{NewDelivery, inquiry_letter, people_with};
use crate::error::AppResult;

/// How long after publishing no reminder goes out.
pub const QUIET_AFTER_PUBLISHING: chrono::Duration = chrono::Duration::hours(1);

/// Which reminder is due for a deadline at `now`, for someone in `zone`.
pub fn stage(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    lead: chrono::Duration,
    zone: &str,
) -> Option<&'static str> {
    if now >= deadline {
        return None;
    }
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Europe::Helsinki);
    let local_day = deadline.with_timezone(&tz).date_naive();
    let day_start = tz
        .from_local_datetime(&local_day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(deadline);
    if now >= day_start {
        Some("day")
    } else if now >= deadline - lead {
        Some("near")
    } else {
        None
    }
}

/// Queues the reminders due at `now`. Returns how many new deliveries were queued.
#[tracing::instrument(skip_all)]
pub async fn queue_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lead: chrono::Duration,
    mail_domain: &str,
) -> AppResult<u64> {
    let soon = inquiry::Entity::find()
        .filter(inquiry::Column::Status.eq(InquiryStatus::Open))
        // The invitation itself says the deadline: no reminder within its first hour, so one
        // never follows it at once (an inquiry published inside the lead time).
        .filter(inquiry::Column::PublishedAt.lte(now - QUIET_AFTER_PUBLISHING))
        .filter(inquiry::Column::Deadline.gt(now))
        .filter(
            inquiry::Column::Deadline
                .lte(now + lead.max(chrono::Duration::days(1)) + chrono::Duration::days(1)),
        )
        .all(db)
        .await?;
    let mut planned = Vec::new();
    for inquiry in soon {
        let Some(deadline) = inquiry.deadline else {
            continue;
        };
        let pending = inquiry_target::Entity::find()
            .filter(inquiry_target::Column::InquiryId.eq(inquiry.id))
            .filter(inquiry_target::Column::Status.eq(TargetStatus::Pending))
            .all(db)
            .await?;
        for slot in pending {
            let letter =
                inquiry_letter(db, Template::InquiryReminder, &inquiry, Some(&slot)).await?;
            for mentor in people_with(db, &[slot.community_id], &[Role::Mentor]).await? {
                let Some(stage) = stage(deadline, now, lead, &mentor.time_zone) else {
                    continue;
                };
                let payload = letter.inquiry_for(&mentor).map(|mail| InquiryMail {
                    stage: Some(stage.to_owned()),
                    ..mail
                });
                let payload = to_payload(&payload);
                planned.push(NewDelivery {
                    dedupe_key: format!("reminder:{}:{stage}:{}", slot.id, mentor.id),
                    recipient: mentor,
                    template: Template::InquiryReminder,
                    thread_id: Some(inquiry.id),
                    payload,
                    reply_to: letter.reply_to.clone(),
                    event_id: None,
                });
            }
        }
    }
    outbox::insert(db, planned, mail_domain).await
}

/// How long before a training its registrants are reminded.
pub const TRAINING_REMINDER: chrono::Duration = chrono::Duration::hours(24);

/// Queues the reminders of trainings starting within [`TRAINING_REMINDER`] to everyone with a
/// place who registered more than an hour before (their confirmation is fresh enough), with
/// the invitation again. One per registration and start time: a training moved to a later day
/// reminds again. Returns how many new deliveries were queued.
#[tracing::instrument(skip_all)]
pub async fn queue_training_reminders(
    db: &impl ConnectionTrait,
    ctx: &super::MailContext,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    use entity::training_registration::{self as registration, RegistrationStatus};
    use entity::{organization, training, user};
    let soon = training::Entity::find()
        .filter(training::Column::CancelledAt.is_null())
        .filter(training::Column::StartsAt.gt(now))
        .filter(training::Column::StartsAt.lte(now + TRAINING_REMINDER))
        .all(db)
        .await?;
    let mut planned = Vec::new();
    for t in soon {
        let places = registration::Entity::find()
            .filter(registration::Column::TrainingId.eq(t.id))
            .filter(registration::Column::Status.eq(RegistrationStatus::Registered))
            .filter(registration::Column::UpdatedAt.lte(now - QUIET_AFTER_PUBLISHING))
            .all(db)
            .await?;
        if places.is_empty() {
            continue;
        }
        let organizer = match t.organizer_id {
            Some(id) => organization::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
        let people = user::Entity::find()
            .filter(user::Column::Id.is_in(places.iter().map(|r| r.user_id)))
            .all(db)
            .await?;
        for r in &places {
            let Some(person) = people.iter().find(|u| u.id == r.user_id) else {
                continue;
            };
            let mail = super::rules::training_mail(
                ctx,
                &t,
                organizer.as_ref(),
                person,
                "reminder",
                r,
                None,
            );
            planned.push(NewDelivery {
                dedupe_key: format!("training-reminder:{}:{}", r.id, t.starts_at.timestamp()),
                recipient: person.clone(),
                template: Template::Training,
                thread_id: Some(t.id),
                payload: to_payload(&mail),
                reply_to: None,
                event_id: None,
            });
        }
    }
    outbox::insert(db, planned, ctx.domain()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn stages_follow_the_lead_time_and_the_local_deadline_day() {
        let deadline = at("2027-03-10T10:00:00Z"); // 12:00 in Helsinki
        let lead = chrono::Duration::days(3);
        assert_eq!(
            stage(
                deadline,
                at("2027-03-06T10:00:00Z"),
                lead,
                "Europe/Helsinki"
            ),
            None
        );
        assert_eq!(
            stage(
                deadline,
                at("2027-03-07T10:00:00Z"),
                lead,
                "Europe/Helsinki"
            ),
            Some("near")
        );
        // Helsinki's 10 March starts at 22:00 UTC on the 9th.
        assert_eq!(
            stage(
                deadline,
                at("2027-03-09T21:59:00Z"),
                lead,
                "Europe/Helsinki"
            ),
            Some("near")
        );
        assert_eq!(
            stage(
                deadline,
                at("2027-03-09T22:00:00Z"),
                lead,
                "Europe/Helsinki"
            ),
            Some("day")
        );
        assert_eq!(
            stage(
                deadline,
                at("2027-03-10T10:00:00Z"),
                lead,
                "Europe/Helsinki"
            ),
            None
        );
        // In New York the deadline day starts later.
        assert_eq!(
            stage(
                deadline,
                at("2027-03-09T22:00:00Z"),
                lead,
                "America/New_York"
            ),
            Some("near")
        );
    }
}
