//! Who is emailed at once about which event (DESIGN.md §5, immediate column).
//!
//! | event                     | template              | recipients                                   |
//! |---------------------------|-----------------------|----------------------------------------------|
//! | `inquiry.published`       | `inquiry_published`   | mentors of every addressed community         |
//! | `inquiry.answered`        | `inquiry_answered`    | the inquirer and its organization's leads/contacts |
//! |                           | `inquiry_comentor`    | the community's other mentors                |
//! | `inquiry.declined`        | `inquiry_declined`    | the inquirer and its organization's leads/contacts |
//! |                           | `inquiry_comentor`    | the community's other mentors                |
//! | `inquiry.closed`          | `inquiry_closed`      | mentors of communities that had not answered |
//! |                           | `inquiry_summary`     | the inquiry's author (also when they closed it) |
//! | `inquiry.message_posted`  | `inquiry_message`     | the other side of that slot                  |
//! | `question.submitted`      | `question_submitted`  | mentors of the asker's community             |
//! | `question.forwarded`      | `question_forwarded`  | contacts of the service unit                 |
//! | `question.answered`       | `question_answered`   | the asker and the mentor who forwarded it    |
//! | `meeting.scheduled`/`updated`/`cancelled` | `meeting_invitation` (`.ics` attached: `REQUEST`, or `CANCEL`) | every mentor |
//! | `training.registered`/`unregistered`/`promoted` | `training` (`.ics`: `REQUEST`, or `CANCEL` for a place given up) | the registrant (their own action too) |
//! | `training.updated`/`cancelled` | `training` (`.ics` for those with a place) | everyone registered or waiting |
//! | `project.created`         | `project`             | the coordinators named (not the creator)     |
//! | `project.member_joined`   | `project`             | the coordinators (someone joined), or the person added |
//! | `project.progress_posted` | `project`             | the project's people (not the author)        |
//! | `project.outcome_promoted`| `project`             | the update's author (a link to the tip)      |
//! | `user.password_changed`   | `password_changed`    | the account's owner (their own action too: a security notice) |
//! | `user.created`            | `account_created`     | the new account's owner, when it has no password yet (a link to set one) |
//!
//! Nobody is emailed about their own action, and one person gets one email per event however
//! many of the rules' groups they belong to. Deadline reminders are planned in
//! [`super::reminders`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::membership::Role;
use entity::{
    agenda_item, agenda_support, announcement, announcement_target, event, inquiry,
    inquiry_message, inquiry_target, meeting, membership, organization, project, question,
    training, user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::items::items_for;
use super::payloads::{
    AccountCreatedMail, AgendaItemMail, AnnouncementMail, InquiryMail, InquirySummaryMail,
    ListHeaders, MeetingChange, MeetingMail, PasswordChangedMail, ProjectMail, QuestionMail,
    SummaryAnswer, TopicItemMail, TrainingMail, to_payload,
};
use super::{MailContext, Template};
use crate::auth::Viewer;
use crate::auth::links::{LinkPurpose, create_link};
use crate::auth::service::grants_by_user;
use crate::error::{AppError, AppResult};
use crate::events::PublishedEvent;
use crate::events::kinds::{self, EventKind};
use crate::meetings::ical::Attendee;
use crate::meetings::service::MeetingSnapshot;
use crate::subscriptions::token::Scope;
use entity::partner_network;
use entity::topic;
use entity::topic_subscription::{self, Frequency};

/// Which email each kind of event sends to the people its rule names (the recipients are worked
/// out in [`by_rule`]); `None` sends nothing by rule (topic subscribers may still hear of it).
/// Exhaustive: a new kind does not compile until its emails are decided here.
pub fn emails_for(kind: EventKind) -> Option<Template> {
    use EventKind as K;
    match kind {
        K::InquiryPublished => Some(Template::InquiryPublished),
        K::InquiryAnswered => Some(Template::InquiryAnswered),
        K::InquiryDeclined => Some(Template::InquiryDeclined),
        K::InquiryMessagePosted => Some(Template::InquiryMessage),
        K::QuestionSubmitted => Some(Template::QuestionSubmitted),
        K::QuestionForwarded => Some(Template::QuestionForwarded),
        K::QuestionAnswered => Some(Template::QuestionAnswered),
        K::QuestionClosed => Some(Template::QuestionClosed),
        K::QuestionDecided => Some(Template::QuestionDecided),
        K::MeetingScheduled | K::MeetingUpdated | K::MeetingCancelled => {
            Some(Template::MeetingInvitation)
        }
        K::InquiryClosed => Some(Template::InquiryClosed),
        K::UserPasswordChanged => Some(Template::PasswordChanged),
        K::UserCreated => Some(Template::AccountCreated),
        K::OrganizationCreated
        | K::OrganizationUpdated
        | K::UserLoggedOut
        // A deactivated person is emailed nothing, this included.
        | K::UserDeactivated
        | K::UserReactivated
        // They signed in already; nothing to tell them by email.
        | K::UserJoined
        | K::UserUpdated
        | K::MembershipAdded
        | K::MembershipRemoved
        | K::TopicCreated
        | K::TopicUpdated
        | K::TopicMerged
        | K::InquiryCreated
        | K::InquiryDraftUpdated
        | K::NewsPublished
        | K::NewsUpdated
        | K::NewsUnpublished
        | K::TipCreated
        | K::TipUpdated
        | K::CommunityPlanSet
        | K::PartnerCreated
        | K::PartnerUpdated
        | K::AgendaItemSupported
        | K::AgendaItemUnsupported
        | K::AgendaSet => None,
        K::AgendaItemProposed | K::AgendaItemPlaced => Some(Template::AgendaItem),
        K::AnnouncementPublished | K::AnnouncementRelayed => Some(Template::Announcement),
        // A new training reaches its topics' subscribers; the rest concern its registrants.
        K::TrainingScheduled => None,
        K::TrainingUpdated
        | K::TrainingCancelled
        | K::TrainingRegistered
        | K::TrainingUnregistered
        | K::TrainingPromoted => Some(Template::Training),
        K::ProjectCreated
        | K::ProjectMemberJoined
        | K::ProjectProgressPosted
        | K::ProjectOutcomePromoted => Some(Template::Project),
        K::ProjectUpdated | K::ProjectMemberLeft => None,
    }
}

/// One email to insert into the outbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Unique per recipient and reason; a second insert with the same key is ignored.
    pub dedupe_key: String,
    pub recipient: user::Model,
    pub template: Template,
    pub thread_id: Option<Uuid>,
    pub payload: Value,
    pub reply_to: Option<String>,
    pub event_id: Option<Uuid>,
}

