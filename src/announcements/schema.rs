//! GraphQL types and resolvers of announcements.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{announcement, announcement_target};

use super::service::{self, NewAnnouncement};
use crate::auth::require_viewer;
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::AppResult;
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{Addressees, MAX_BODY, MAX_TITLE};
use crate::state::AppState;
use crate::topics::loaders::TopicsByAnnouncement;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// How far an announcement has been relayed.
#[derive(SimpleObject)]
pub struct RelayCoverage {
    /// Communities whose mentors marked it relayed.
    pub relayed: i32,
    /// Communities it was addressed to.
    pub total: i32,
}

/// An announcement to staff, relayed by the addressed communities' mentors. Read by the
/// sending organization, the leads, admins, and everyone in an addressed community.
pub struct Announcement {
    pub announcement: announcement::Model,
    pub targets: Vec<announcement_target::Model>,
}

/// One addressed community and whether its mentors relayed the announcement.
pub struct RelayTarget(pub announcement_target::Model);

/// One addressed community of an announcement.
#[Object]
impl RelayTarget {
    /// The community.
    async fn community(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load_one::<OrganizationById>(ctx, self.0.community_id)
            .await?
            .map(Organization))
    }
    /// The mentor who marked it relayed.
    async fn relayed_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        match self.0.relayed_by {
            Some(id) => Ok(load_one::<UserById>(ctx, id)
                .await?
                .map(Person::participant)),
            None => Ok(None),
        }
    }
    /// When; null until relayed.
    async fn relayed_at(&self) -> Option<DateTime<Utc>> {
        self.0.relayed_at
    }
    /// How it was relayed, in the mentor's words.
    async fn how(&self) -> Option<&str> {
        self.0.how.as_deref()
    }
}

/// An announcement to staff, relayed by the addressed communities' mentors.
#[Object]
impl Announcement {
    /// The announcement's id.
    async fn id(&self) -> ID {
        ID(self.announcement.id.to_string())
    }
    /// A short title.
    async fn title(&self) -> &str {
        &self.announcement.title
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.announcement.body
    }
    /// The service unit or management that sends it.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(
            load_one::<OrganizationById>(ctx, self.announcement.organization_id)
                .await?
                .map(Organization),
        )
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.announcement.author_id)
            .await?
            .map(Person::author))
    }
    /// Whether it was also emailed straight to the staff.
    async fn email_staff(&self) -> bool {
        self.announcement.email_staff
    }
    /// When it was sent.
    async fn published_at(&self) -> DateTime<Utc> {
        self.announcement.created_at
    }
    /// Every addressed community and whether its mentors relayed it.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn targets(&self) -> Vec<RelayTarget> {
        self.targets.iter().cloned().map(RelayTarget).collect()
    }
    /// Topics it is about.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByAnnouncement>(ctx, self.announcement.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// "Relayed by 9 of 12".
    async fn coverage(&self) -> RelayCoverage {
        let relayed = self
            .targets
            .iter()
            .filter(|t| t.relayed_at.is_some())
            .count();
        RelayCoverage {
            relayed: i32::try_from(relayed).unwrap_or(i32::MAX),
            total: i32::try_from(self.targets.len()).unwrap_or(i32::MAX),
        }
    }
}

/// An announcement to send.
#[derive(InputObject)]
pub struct PublishAnnouncementInput {
    /// The service unit or management it is sent for (you are its contact or lead).
    pub organization_id: ID,
    /// A short title.
    pub title: String,
    /// Markdown.
    pub body: String,
    /// The communities whose mentors are asked to relay it; empty with `allCommunities`.
    #[graphql(default)]
    pub community_ids: Vec<ID>,
    /// Every faculty and education unit.
    #[graphql(default)]
    pub all_communities: bool,
    /// Also email it straight to the staff of those communities.
    #[graphql(default)]
    pub email_staff: bool,
    /// Topics it is about; those who follow them among its readers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

#[derive(Default)]
pub struct AnnouncementQuery;

#[Object]
impl AnnouncementQuery {
    /// Announcements the caller may read, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn announcements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Announcement>> {
        let viewer = require_viewer(ctx)?;
        let page = Page::new(first, after)?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, viewer, &page).await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter()
                .map(|(announcement, targets)| {
                    (
                        announcement.id,
                        Announcement {
                            announcement,
                            targets,
                        },
                    )
                })
                .collect(),
        ))
    }

    /// One announcement, or null when there is none or it is not the caller's to read.
    async fn announcement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The announcement's id.")] id: ID,
    ) -> async_graphql::Result<Option<Announcement>> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        Ok(service::find_readable(&state.db, viewer, id)
            .await?
            .map(|(announcement, targets)| Announcement {
                announcement,
                targets,
            }))
    }
}

#[derive(Default)]
pub struct AnnouncementMutation;

#[Object]
impl AnnouncementMutation {
    /// A service unit's contact or a lead: send an announcement to staff through the chosen
    /// communities' mentors, who are asked by email to relay it (with `emailStaff`, the staff
    /// get it by email at once too).
    async fn publish_announcement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The announcement.")] input: PublishAnnouncementInput,
    ) -> async_graphql::Result<Announcement> {
        let viewer = require_viewer(ctx)?;
        let addressees = if input.all_communities {
            Addressees::All
        } else {
            Addressees::Some(
                input
                    .community_ids
                    .iter()
                    .map(|id| parse_id("communityIds", id))
                    .collect::<AppResult<_>>()?,
            )
        };
        let new = NewAnnouncement {
            organization_id: parse_id("organizationId", &input.organization_id)?,
            title: NonEmptyText::line("title", &input.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &input.body, MAX_BODY)?,
            addressees,
            email_staff: input.email_staff,
            topic_ids: input
                .topic_ids
                .iter()
                .map(|id| parse_id("topicIds", id))
                .collect::<AppResult<_>>()?,
        };
        let state = ctx.data::<AppState>()?;
        let announcement = state
            .changes
            .run(async |txn| service::publish(txn, viewer, new).await)
            .await?;
        let targets = service::targets_of(&state.db, &[announcement.id]).await?;
        Ok(Announcement {
            announcement,
            targets,
        })
    }

    /// A mentor of an addressed community: mark the announcement relayed to its staff, and
    /// say how (a mailing list, a unit meeting); the author is told, with the coverage.
    async fn mark_announcement_relayed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The announcement.")] announcement_id: ID,
        #[graphql(desc = "Your community it was relayed in.")] community_id: ID,
        #[graphql(desc = "How it was relayed, in a line.")] how: String,
    ) -> async_graphql::Result<Announcement> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("announcementId", &announcement_id)?;
        let community = parse_id("communityId", &community_id)?;
        let how = NonEmptyText::line("how", &how, MAX_TITLE)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::mark_relayed(txn, viewer, id, community, how).await)
            .await?;
        let (announcement, targets) = service::find_readable(&state.db, viewer, id)
            .await?
            .ok_or(crate::error::AppError::NotFound("announcement"))?;
        Ok(Announcement {
            announcement,
            targets,
        })
    }
}
