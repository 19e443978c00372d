//! What the GDPR asks of the directory: a person downloads everything the service holds about
//! them, and an administrator erases a person.
//!
//! Erasure keeps the user row (what the person wrote for their community keeps its place and
//! its answers stay) but removes who they were: name and address are replaced, their sign-in
//! means, roles, follows, registrations and emails are deleted, and their name and address are
//! blanked out of the email payloads, received mail and audit entries that carried them.

use chrono::Utc;
use entity::{
    access_token, agenda_item, agenda_support, announcement, audit_entry, community_plan,
    community_plan_revision, delivery, digest_state, event, idempotency_key, inbound_mail, inquiry,
    inquiry_answer_revision, inquiry_message, inquiry_target, login_failure, membership, news_post,
    project, project_member, project_update, question, sign_in_link, tip, topic_subscription,
    training, training_registration, user,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit::service as audit;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};

/// The name an erased person is shown under (the same in every language).
pub const ERASED_NAME: &str = "—";

/// The rows of `E` whose `column` is this user, as JSON without secrets.
async fn rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    user_id: Uuid,
) -> AppResult<Value> {
    audit::snapshot_rows(db, E::find().filter(column.eq(user_id))).await
}

/// Everything the service holds about a user, as one JSON document: the account (without the
/// password hash), roles, follows, sign-in sessions, what they wrote, the events they caused,
/// the emails sent to them and the administrators' actions on their account.
#[tracing::instrument(skip_all)]
pub async fn export(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Value> {
    let account = audit::snapshot::<user::Entity>(db, user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let mut out = Map::new();
    out.insert("exportedAt".into(), json!(Utc::now()));
    out.insert("account".into(), account);
    let sections = [
        (
            "memberships",
            rows::<membership::Entity>(db, membership::Column::UserId, user_id).await?,
        ),
        (
            "topicSubscriptions",
            rows::<topic_subscription::Entity>(db, topic_subscription::Column::UserId, user_id)
                .await?,
        ),
        (
            "digestState",
            rows::<digest_state::Entity>(db, digest_state::Column::UserId, user_id).await?,
        ),
        (
            "sessions",
            rows::<access_token::Entity>(db, access_token::Column::UserId, user_id).await?,
        ),
        (
            "signInLinks",
            rows::<sign_in_link::Entity>(db, sign_in_link::Column::UserId, user_id).await?,
        ),
        (
            "inquiries",
            rows::<inquiry::Entity>(db, inquiry::Column::AuthorId, user_id).await?,
        ),
        (
            "inquiryMessages",
            rows::<inquiry_message::Entity>(db, inquiry_message::Column::AuthorId, user_id).await?,
        ),
        (
            "inquiryAnswers",
            rows::<inquiry_target::Entity>(db, inquiry_target::Column::AnsweredBy, user_id).await?,
        ),
        (
            "inquiryAnswerRevisions",
            audit::snapshot_rows(
                db,
                inquiry_answer_revision::Entity::find()
                    .filter(inquiry_answer_revision::Column::AuthorId.eq(user_id)),
            )
            .await?,
        ),
        (
            "questions",
            audit::snapshot_rows(
                db,
                question::Entity::find().filter(
                    Condition::any()
                        .add(question::Column::AskerId.eq(user_id))
                        .add(question::Column::ForwardedBy.eq(user_id))
                        .add(question::Column::AnsweredBy.eq(user_id))
                        .add(question::Column::ClosedBy.eq(user_id))
                        .add(question::Column::DecidedBy.eq(user_id)),
                ),
            )
            .await?,
        ),
        (
            "newsPosts",
            rows::<news_post::Entity>(db, news_post::Column::AuthorId, user_id).await?,
        ),
        (
            "tips",
            rows::<tip::Entity>(db, tip::Column::AuthorId, user_id).await?,
        ),
        (
            "communityPlans",
            rows::<community_plan::Entity>(db, community_plan::Column::AuthorId, user_id).await?,
        ),
        (
            "communityPlanRevisions",
            rows::<community_plan_revision::Entity>(
                db,
                community_plan_revision::Column::AuthorId,
                user_id,
            )
            .await?,
        ),
        (
            "agendaItems",
            rows::<agenda_item::Entity>(db, agenda_item::Column::ProposedBy, user_id).await?,
        ),
        (
            "agendaSupport",
            rows::<agenda_support::Entity>(db, agenda_support::Column::UserId, user_id).await?,
        ),
        (
            "announcements",
            rows::<announcement::Entity>(db, announcement::Column::AuthorId, user_id).await?,
        ),
        (
            "trainings",
            audit::snapshot_rows(
                db,
                training::Entity::find().filter(
                    Condition::any()
                        .add(training::Column::CreatedBy.eq(user_id))
                        .add(training::Column::OrganizerId.eq(user_id)),
                ),
            )
            .await?,
        ),
        (
            "trainingRegistrations",
            rows::<training_registration::Entity>(
                db,
                training_registration::Column::UserId,
                user_id,
            )
            .await?,
        ),
        (
            "projects",
            rows::<project::Entity>(db, project::Column::CreatedBy, user_id).await?,
        ),
        (
            "projectMemberships",
            rows::<project_member::Entity>(db, project_member::Column::UserId, user_id).await?,
        ),
        (
            "projectUpdates",
            rows::<project_update::Entity>(db, project_update::Column::AuthorId, user_id).await?,
        ),
        (
            "emails",
            audit::snapshot_rows(
                db,
                delivery::Entity::find()
                    .filter(delivery::Column::RecipientId.eq(user_id))
                    .order_by_asc(delivery::Column::Id),
            )
            .await?,
        ),
        (
            "events",
            audit::snapshot_rows(
                db,
                event::Entity::find()
                    .filter(event::Column::ActorId.eq(user_id))
                    .order_by_asc(event::Column::Seq),
            )
            .await?,
        ),
        (
            "administratorActions",
            audit::snapshot_rows(
                db,
                audit_entry::Entity::find()
                    .filter(audit_entry::Column::SubjectId.eq(user_id))
                    .order_by_asc(audit_entry::Column::Id),
            )
            .await?,
        ),
    ];
    for (name, value) in sections {
        out.insert(name.into(), value);
    }
    Ok(Value::Object(out))
}

/// Blanks every occurrence of the needles out of a JSON value's strings (keys too).
fn blank_out(value: &mut Value, needles: &[String]) -> bool {
    let mut changed = false;
    match value {
        Value::String(text) => {
            if let Some(new) = blank_text(text, needles) {
                *text = new;
                changed = true;
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= blank_out(item, needles);
            }
        }
        Value::Object(fields) => {
            let old = std::mem::take(fields);
            for (key, mut item) in old {
                changed |= blank_out(&mut item, needles);
                let key = match blank_text(&key, needles) {
                    Some(new) => {
                        changed = true;
                        new
                    }
                    None => key,
                };
                fields.insert(key, item);
            }
        }
        _ => {}
    }
    changed
}

/// The text with every needle (any case) replaced by [`ERASED_NAME`]; `None` if none occurs.
fn blank_text(text: &str, needles: &[String]) -> Option<String> {
    let mut out = text.to_owned();
    let mut changed = false;
    for needle in needles.iter().filter(|n| !n.is_empty()) {
        loop {
            let lower = out.to_lowercase();
            // Lower-casing may change byte lengths outside ASCII; search the lowered text and
            // cut the same range only when it is a char boundary of the original.
            let Some(at) = lower.find(needle.as_str()) else {
                break;
            };
            let end = at + needle.len();
            if lower.len() != out.len() || !out.is_char_boundary(at) || !out.is_char_boundary(end) {
                // Different byte layout: fall back to an exact-case replacement.
                if !out.contains(needle.as_str()) {
                    break;
                }
                out = out.replace(needle.as_str(), ERASED_NAME);
                changed = true;
                break;
            }
            out.replace_range(at..end, ERASED_NAME);
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Erases a person's personal data (see the module). Deactivates them first when they are
/// active, so that their sessions and sockets end on every instance.
#[tracing::instrument(skip_all)]
pub async fn erase(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    user_id: Uuid,
) -> AppResult<(user::Model, Vec<event::Model>)> {
    let found = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if found.erased_at.is_some() {
        return Err(AppError::conflict(None, "The person is erased already."));
    }
    let mut events = Vec::new();
    if found.deactivated_at.is_none() {
        let (_, event) = super::service::deactivate_user(db, actor, user_id).await?;
        events.push(event);
    }
    let needles: Vec<String> = [found.email.clone(), found.display_name.clone()]
        .into_iter()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| n.chars().count() >= 3)
        .collect();
    let now = Utc::now();
    let user = user::ActiveModel {
        id: Set(user_id),
        email: Set(format!("erased-{}@erased.invalid", user_id.simple())),
        display_name: Set(ERASED_NAME.to_owned()),
        password_hash: Set(None),
        oidc_subject: Set(None),
        email_suspended_at: Set(None),
        erased_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;

    access_token::Entity::delete_many()
        .filter(access_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    sign_in_link::Entity::delete_many()
        .filter(sign_in_link::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    digest_state::Entity::delete_many()
        .filter(digest_state::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    topic_subscription::Entity::delete_many()
        .filter(topic_subscription::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    agenda_support::Entity::delete_many()
        .filter(agenda_support::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    project_member::Entity::delete_many()
        .filter(project_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    training_registration::Entity::delete_many()
        .filter(training_registration::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Key.eq(format!("email:{}", found.email)))
        .exec(db)
        .await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::RecipientId.eq(user_id))
        .exec(db)
        .await?;
    inbound_mail::Entity::delete_many()
        .filter(
            Expr::expr(Func::lower(Expr::col(inbound_mail::Column::Sender)))
                .eq(found.email.as_str()),
        )
        .exec(db)
        .await?;

    // Emails to others, received mail and audit entries that carried the name or address.
    for needle in &needles {
        // `_` and `%` in a needle only widen the match; the blanking below is exact.
        let pattern = format!("%{needle}%");
        let emails = delivery::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(
                            Expr::col(delivery::Column::Payload).cast_as("text"),
                        ))
                        .like(pattern.as_str()),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(delivery::Column::ReplyTo)))
                            .like(pattern.as_str()),
                    ),
            )
            .all(db)
            .await?;
        for row in emails {
            let mut payload = row.payload;
            blank_out(&mut payload, &needles);
            delivery::ActiveModel {
                id: Set(row.id),
                payload: Set(payload),
                reply_to: Set(row.reply_to.map(|r| blank_text(&r, &needles).unwrap_or(r))),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
        let entries = audit_entry::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(audit_entry::Column::Before)))
                            .like(pattern.as_str()),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(audit_entry::Column::After)))
                            .like(pattern.as_str()),
                    ),
            )
            .all(db)
            .await?;
        for row in entries {
            let blank = |text: Option<String>| {
                text.map(|t| match serde_json::from_str::<Value>(&t) {
                    Ok(mut value) => {
                        blank_out(&mut value, &needles);
                        value.to_string()
                    }
                    Err(_) => blank_text(&t, &needles).unwrap_or(t),
                })
            };
            audit_entry::ActiveModel {
                id: Set(row.id),
                before: Set(blank(row.before)),
                after: Set(blank(row.after)),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
        let received = inbound_mail::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(inbound_mail::Column::Detail)))
                            .like(pattern.as_str()),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(inbound_mail::Column::Address)))
                            .like(pattern.as_str()),
                    ),
            )
            .all(db)
            .await?;
        for row in received {
            inbound_mail::ActiveModel {
                id: Set(row.id),
                address: Set(blank_text(&row.address, &needles).unwrap_or(row.address)),
                detail: Set(row.detail.map(|d| blank_text(&d, &needles).unwrap_or(d))),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }

    events.push(
        append_event(
            db,
            NewEvent {
                kind: EventKind::UserUpdated,
                actor_id: actor,
                subject_id: user_id,
                object_id: None,
                organization_ids: vec![],
                topic_ids: vec![],
                audience: vec![Reader::User { id: user_id }],
            },
        )
        .await?,
    );
    Ok((user, events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blanks_names_and_addresses_anywhere_in_a_payload() {
        let mut value = json!({
            "to": "Aino Virtanen <aino.virtanen@uni.test>",
            "items": [{ "by": "AINO VIRTANEN" }, 3, null],
            "aino.virtanen@uni.test": true,
        });
        let needles = vec![
            "aino virtanen".to_owned(),
            "aino.virtanen@uni.test".to_owned(),
        ];
        assert!(blank_out(&mut value, &needles));
        let text = value.to_string().to_lowercase();
        assert!(!text.contains("aino"), "{text}");
        assert!(!blank_out(&mut value, &needles));
    }

    proptest! {
        #[test]
        fn blanking_never_panics_and_leaves_no_needle(text in "\\PC{0,40}", needle in "\\PC{3,8}") {
            let needle = needle.to_lowercase();
            let out = blank_text(&text, std::slice::from_ref(&needle)).unwrap_or(text.clone());
            if text.to_lowercase().len() == text.len() {
                prop_assert!(!out.to_lowercase().contains(&needle) || needle.contains(ERASED_NAME));
            }
        }
    }
}