/// The facts of one email, before they are put in a recipient's language.
pub struct Letter {
    pub template: Template,
    pub thread_id: Uuid,
    pub facts: Facts,
    pub reply_to: Option<String>,
}

/// The typed payload of each email kind planned by rule, with what is localized per recipient:
/// organization names in their language, times in their zone.
pub enum Facts {
    Inquiry {
        mail: InquiryMail,
        inquirer: organization::Model,
        community: Option<organization::Model>,
        deadline: Option<DateTime<Utc>>,
    },
    Question {
        mail: QuestionMail,
        community: organization::Model,
        service_unit: Option<organization::Model>,
    },
    Meeting {
        mail: MeetingMail,
        starts_at: DateTime<Utc>,
        /// An update of one meeting: what it was, and what it is now.
        change: Option<(MeetingSnapshot, MeetingSnapshot)>,
        /// Each meeting with its page, for the calendar each recipient is sent.
        meetings: Vec<(meeting::Model, String)>,
        /// The UIDs' domain and the calendars' `ORGANIZER`.
        domain: String,
        organizer: String,
    },
}

impl Letter {
    /// An inquiry email's payload for one recipient (reminders add their stage to it).
    pub fn inquiry_for(&self, recipient: &user::Model) -> Option<InquiryMail> {
        let Facts::Inquiry {
            mail,
            inquirer,
            community,
            deadline,
        } = &self.facts
        else {
            return None;
        };
        let locale = recipient.locale;
        Some(InquiryMail {
            inquirer: localized_name(inquirer, locale).to_owned(),
            community: community
                .as_ref()
                .map(|c| localized_name(c, locale).to_owned()),
            deadline: deadline.map(|d| local_time(d, &recipient.time_zone, locale)),
            ..mail.clone()
        })
    }

    /// The template data for one recipient: localized names and times.
    pub fn payload_for(&self, recipient: &user::Model) -> Value {
        let locale = recipient.locale;
        match &self.facts {
            Facts::Inquiry { .. } => to_payload(&self.inquiry_for(recipient)),
            Facts::Question {
                mail,
                community,
                service_unit,
            } => to_payload(&QuestionMail {
                community: localized_name(community, locale).to_owned(),
                service_unit: service_unit
                    .as_ref()
                    .map(|u| localized_name(u, locale).to_owned()),
                ..mail.clone()
            }),
            Facts::Meeting {
                mail,
                starts_at,
                change,
                meetings,
                domain,
                organizer,
            } => to_payload(&MeetingMail {
                starts: local_time(*starts_at, &recipient.time_zone, locale),
                changes: change
                    .as_ref()
                    .map(|(before, after)| meeting_changes(before, after, recipient))
                    .unwrap_or_default(),
                calendars: meetings
                    .iter()
                    .map(|(meeting, link)| {
                        crate::meetings::ical::invitation(
                            meeting,
                            domain,
                            link,
                            organizer,
                            Attendee {
                                name: &recipient.display_name,
                                email: &recipient.email,
                            },
                        )
                    })
                    .collect(),
                ..mail.clone()
            }),
        }
    }

    /// Deliveries of this letter to each recipient once, skipping the actor.
    pub fn to(
        self,
        recipients: Vec<user::Model>,
        actor: Option<Uuid>,
        reason: &str,
        event_id: Option<Uuid>,
    ) -> Vec<NewDelivery> {
        let unique: BTreeMap<Uuid, user::Model> = recipients
            .into_iter()
            .filter(|u| Some(u.id) != actor)
            .map(|u| (u.id, u))
            .collect();
        unique
            .into_values()
            .map(|recipient| NewDelivery {
                dedupe_key: format!("{reason}:{}", recipient.id),
                payload: self.payload_for(&recipient),
                recipient,
                template: self.template,
                thread_id: Some(self.thread_id),
                reply_to: self.reply_to.clone(),
                event_id,
            })
            .collect()
    }
}

