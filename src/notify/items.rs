//! What a published thing looks like in topic emails and digests: a localized headline and a
//! link, worked out from the event log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::user::Locale;
use entity::{
    agenda_item, announcement, event, inquiry, inquiry_target, meeting, news_post, organization,
    project, tip, training,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::MailContext;
use super::payloads::ItemLine;
use super::rules::localized_name;
use crate::error::AppResult;
use crate::events::kinds::{self, EventKind};

/// One item of a topic email or digest.
#[derive(Debug, Clone)]
pub struct Item {
    pub event_id: Uuid,
    pub kind: String,
    pub title: String,
    /// The organization the headline names (the inquirer, the answering community).
    pub organization: Option<organization::Model>,
    pub link: String,
    pub at: DateTime<Utc>,
}

impl Item {
    /// The item as an email line in the reader's language; the template words the headline.
    pub fn line(&self, locale: Locale, when: Option<String>) -> ItemLine {
        ItemLine {
            kind: self.kind.clone(),
            title: self.title.clone(),
            organization: self
                .organization
                .as_ref()
                .map(|o| localized_name(o, locale).to_owned()),
            link: self.link.clone(),
            when,
        }
    }
}

/// Items for events of the kinds that topic subscribers follow, in the events' order; events
/// of other kinds are skipped.
pub async fn items_for(
    db: &impl ConnectionTrait,
    ctx: &MailContext,
    events: &[event::Model],
) -> AppResult<Vec<Item>> {
    let followed: Vec<&event::Model> = events
        .iter()
        .filter(|e| EventKind::parse(&e.kind).is_some_and(EventKind::followed_by_topic))
        .collect();
    let inquiry_ids: Vec<Uuid> = followed.iter().map(|e| e.subject_id).collect();
    let inquiries: HashMap<Uuid, inquiry::Model> = inquiry::Entity::find()
        .filter(inquiry::Column::Id.is_in(inquiry_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let slot_ids: Vec<Uuid> = followed.iter().filter_map(|e| e.object_id).collect();
    let slots: HashMap<Uuid, inquiry_target::Model> = inquiry_target::Entity::find()
        .filter(inquiry_target::Column::Id.is_in(slot_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut org_ids: Vec<Uuid> = inquiries.values().map(|i| i.organization_id).collect();
    org_ids.extend(slots.values().map(|s| s.community_id));
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let news: HashMap<Uuid, news_post::Model> = news_post::Entity::find()
        .filter(news_post::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let tips: HashMap<Uuid, tip::Model> = tip::Entity::find()
        .filter(tip::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let tip_orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(tips.values().map(|t| t.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let meetings: HashMap<Uuid, meeting::Model> = meeting::Entity::find()
        .filter(meeting::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let trainings: HashMap<Uuid, training::Model> = training::Entity::find()
        .filter(training::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let projects: HashMap<Uuid, project::Model> = project::Entity::find()
        .filter(project::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let project_orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(projects.values().map(|p| p.community_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let announcements: HashMap<Uuid, announcement::Model> = announcement::Entity::find()
        .filter(announcement::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let senders: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(announcements.values().map(|a| a.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let agenda: HashMap<Uuid, agenda_item::Model> = agenda_item::Entity::find()
        .filter(agenda_item::Column::Id.is_in(followed.iter().map(|e| e.subject_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(followed
        .into_iter()
        .filter_map(|e| {
            if e.kind == kinds::ANNOUNCEMENT_PUBLISHED {
                let a = announcements.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: a.title.clone(),
                    organization: senders.get(&a.organization_id).cloned(),
                    link: ctx.link(&format!("announcements/{}", a.id)),
                    at: e.created_at,
                });
            }
            if e.kind == kinds::AGENDA_ITEM_PROPOSED {
                let item = agenda.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: item.title.clone(),
                    organization: None,
                    link: ctx.link("agenda"),
                    at: e.created_at,
                });
            }
            if [kinds::PROJECT_CREATED, kinds::PROJECT_PROGRESS_POSTED].contains(&e.kind.as_str()) {
                let project = projects.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: project.name.clone(),
                    organization: project_orgs.get(&project.community_id).cloned(),
                    link: ctx.link(&format!("projects/{}", project.id)),
                    at: e.created_at,
                });
            }
            if [
                kinds::TRAINING_SCHEDULED,
                kinds::TRAINING_UPDATED,
                kinds::TRAINING_CANCELLED,
            ]
            .contains(&e.kind.as_str())
            {
                let training = trainings.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: training.title.clone(),
                    organization: None,
                    link: ctx.link(&format!("trainings/{}", training.id)),
                    at: e.created_at,
                });
            }
            if [
                kinds::MEETING_SCHEDULED,
                kinds::MEETING_UPDATED,
                kinds::MEETING_CANCELLED,
            ]
            .contains(&e.kind.as_str())
            {
                let meeting = meetings.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: meeting.title.clone(),
                    organization: None,
                    link: ctx.link(&format!("meetings/{}", meeting.id)),
                    at: e.created_at,
                });
            }
            if e.kind == kinds::TIP_CREATED {
                let tip = tips.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: tip.title.clone(),
                    organization: tip_orgs.get(&tip.organization_id).cloned(),
                    link: ctx.link(&format!("tips/{}", tip.id)),
                    at: e.created_at,
                });
            }
            if e.kind == kinds::NEWS_PUBLISHED {
                let post = news.get(&e.subject_id)?;
                return Some(Item {
                    event_id: e.id,
                    kind: e.kind.clone(),
                    title: post.title.clone(),
                    organization: None,
                    link: ctx.link(&format!("news/{}", post.id)),
                    at: e.created_at,
                });
            }
            let inquiry = inquiries.get(&e.subject_id)?;
            let org_id = match e.kind.as_str() {
                kinds::INQUIRY_ANSWERED => slots.get(&e.object_id?)?.community_id,
                _ => inquiry.organization_id,
            };
            Some(Item {
                event_id: e.id,
                kind: e.kind.clone(),
                title: inquiry.title.clone(),
                organization: orgs.get(&org_id).cloned(),
                link: ctx.link(&format!("inquiries/{}", inquiry.id)),
                at: e.created_at,
            })
        })
        .collect())
}