/// What changed between two versions of a meeting, for one reader.
fn meeting_changes(
    before: &MeetingSnapshot,
    after: &MeetingSnapshot,
    reader: &user::Model,
) -> Vec<MeetingChange> {
    let time = |at| local_time(at, &reader.time_zone, reader.locale);
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "–".to_owned());
    let mut changes = Vec::new();
    let mut push = |what: &str, old: String, new: String| {
        if old != new {
            changes.push(MeetingChange {
                what: what.to_owned(),
                before: old,
                after: new,
            });
        }
    };
    push("title", before.title.clone(), after.title.clone());
    push("time", time(before.starts_at), time(after.starts_at));
    push("end", time(before.ends_at), time(after.ends_at));
    push("place", text(&before.place), text(&after.place));
    push("online", text(&before.online_url), text(&after.online_url));
    changes
}

pub fn localized_name(org: &organization::Model, locale: entity::user::Locale) -> &str {
    match locale {
        entity::user::Locale::Fi => &org.name_fi,
        entity::user::Locale::Sv => &org.name_sv,
        entity::user::Locale::En => &org.name_en,
    }
}

/// `2027-01-31 14:00 (Europe/Helsinki)` in the recipient's zone.
pub fn local_time(at: DateTime<Utc>, zone: &str, locale: user::Locale) -> String {
    crate::values::time::reader_time(at, crate::values::time::zone_or_helsinki(zone), locale)
}

/// The deliveries an event calls for: its rule's recipients first, then `immediate` topic
/// subscribers who may read it. Both use the key `event:<event>:<user>`, so a person in both
/// groups gets one email.
pub async fn plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    let mut planned = by_rule(db, ctx, event).await?;
    planned.extend(immediate_subscribers(db, ctx, event).await?);
    Ok(planned)
}

/// `immediate` subscribers of the event's topics who may read it, one email each.
async fn immediate_subscribers(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    let topics = crate::events::service::ids(&event.topic_ids);
    if topics.is_empty() || !EventKind::parse(&event.kind).is_some_and(EventKind::followed_by_topic)
    {
        return Ok(Vec::new());
    }
    let subscriptions = topic_subscription::Entity::find()
        .filter(topic_subscription::Column::TopicId.is_in(topics))
        .filter(topic_subscription::Column::Frequency.eq(Frequency::Immediate))
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    if subscriptions.is_empty() {
        return Ok(Vec::new());
    }
    let Some(item) = items_for(db, ctx, std::slice::from_ref(event))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Vec::new());
    };
    let topic_models: std::collections::HashMap<Uuid, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(subscriptions.iter().map(|(s, _)| s.topic_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let users: Vec<Uuid> = subscriptions.iter().map(|(s, _)| s.user_id).collect();
    let mut grants = grants_by_user(db, &users).await?;
    let published = PublishedEvent::new(event.clone());
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (subscription, user) in subscriptions {
        let (Some(user), Some(topic)) = (user, topic_models.get(&subscription.topic_id)) else {
            continue;
        };
        if Some(user.id) == event.actor_id || !seen.insert(user.id) {
            continue;
        }
        let viewer = Viewer {
            grants: grants.remove(&user.id).unwrap_or_default(),
            user,
            token_id: Uuid::nil(),
        };
        if !published.readable_by(Some(&viewer)) {
            continue;
        }
        let user = viewer.user;
        out.push(NewDelivery {
            dedupe_key: format!("event:{}:{}", event.id, user.id),
            payload: to_payload(&TopicItemMail {
                topic: topic_name(topic, user.locale).to_owned(),
                item: item.line(user.locale, None),
                list: ListHeaders {
                    list_id: format!("{}.topics.{}", topic.slug, ctx.domain()),
                    unsubscribe_url: ctx.unsubscribe_url(user.id, Scope::Topic(topic.id)),
                },
            }),
            recipient: user,
            template: Template::TopicItem,
            thread_id: None,
            reply_to: None,
            event_id: Some(event.id),
        });
    }
    Ok(out)
}

/// A topic's name in the reader's language.
pub fn topic_name(topic: &topic::Model, locale: entity::user::Locale) -> &str {
    match locale {
        entity::user::Locale::Fi => &topic.name_fi,
        entity::user::Locale::Sv => &topic.name_sv,
        entity::user::Locale::En => &topic.name_en,
    }
}

/// The deliveries of the event's rule ([`emails_for`]).
async fn by_rule(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    let Some(template) = EventKind::parse(&event.kind).and_then(emails_for) else {
        return Ok(Vec::new());
    };
    let actor = event.actor_id;
    let reason = format!("event:{}", event.id);
    let mut extra = Vec::new();
    // Letter::to keys each delivery `event:<event>:<user>`, like the topic emails.
    let (letter, recipients) = match template {
        Template::InquiryPublished => {
            let inquiry = find_inquiry(db, event.subject_id).await?;
            let communities = slots(db, inquiry.id)
                .await?
                .into_iter()
                .map(|s| s.community_id)
                .collect::<Vec<_>>();
            (
                inquiry_letter(db, template, &inquiry, None).await?,
                people_with(db, &communities, &[Role::Mentor]).await?,
            )
        }
        Template::InquiryAnswered | Template::InquiryDeclined => {
            let inquiry = find_inquiry(db, event.subject_id).await?;
            let slot = find_slot(db, event.object_id).await?;
            let mut letter = inquiry_letter(db, template, &inquiry, Some(&slot)).await?;
            let mentors = people_with(db, &[slot.community_id], &[Role::Mentor]).await?;
            letter.reply_to = emails(&mentors);
            // The community's other mentors hear what a co-mentor said for them.
            let mut told =
                inquiry_letter(db, Template::InquiryCoMentor, &inquiry, Some(&slot)).await?;
            if let Facts::Inquiry { mail, .. } = &mut told.facts {
                if template == Template::InquiryAnswered {
                    mail.reason = None;
                } else {
                    mail.answer = None;
                }
            }
            extra.extend(told.to(mentors, actor, &reason, Some(event.id)));
            (letter, inquirer_side(db, &inquiry).await?)
        }
        Template::InquiryClosed => {
            let inquiry = find_inquiry(db, event.subject_id).await?;
            let all = slots(db, inquiry.id).await?;
            let pending: Vec<Uuid> = all
                .iter()
                .filter(|s| s.status == inquiry_target::TargetStatus::Pending)
                .map(|s| s.community_id)
                .collect();
            let mut letter = inquiry_letter(db, template, &inquiry, None).await?;
            if let (Facts::Inquiry { mail, .. }, Some(by)) = (&mut letter.facts, actor) {
                mail.closed_by = Some(find_user(db, by).await?.display_name);
            }
            extra.push(summary(db, event, &inquiry, &all).await?);
            (letter, people_with(db, &pending, &[Role::Mentor]).await?)
        }
        Template::PasswordChanged => {
            let user = find_user(db, event.subject_id).await?;
            return Ok(vec![NewDelivery {
                dedupe_key: format!("{reason}:{}", user.id),
                payload: to_payload(&PasswordChangedMail {
                    email: user.email.clone(),
                    when: local_time(event.created_at, &user.time_zone, user.locale),
                    link: ctx.link("sign-in"),
                }),
                recipient: user,
                template,
                thread_id: None,
                reply_to: None,
                event_id: Some(event.id),
            }]);
        }
        Template::AgendaItem => return agenda_plan(db, ctx, event).await,
        Template::Announcement => return announcement_plan(db, ctx, event).await,
        Template::Training => return training_plan(db, ctx, event).await,
        Template::Project => return project_plan(db, ctx, event).await,
        Template::AccountCreated => {
            let user = find_user(db, event.subject_id).await?;
            if user.password_hash.is_some() {
                // Whoever gave the password tells it; there is nothing to set.
                return Ok(Vec::new());
            }
            let purpose = LinkPurpose::SetPassword;
            let (token, _) = create_link(db, user.id, "/", purpose).await?;
            return Ok(vec![NewDelivery {
                dedupe_key: format!("{reason}:{}", user.id),
                payload: to_payload(&AccountCreatedMail {
                    email: user.email.clone(),
                    link: ctx.link(&format!("set-password/{token}")),
                    days: purpose.ttl().num_days(),
                }),
                recipient: user,
                template,
                thread_id: None,
                reply_to: None,
                event_id: Some(event.id),
            }]);
        }
        Template::InquiryMessage => {
            let inquiry = find_inquiry(db, event.subject_id).await?;
            let message = inquiry_message::Entity::find_by_id(event.object_id.unwrap_or_default())
                .one(db)
                .await?
                .ok_or(AppError::NotFound("message"))?;
            let slot = find_slot(db, Some(message.target_id)).await?;
            let author = find_user(db, message.author_id).await?;
            let mut letter = inquiry_letter(db, template, &inquiry, Some(&slot)).await?;
            if let Facts::Inquiry { mail, .. } = &mut letter.facts {
                mail.message = Some(message.body.clone());
                mail.message_author = Some(author.display_name.clone());
            }
            letter.reply_to = Some(author.email.clone());
            let other_side = if message.organization_id == inquiry.organization_id {
                people_with(db, &[slot.community_id], &[Role::Mentor]).await?
            } else {
                inquirer_side(db, &inquiry).await?
            };
            (letter, other_side)
        }
        Template::QuestionSubmitted
        | Template::QuestionForwarded
        | Template::QuestionAnswered
        | Template::QuestionClosed
        | Template::QuestionDecided => {
            let q = question::Entity::find_by_id(event.subject_id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound("question"))?;
            question_plan(db, ctx, template, &q).await?
        }
        Template::MeetingInvitation => {
            let meetings = crate::meetings::service::of_event(db, event).await?;
            let Some(first) = meetings.first() else {
                return Ok(Vec::new());
            };
            let letter = Letter {
                template,
                thread_id: first.id,
                facts: Facts::Meeting {
                    mail: MeetingMail {
                        title: first.title.clone(),
                        agenda: first.agenda.clone(),
                        place: first.place.clone(),
                        online_url: first.online_url.clone(),
                        count: meetings.len(),
                        updated: event.kind == kinds::MEETING_UPDATED,
                        cancelled: event.kind == kinds::MEETING_CANCELLED,
                        reason: first.cancel_reason.clone(),
                        partner: match first.partner_id {
                            Some(id) => partner_network::Entity::find_by_id(id)
                                .one(db)
                                .await?
                                .map(|p| p.name),
                            None => None,
                        },
                        starts: String::new(),
                        calendars: Vec::new(),
                        changes: Vec::new(),
                    },
                    starts_at: first.starts_at,
                    change: (event.kind == kinds::MEETING_UPDATED && meetings.len() == 1)
                        .then(|| MeetingSnapshot::previous(first))
                        .flatten()
                        .map(|before| (before, MeetingSnapshot::of(first))),
                    meetings: meetings
                        .iter()
                        .map(|m| (m.clone(), ctx.link(&format!("meetings/{}", m.id))))
                        .collect(),
                    domain: ctx.domain().to_owned(),
                    organizer: ctx.organizer.clone(),
                },
                reply_to: None,
            };
            let mentors = membership::Entity::find()
                .filter(membership::Column::Role.eq(Role::Mentor))
                .find_also_related(user::Entity)
                .all(db)
                .await?
                .into_iter()
                .filter_map(|(_, u)| u)
                .collect();
            (letter, mentors)
        }
        Template::InquiryReminder
        | Template::TopicItem
        | Template::Digest
        | Template::SignInLink
        | Template::PasswordReset
        | Template::InquirySummary
        | Template::InquiryCoMentor
        | Template::ReplyRecorded
        | Template::ReplyRefused => return Ok(Vec::new()),
    };
    let mut planned = letter.to(recipients, actor, &reason, Some(event.id));
    planned.extend(extra);
    Ok(planned)
}

/// The author's summary of a closed inquiry: coverage and every community's answer, in the
/// author's language (sent also when they closed it themselves: it is their record).
async fn summary(
    db: &impl ConnectionTrait,
    event: &event::Model,
    inquiry: &inquiry::Model,
    slots: &[inquiry_target::Model],
) -> AppResult<NewDelivery> {
    use inquiry_target::TargetStatus;
    let author = find_user(db, inquiry.author_id).await?;
    let names: std::collections::HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(slots.iter().map(|s| s.community_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let count = |status: TargetStatus| slots.iter().filter(|s| s.status == status).count();
    let mut answers: Vec<SummaryAnswer> = slots
        .iter()
        .map(|slot| SummaryAnswer {
            community: names
                .get(&slot.community_id)
                .map(|o| localized_name(o, author.locale).to_owned())
                .unwrap_or_default(),
            status: match slot.status {
                TargetStatus::Answered => "answered",
                TargetStatus::Declined => "declined",
                TargetStatus::Pending => "pending",
            }
            .to_owned(),
            text: match slot.status {
                TargetStatus::Answered => slot.answer.clone(),
                TargetStatus::Declined => slot.decline_reason.clone(),
                TargetStatus::Pending => None,
            },
        })
        .collect();
    answers.sort_by(|a, b| a.community.cmp(&b.community));
    Ok(NewDelivery {
        dedupe_key: format!("event:{}:summary:{}", event.id, author.id),
        payload: to_payload(&InquirySummaryMail {
            title: inquiry.title.clone(),
            total: slots.len(),
            answered: count(TargetStatus::Answered),
            declined: count(TargetStatus::Declined),
            pending: count(TargetStatus::Pending),
            answers,
        }),
        recipient: author,
        template: Template::InquirySummary,
        thread_id: Some(inquiry.id),
        reply_to: None,
        event_id: Some(event.id),
    })
}

async fn question_plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    template: Template,
    q: &question::Model,
) -> AppResult<(Letter, Vec<user::Model>)> {
    let asker = find_user(db, q.asker_id).await?;
    let community = find_org(db, q.community_id).await?;
    let service_unit = match q.service_unit_id {
        Some(unit) => Some(find_org(db, unit).await?),
        None => None,
    };
    let hide_asker = q.hide_asker && template == Template::QuestionForwarded;
    let mut mail = QuestionMail {
        title: q.title.clone(),
        body: q.body.clone(),
        note: q.forward_note.clone(),
        answer: q.answer.clone(),
        asker: (!hide_asker).then(|| asker.display_name.clone()),
        kind: kind_name(q.kind).to_owned(),
        ..QuestionMail::default()
    };
    let (recipients, reply_to) = match template {
        Template::QuestionSubmitted => (
            people_with(db, &[q.community_id], &[Role::Mentor]).await?,
            Some(asker.email.clone()),
        ),
        Template::QuestionForwarded => {
            let unit = q.service_unit_id.unwrap_or_default();
            let mentor = find_user(db, q.forwarded_by.unwrap_or_default()).await?;
            (
                people_with(db, &[unit], &[Role::Contact]).await?,
                Some(mentor.email),
            )
        }
        Template::QuestionClosed => {
            // To the asker: who closed it, why, and the earlier question it duplicates.
            let closer = find_user(db, q.closed_by.unwrap_or_default()).await?;
            mail.closed_by = Some(closer.display_name.clone());
            mail.close_reason = q.close_reason.clone();
            mail.duplicate_link = q
                .duplicate_of
                .map(|dup| ctx.link(&format!("questions/{dup}")));
            (vec![asker.clone()], Some(closer.email))
        }
        Template::QuestionDecided => {
            // To the asker and every mentor of the community: what the unit decided, and why.
            let decider = find_user(db, q.decided_by.unwrap_or_default()).await?;
            mail.decided_by = Some(decider.display_name.clone());
            mail.decision = q.decision.map(|d| decision_name(d).to_owned());
            mail.decision_reason = q.decision_reason.clone();
            let mut recipients = vec![asker.clone()];
            recipients.extend(people_with(db, &[q.community_id], &[Role::Mentor]).await?);
            (recipients, Some(decider.email))
        }
        _ => {
            let answerer = find_user(db, q.answered_by.unwrap_or_default()).await?;
            mail.answered_by = Some(answerer.display_name.clone());
            let mut recipients = vec![asker.clone()];
            if let Some(mentor) = q.forwarded_by {
                recipients.push(find_user(db, mentor).await?);
            }
            (recipients, Some(answerer.email))
        }
    };
    let letter = Letter {
        template,
        thread_id: q.id,
        facts: Facts::Question {
            mail,
            community,
            service_unit,
        },
        reply_to,
    };
    Ok((letter, recipients))
}

/// An agenda item proposed (every admin, the chair, is told) or placed on a meeting's agenda
/// (its proposer and supporters are told), each in their language and zone.
async fn agenda_plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    let Some(item) = agenda_item::Entity::find_by_id(event.subject_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let proposer = find_user(db, item.proposed_by).await?;
    let placed = event.kind == kinds::AGENDA_ITEM_PLACED;
    let (recipients, meeting, link) = if placed {
        let mut ids = vec![item.proposed_by];
        ids.extend(
            agenda_support::Entity::find()
                .filter(agenda_support::Column::ItemId.eq(item.id))
                .all(db)
                .await?
                .into_iter()
                .map(|s| s.user_id),
        );
        let meeting = meeting::Entity::find_by_id(event.object_id.unwrap_or_default())
            .one(db)
            .await?;
        let link = ctx.link(&format!("meetings/{}", event.object_id.unwrap_or_default()));
        let people = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await?;
        (people, meeting, link)
    } else {
        let chair = user::Entity::find()
            .filter(user::Column::IsAdmin.eq(true))
            .all(db)
            .await?;
        (chair, None, ctx.link("agenda"))
    };
    let reason = format!("event:{}", event.id);
    Ok(recipients
        .into_iter()
        .filter(|u| Some(u.id) != event.actor_id)
        .map(|recipient| NewDelivery {
            dedupe_key: format!("{reason}:{}", recipient.id),
            payload: to_payload(&AgendaItemMail {
                stage: if placed { "placed" } else { "proposed" }.to_owned(),
                title: item.title.clone(),
                body: item.body.clone(),
                proposer: proposer.display_name.clone(),
                meeting_title: meeting.as_ref().map(|m| m.title.clone()),
                meeting_when: meeting
                    .as_ref()
                    .map(|m| local_time(m.starts_at, &recipient.time_zone, recipient.locale)),
                link: link.clone(),
            }),
            recipient,
            template: Template::AgendaItem,
            thread_id: None,
            reply_to: None,
            event_id: Some(event.id),
        })
        .collect())
}

/// An organization's name in the reader's language.
fn name_for(org: &organization::Model, locale: user::Locale) -> String {
    match locale {
        user::Locale::Fi => org.name_fi.clone(),
        user::Locale::Sv => org.name_sv.clone(),
        user::Locale::En => org.name_en.clone(),
    }
}

/// An announcement published (the addressed communities' mentors are asked to relay it; with
/// `email_staff`, their staff get it at once) or relayed by a community (its author is told,
/// with the coverage now). Every email threads under the announcement.
async fn announcement_plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    let Some(a) = announcement::Entity::find_by_id(event.subject_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let targets = announcement_target::Entity::find()
        .filter(announcement_target::Column::AnnouncementId.eq(a.id))
        .all(db)
        .await?;
    let sender = find_org(db, a.organization_id).await?;
    let author = find_user(db, a.author_id).await?;
    let communities: BTreeMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(targets.iter().map(|t| t.community_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let link = ctx.link(&format!("announcements/{}", a.id));
    let base = AnnouncementMail {
        title: a.title.clone(),
        body: a.body.clone(),
        author: author.display_name.clone(),
        total: targets.len(),
        relayed: targets.iter().filter(|t| t.relayed_at.is_some()).count(),
        link,
        ..AnnouncementMail::default()
    };
    // (recipient, stage, the community the email names)
    let mut letters: Vec<(user::Model, &str, Option<Uuid>)> = Vec::new();
    if event.kind == kinds::ANNOUNCEMENT_RELAYED {
        letters.push((author.clone(), "relayed", event.object_id));
    } else {
        for community in communities.keys() {
            for mentor in people_with(db, &[*community], &[Role::Mentor]).await? {
                letters.push((mentor, "relay", Some(*community)));
            }
            if a.email_staff {
                for member in people_with(db, &[*community], &[Role::Member]).await? {
                    letters.push((member, "staff", Some(*community)));
                }
            }
        }
    }
    let relayed_by = match event.kind == kinds::ANNOUNCEMENT_RELAYED {
        true => match event.actor_id {
            Some(actor) => Some(find_user(db, actor).await?.display_name),
            None => None,
        },
        false => None,
    };
    let how = event
        .object_id
        .and_then(|c| targets.iter().find(|t| t.community_id == c))
        .and_then(|t| t.how.clone());
    let reason = format!("event:{}", event.id);
    let mut seen = std::collections::BTreeSet::new();
    Ok(letters
        .into_iter()
        .filter(|(u, _, _)| Some(u.id) != event.actor_id && seen.insert(u.id))
        .map(|(recipient, stage, community)| NewDelivery {
            dedupe_key: format!("{reason}:{}", recipient.id),
            payload: to_payload(&AnnouncementMail {
                stage: stage.to_owned(),
                sender: name_for(&sender, recipient.locale),
                community: community
                    .and_then(|c| communities.get(&c))
                    .map(|c| name_for(c, recipient.locale)),
                relayed_by: relayed_by.clone(),
                how: how.clone(),
                ..base.clone()
            }),
            recipient,
            template: Template::Announcement,
            thread_id: Some(a.id),
            reply_to: None,
            event_id: Some(event.id),
        })
        .collect())
}

/// A training's emails: a registrant hears of their own registration, its cancellation and a
/// place that came free (their own action too: the calendar entry is the point); everyone
/// registered or waiting hears of a change or the cancellation (but not whoever made it).
async fn training_plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    use entity::training_registration::{self as registration, RegistrationStatus};
    let Some(t) = training::Entity::find_by_id(event.subject_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let (stage, registrations, skip_actor) = match event.kind.as_str() {
        kinds::TRAINING_UPDATED => (
            "updated",
            crate::trainings::service::registrants(db, t.id).await?,
            true,
        ),
        kinds::TRAINING_CANCELLED => (
            "cancelled",
            crate::trainings::service::registrants(db, t.id).await?,
            true,
        ),
        kind => {
            let Some(r) = registration::Entity::find_by_id(event.object_id.unwrap_or_default())
                .one(db)
                .await?
            else {
                return Ok(Vec::new());
            };
            let stage = match (kind, r.status) {
                (kinds::TRAINING_PROMOTED, _) => "promoted",
                (kinds::TRAINING_UNREGISTERED, _) => "unregistered",
                (_, RegistrationStatus::Waiting) => "waiting",
                _ => "registered",
            };
            (stage, vec![r], false)
        }
    };
    let people: BTreeMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(registrations.iter().map(|r| r.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let organizer = match t.organizer_id {
        Some(id) => Some(find_org(db, id).await?),
        None => None,
    };
    let reason = format!("event:{}", event.id);
    let mut planned = Vec::new();
    for r in &registrations {
        let Some(recipient) = people.get(&r.user_id) else {
            continue;
        };
        if skip_actor && Some(recipient.id) == event.actor_id {
            continue;
        }
        let position = match r.status {
            RegistrationStatus::Waiting if stage != "cancelled" => {
                crate::trainings::service::place_in_line(db, r).await?
            }
            _ => None,
        };
        let mail = training_mail(ctx, &t, organizer.as_ref(), recipient, stage, r, position);
        planned.push(NewDelivery {
            dedupe_key: format!("{reason}:{}", recipient.id),
            payload: to_payload(&mail),
            recipient: recipient.clone(),
            template: Template::Training,
            thread_id: Some(t.id),
            reply_to: None,
            event_id: Some(event.id),
        });
    }
    Ok(planned)
}

/// One reader's email about a training at `stage`: times in their zone (and the organiser's,
/// when it differs), the online link and the calendar only for those with a place (and the
/// calendar's cancellation when the place or the training is gone).
pub fn training_mail(
    ctx: &MailContext,
    t: &training::Model,
    organizer: Option<&organization::Model>,
    recipient: &user::Model,
    stage: &str,
    r: &entity::training_registration::Model,
    position: Option<u64>,
) -> TrainingMail {
    use entity::training_registration::RegistrationStatus;
    let has_place = r.status == RegistrationStatus::Registered;
    let gone = matches!(stage, "unregistered" | "cancelled");
    let link = ctx.link(&format!("trainings/{}", t.id));
    let calendar = (has_place || stage == "unregistered").then(|| {
        crate::trainings::ical::invitation(
            t,
            ctx.domain(),
            &link,
            &ctx.organizer,
            Attendee {
                name: &recipient.display_name,
                email: &recipient.email,
            },
            stage == "unregistered",
        )
    });
    let zone = crate::values::time::zone_or_helsinki(&t.time_zone);
    let own = crate::values::time::zone_or_helsinki(&recipient.time_zone);
    TrainingMail {
        stage: stage.to_owned(),
        title: t.title.clone(),
        description: t.description.clone(),
        organizer: match organizer {
            Some(org) => name_for(org, recipient.locale),
            None => network_name(recipient.locale).to_owned(),
        },
        starts: local_time(t.starts_at, &recipient.time_zone, recipient.locale),
        organizer_time: (zone != own)
            .then(|| local_time(t.starts_at, &t.time_zone, recipient.locale)),
        place: t.place.clone(),
        online_url: t.online_url.clone().filter(|_| has_place && !gone),
        position,
        reason: t.cancel_reason.clone().filter(|_| stage == "cancelled"),
        link,
        calendars: calendar.into_iter().collect(),
    }
}

/// A project's emails: mentors named coordinators when it starts; its coordinators when
/// someone joins; someone added by another; its people on a progress update (not the author);
/// an update's author when its outcome became a tip. Every email threads under the project.
async fn project_plan(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    event: &event::Model,
) -> AppResult<Vec<NewDelivery>> {
    use entity::project_member::ProjectRole;
    let Some(p) = project::Entity::find_by_id(event.subject_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let people = crate::projects::service::members(db, &[p.id]).await?;
    let coordinators: Vec<Uuid> = people
        .iter()
        .filter(|m| m.role == ProjectRole::Coordinator)
        .map(|m| m.user_id)
        .collect();
    let mut person = None;
    let mut update = None;
    let mut tip_link = None;
    let (stage, recipients): (&str, Vec<Uuid>) = match event.kind.as_str() {
        kinds::PROJECT_CREATED => ("coordinator", coordinators),
        kinds::PROJECT_MEMBER_JOINED => {
            let who = event.object_id.unwrap_or_default();
            if Some(who) == event.actor_id {
                person = Some(find_user(db, who).await?.display_name);
                ("joined", coordinators)
            } else {
                ("added", vec![who])
            }
        }
        kinds::PROJECT_PROGRESS_POSTED | kinds::PROJECT_OUTCOME_PROMOTED => {
            let Some(u) =
                entity::project_update::Entity::find_by_id(event.object_id.unwrap_or_default())
                    .one(db)
                    .await?
            else {
                return Ok(Vec::new());
            };
            update = Some(u.body.clone());
            if event.kind == kinds::PROJECT_PROGRESS_POSTED {
                ("progress", people.iter().map(|m| m.user_id).collect())
            } else {
                tip_link = u.tip_id.map(|t| ctx.link(&format!("tips/{t}")));
                ("promoted", vec![u.author_id])
            }
        }
        _ => return Ok(Vec::new()),
    };
    let actor = match event.actor_id {
        Some(id) => find_user(db, id).await?.display_name,
        None => String::new(),
    };
    let community = find_org(db, p.community_id).await?;
    let link = ctx.link(&format!("projects/{}", p.id));
    let reason = format!("event:{}", event.id);
    let readers = user::Entity::find()
        .filter(user::Column::Id.is_in(recipients))
        .all(db)
        .await?;
    Ok(readers
        .into_iter()
        .filter(|u| Some(u.id) != event.actor_id)
        .map(|recipient| NewDelivery {
            dedupe_key: format!("{reason}:{}", recipient.id),
            payload: to_payload(&ProjectMail {
                stage: stage.to_owned(),
                title: p.name.clone(),
                community: name_for(&community, recipient.locale),
                actor: actor.clone(),
                person: person.clone(),
                update: update.clone(),
                tip_link: tip_link.clone(),
                link: link.clone(),
            }),
            recipient,
            template: Template::Project,
            thread_id: Some(p.id),
            reply_to: None,
            event_id: Some(event.id),
        })
        .collect())
}

/// The network itself as an organiser, in the reader's language.
fn network_name(locale: user::Locale) -> &'static str {
    match locale {
        user::Locale::Fi => "Digimentor-verkosto",
        user::Locale::Sv => "Digimentornätverket",
        user::Locale::En => "The digimentor network",
    }
}

/// A question's kind as its emails name it.
fn kind_name(kind: question::QuestionKind) -> &'static str {
    match kind {
        question::QuestionKind::Question => "question",
        question::QuestionKind::Wish => "wish",
        question::QuestionKind::View => "view",
    }
}

/// A decision as its emails name it.
fn decision_name(decision: question::Decision) -> &'static str {
    match decision {
        question::Decision::Noted => "noted",
        question::Decision::Planned => "planned",
        question::Decision::Done => "done",
        question::Decision::NotPossible => "not_possible",
    }
}

/// The facts every inquiry email shares, plus the slot's when there is one.
pub async fn inquiry_letter(
    db: &impl ConnectionTrait,
    template: Template,
    inquiry: &inquiry::Model,
    slot: Option<&inquiry_target::Model>,
) -> AppResult<Letter> {
    let author = find_user(db, inquiry.author_id).await?;
    let inquirer = find_org(db, inquiry.organization_id).await?;
    let mut mail = InquiryMail {
        title: inquiry.title.clone(),
        body: inquiry.body.clone(),
        author: author.display_name.clone(),
        inquiry_id: inquiry.id,
        ..InquiryMail::default()
    };
    let mut community = None;
    if let Some(slot) = slot {
        mail.target_id = Some(slot.id);
        community = Some(find_org(db, slot.community_id).await?);
        mail.answer = slot.answer.clone();
        mail.reason = slot.decline_reason.clone();
        if let Some(by) = slot.answered_by {
            mail.answered_by = Some(find_user(db, by).await?.display_name);
        }
    }
    Ok(Letter {
        template,
        thread_id: inquiry.id,
        facts: Facts::Inquiry {
            mail,
            inquirer,
            community,
            deadline: inquiry.deadline,
        },
        reply_to: Some(author.email),
    })
}

fn emails(people: &[user::Model]) -> Option<String> {
    (!people.is_empty()).then(|| {
        people
            .iter()
            .map(|p| p.email.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The inquirer and the leads or contacts of the inquiring organization.
async fn inquirer_side(
    db: &impl ConnectionTrait,
    inquiry: &inquiry::Model,
) -> AppResult<Vec<user::Model>> {
    let mut people =
        people_with(db, &[inquiry.organization_id], &[Role::Lead, Role::Contact]).await?;
    people.push(find_user(db, inquiry.author_id).await?);
    Ok(people)
}

/// Users holding one of `roles` in one of `organizations`.
pub async fn people_with(
    db: &impl ConnectionTrait,
    organizations: &[Uuid],
    roles: &[Role],
) -> AppResult<Vec<user::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.is_in(organizations.iter().copied()))
        .filter(membership::Column::Role.is_in(roles.iter().copied()))
        .find_also_related(user::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(_, u)| u)
        .collect())
}

async fn find_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))
}

async fn find_org(db: &impl ConnectionTrait, id: Uuid) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))
}

async fn find_inquiry(db: &impl ConnectionTrait, id: Uuid) -> AppResult<inquiry::Model> {
    inquiry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry"))
}

async fn find_slot(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> AppResult<inquiry_target::Model> {
    inquiry_target::Entity::find_by_id(id.unwrap_or_default())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry target"))
}

async fn slots(db: &impl ConnectionTrait, inquiry: Uuid) -> AppResult<Vec<inquiry_target::Model>> {
    Ok(inquiry_target::Entity::find()
        .filter(inquiry_target::Column::InquiryId.eq(inquiry))
        .all(db)
        .await?)
}
