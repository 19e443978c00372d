//! A network as data: organizations, topics, people and (optionally) content, read from a TOML
//! file and written through the same services as every other change.
//!
//! `digimentor import network FILE` loads a university's starting network; the demo is a file
//! in the same format (`demo/network.toml`). Loading is idempotent — organizations and topics
//! are matched by slug, people by email, content by its title — and all or nothing: the caller
//! runs [`import`] in one unit of work, and an error names the entry (`people[3]
//! (aino@example.edu): …`) and rolls everything back. Each entry is written as the person it
//! names, so the file cannot make anyone do what the service would refuse them.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveTime, TimeZone as _, Utc};
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::partner_network::PartnerScope;
use entity::project::ProjectStatus;
use entity::question::{Decision, QuestionKind};
use entity::{
    agenda_item, announcement, community_plan, event, inquiry, inquiry_target, meeting, membership,
    news_post, project, question, tip, topic, training, user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use uuid::Uuid;

use crate::agenda::service::{
    of_meeting as agenda_of_meeting, propose as propose_agenda_item, set_agenda,
    support as support_agenda_item,
};
use crate::announcements::service::{
    NewAnnouncement, mark_relayed, publish as publish_announcement,
};
use crate::auth::service::viewer_for_user;
use crate::directory::service::{
    NewOrganization, NewUser, add_membership, create_organization, create_user,
    find_organization_by_slug,
};
use crate::error::{AppError, AppResult};
use crate::inquiries::service::{
    Addressees, MAX_BODY, MAX_TITLE, NewInquiry, SlotResponse, close_inquiry, create_inquiry,
    publish_inquiry, respond_to_inquiry,
};
use crate::meetings::service::{MeetingInput, schedule};
use crate::news::service::{NewsInput, publish};
use crate::partners::service::{
    PartnerInput, create as create_partner, find_by_slug as find_partner, parse_contacts,
};
use crate::plans::service::set_plan;
use crate::projects::service::{
    ProjectInput, create as create_project, join as join_project,
    post_update as post_project_update, promote as promote_outcome,
};
use crate::questions::service::{
    NewQuestion, answer_question, ask_question, close_question, decide_question, forward_question,
};
use crate::tips::service::{TipInput, create as create_tip};
use crate::topics::service::create_topic;
use crate::trainings::service::{
    TrainingInput, register as register_for_training, schedule as schedule_training,
};
use crate::values::viewer::Viewer;
use crate::values::{Email, NonEmptyText, Slug, TimeZone, TranslatedNames, parse_locale};

/// A network file. Every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(default)]
    pub organizations: Vec<OrganizationEntry>,
    #[serde(default)]
    pub topics: Vec<TopicEntry>,
    #[serde(default)]
    pub people: Vec<PersonEntry>,
    #[serde(default)]
    pub inquiries: Vec<InquiryEntry>,
    #[serde(default)]
    pub questions: Vec<QuestionEntry>,
    #[serde(default)]
    pub partners: Vec<PartnerEntry>,
    #[serde(default)]
    pub agenda: Vec<AgendaEntry>,
    #[serde(default)]
    pub announcements: Vec<AnnouncementEntry>,
    #[serde(default)]
    pub meetings: Vec<MeetingEntry>,
    #[serde(default)]
    pub trainings: Vec<TrainingEntry>,
    #[serde(default)]
    pub news: Vec<NewsEntry>,
    #[serde(default)]
    pub tips: Vec<TipEntry>,
    #[serde(default)]
    pub plans: Vec<PlanEntry>,
    #[serde(default)]
    pub projects: Vec<ProjectEntry>,
}

/// A name in Finnish, Swedish and English.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub fi: String,
    pub sv: String,
    pub en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationEntry {
    pub slug: String,
    pub kind: Kind,
    pub name: Names,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Faculty,
    EducationUnit,
    ServiceUnit,
    Management,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicEntry {
    pub slug: String,
    pub name: Names,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEntry {
    pub email: String,
    pub name: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default)]
    pub admin: bool,
    /// Organization slug → role.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleName>,
}

fn default_locale() -> String {
    "fi".to_owned()
}

fn default_time_zone() -> String {
    "Europe/Helsinki".to_owned()
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Member,
    Mentor,
    Contact,
    Lead,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InquiryEntry {
    pub title: String,
    pub organization: String,
    pub author: String,
    pub body: String,
    #[serde(default)]
    pub topics: Vec<String>,
    pub deadline_in_days: Option<i64>,
    /// `"all"`, or a list of community slugs.
    pub to: Addressed,
    #[serde(default)]
    pub answers_shared: bool,
    #[serde(default)]
    pub status: InquiryState,
    #[serde(default)]
    pub responses: Vec<ResponseEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Addressed {
    Keyword(String),
    Communities(Vec<String>),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InquiryState {
    Draft,
    #[default]
    Open,
    Closed,
}

/// A community's answer or decline, written by one of its mentors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseEntry {
    pub community: String,
    pub by: String,
    pub answer: Option<String>,
    pub decline: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionEntry {
    pub title: String,
    pub community: String,
    pub asker: String,
    pub body: String,
    #[serde(default)]
    pub topics: Vec<String>,
    /// `question` (the default), `wish` or `view`.
    #[serde(default)]
    pub kind: KindName,
    pub forward: Option<ForwardEntry>,
    pub answer: Option<AnswerEntry>,
    pub close: Option<CloseEntry>,
    /// The service unit's decision on a wish or a view (after `forward`).
    pub decision: Option<DecisionEntry>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    #[default]
    Question,
    Wish,
    View,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Noted,
    Planned,
    Done,
    NotPossible,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionEntry {
    pub by: String,
    pub decision: DecisionName,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardEntry {
    pub by: String,
    pub to: String,
    pub note: Option<String>,
    #[serde(default)]
    pub hide_asker: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    pub by: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseEntry {
    pub by: String,
    pub reason: String,
    /// The title of the question this one repeats.
    pub duplicate_of: Option<String>,
}

/// An announcement to staff through the mentors, and the communities that relayed it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementEntry {
    pub title: String,
    /// The contact or lead who sends it.
    pub by: String,
    /// The service unit or management it is sent for.
    pub organization: String,
    pub body: String,
    /// The communities by slug; every one when empty.
    #[serde(default)]
    pub communities: Vec<String>,
    #[serde(default)]
    pub email_staff: bool,
    #[serde(default)]
    pub relayed: Vec<RelayedEntry>,
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayedEntry {
    pub community: String,
    /// A mentor of the community.
    pub by: String,
    pub how: String,
}

/// An item proposed for the network meeting's agenda, its supporters, and optionally the
/// coming meeting (by title, the soonest of that name) the chair placed it on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaEntry {
    pub title: String,
    pub by: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub supporters: Vec<String>,
    pub placed: Option<PlacedEntry>,
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacedEntry {
    /// The meeting's title: the soonest coming one of that name.
    pub meeting: String,
    /// The chair (an admin).
    pub by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerEntry {
    pub slug: String,
    pub name: String,
    pub scope: PartnerScopeName,
    /// An admin, who adds it.
    pub by: String,
    #[serde(default)]
    pub description: String,
    pub url: Option<String>,
    #[serde(default)]
    pub contacts: Vec<PartnerContactEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerScopeName {
    Local,
    National,
    International,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerContactEntry {
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingEntry {
    pub title: String,
    /// The slug of a partner network the meetings are joint with.
    pub organizer: String,
    pub first: Start,
    /// How many monthly meetings, at the same local time.
    #[serde(default = "one")]
    pub monthly: u32,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub agenda: String,
    #[serde(default)]
    pub topics: Vec<String>,
    pub partner: Option<String>,
    /// Reports of the meetings already held, in order; `{month}` in a title is the meeting's
    /// month.
    #[serde(default)]
    pub reports: Vec<NewsEntry>,
}

fn one() -> u32 {
    1
}

/// A training or community event, and who registered for it (in order: those beyond its
/// capacity wait in line).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingEntry {
    pub title: String,
    /// The mentor, contact, lead or admin who organises it.
    pub by: String,
    /// The organising organization's slug; none for the network itself.
    pub organizer: Option<String>,
    /// Days from the moment of loading.
    pub days_from_now: i64,
    /// `HH:MM`, local time in `time_zone`.
    pub time: String,
    pub time_zone: String,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub capacity: i32,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub topics: Vec<String>,
    /// The people who registered, by email, in the order they did.
    #[serde(default)]
    pub registered: Vec<String>,
}

/// A meeting's first start, relative to the moment of loading.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    pub months_from_now: i32,
    pub day: u32,
    /// `HH:MM`, local time in `time_zone`.
    pub time: String,
    pub time_zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewsEntry {
    pub title: String,
    pub by: String,
    pub body: String,
    #[serde(default)]
    pub topics: Vec<String>,
    /// The slug of the partner network the news comes from.
    pub partner: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TipEntry {
    pub title: String,
    pub by: String,
    pub organization: String,
    pub body: String,
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    pub community: String,
    pub by: String,
    /// Defaults to the current year.
    pub year: Option<i32>,
    pub goals: String,
    pub activities: String,
}

/// A development project of a community, its people and its progress.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectEntry {
    pub name: String,
    /// The community's digimentor who starts it (its first coordinator).
    pub by: String,
    pub community: String,
    pub goal: String,
    /// A goal of the community's plan (one of its list items), of `plan_year` (by default the
    /// current year).
    pub plan_goal: Option<String>,
    pub plan_year: Option<i32>,
    /// `planned`, `active` or `finished`.
    pub status: String,
    /// Days before loading it started (negative: days ahead).
    pub started_days_ago: Option<i64>,
    /// Days after loading it ends (negative: days ago).
    pub ends_in_days: Option<i64>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub topics: Vec<String>,
    /// People who joined, by email, in order.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub updates: Vec<ProjectUpdateEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdateEntry {
    pub by: String,
    pub body: String,
    /// The title of the tip its outcome became (promoted by the project's starter).
    pub tip: Option<String>,
}

/// Reads a network file; a syntax error or an unknown key names its line and column.
pub fn parse(text: &str) -> AppResult<Network> {
    toml::from_str(text).map_err(|e| AppError::bad_input("network file", e.to_string()))
}

/// What an import did, per section: entries added, and entries already there.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub added: BTreeMap<&'static str, usize>,
    pub kept: BTreeMap<&'static str, usize>,
    /// New people without a password, emailed a link to set one.
    pub invited: Vec<String>,
}

impl ImportReport {
    fn added(&mut self, section: &'static str) {
        *self.added.entry(section).or_default() += 1;
    }

    fn kept(&mut self, section: &'static str) {
        *self.kept.entry(section).or_default() += 1;
    }

    /// Nothing was added: the file was already in place.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty()
    }
}

/// How new people get a password: everyone the same one (the demo), or each sets their own with
/// the link in their welcome email.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub password: Option<String>,
}

/// Writes `network` in the caller's transaction and returns the report with every event the
/// writes appended, for the unit of work to commit.
#[tracing::instrument(skip_all)]
pub async fn import(
    db: &impl ConnectionTrait,
    network: &Network,
    options: &ImportOptions,
) -> AppResult<(ImportReport, Vec<event::Model>)> {
    let mut run = Import {
        db,
        options,
        report: ImportReport::default(),
        events: Vec::new(),
        now: Utc::now(),
    };
    for (i, entry) in network.organizations.iter().enumerate() {
        let label = format!("organizations[{i}] ({})", entry.slug);
        run.organization(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.topics.iter().enumerate() {
        let label = format!("topics[{i}] ({})", entry.slug);
        run.topic(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.people.iter().enumerate() {
        let label = format!("people[{i}] ({})", entry.email);
        run.person(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.inquiries.iter().enumerate() {
        let label = format!("inquiries[{i}] ({:?})", entry.title);
        run.inquiry(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.questions.iter().enumerate() {
        let label = format!("questions[{i}] ({:?})", entry.title);
        run.question(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.partners.iter().enumerate() {
        let label = format!("partners[{i}] ({})", entry.slug);
        run.partner(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.meetings.iter().enumerate() {
        let label = format!("meetings[{i}] ({:?})", entry.title);
        run.meeting(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.trainings.iter().enumerate() {
        let label = format!("trainings[{i}] ({:?})", entry.title);
        run.training(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.agenda.iter().enumerate() {
        let label = format!("agenda[{i}] ({:?})", entry.title);
        run.agenda_item(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.announcements.iter().enumerate() {
        let label = format!("announcements[{i}] ({:?})", entry.title);
        run.announcement(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.news.iter().enumerate() {
        let label = format!("news[{i}] ({:?})", entry.title);
        run.news(entry, None).await.map_err(at(&label))?;
    }
    for (i, entry) in network.tips.iter().enumerate() {
        let label = format!("tips[{i}] ({:?})", entry.title);
        run.tip(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.plans.iter().enumerate() {
        let label = format!("plans[{i}] ({})", entry.community);
        run.plan(entry).await.map_err(at(&label))?;
    }
    for (i, entry) in network.projects.iter().enumerate() {
        let label = format!("projects[{i}] ({:?})", entry.name);
        run.project(entry).await.map_err(at(&label))?;
    }
    Ok((run.report, run.events))
}

/// Names the entry in an error about it; failures of the database stay what they are.
fn at(label: &str) -> impl FnOnce(AppError) -> AppError + '_ {
    move |err| match err {
        AppError::Internal(_) | AppError::Unavailable(_) => err,
        other => AppError::bad_input(label, other.client_message()),
    }
}

struct Import<'a, C> {
    db: &'a C,
    options: &'a ImportOptions,
    report: ImportReport,
    events: Vec<event::Model>,
    now: DateTime<Utc>,
}

impl<C: ConnectionTrait> Import<'_, C> {
    async fn organization(&mut self, entry: &OrganizationEntry) -> AppResult<()> {
        if find_organization_by_slug(self.db, entry.slug.trim())
            .await?
            .is_some()
        {
            self.report.kept("organizations");
            return Ok(());
        }
        let new = NewOrganization {
            slug: Slug::parse(&entry.slug).map_err(AppError::invalid("slug"))?,
            kind: match entry.kind {
                Kind::Faculty => OrganizationKind::Faculty,
                Kind::EducationUnit => OrganizationKind::EducationUnit,
                Kind::ServiceUnit => OrganizationKind::ServiceUnit,
                Kind::Management => OrganizationKind::Management,
            },
            names: names(&entry.name)?,
        };
        let (_, event) = create_organization(self.db, None, new).await?;
        self.events.push(event);
        self.report.added("organizations");
        Ok(())
    }

    async fn topic(&mut self, entry: &TopicEntry) -> AppResult<()> {
        let exists = topic::Entity::find()
            .filter(topic::Column::Slug.eq(entry.slug.trim()))
            .one(self.db)
            .await?;
        if exists.is_some() {
            self.report.kept("topics");
            return Ok(());
        }
        let slug = Slug::parse(&entry.slug).map_err(AppError::invalid("slug"))?;
        let (_, event) = create_topic(self.db, None, slug, names(&entry.name)?).await?;
        self.events.push(event);
        self.report.added("topics");
        Ok(())
    }

    async fn person(&mut self, entry: &PersonEntry) -> AppResult<()> {
        let email = Email::parse(&entry.email).map_err(AppError::invalid("email"))?;
        let existing = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(self.db)
            .await?;
        let user = match existing {
            Some(user) => {
                self.report.kept("people");
                user
            }
            None => {
                let new = NewUser {
                    email,
                    display_name: NonEmptyText::line("name", &entry.name, 200)?,
                    locale: parse_locale(&entry.locale).map_err(AppError::invalid("locale"))?,
                    time_zone: TimeZone::parse(&entry.time_zone)
                        .map_err(AppError::invalid("time_zone"))?,
                    is_admin: entry.admin,
                    password: self.options.password.clone(),
                };
                let (created, event) = create_user(self.db, None, new).await?;
                self.events.push(event);
                self.report.added("people");
                if created.password_link_sent {
                    self.report.invited.push(created.user.email.clone());
                }
                created.user
            }
        };
        for (slug, role) in &entry.roles {
            let field = format!("roles.{slug}");
            let org = self.organization_id(&field, slug).await?;
            let role = match role {
                RoleName::Member => Role::Member,
                RoleName::Mentor => Role::Mentor,
                RoleName::Contact => Role::Contact,
                RoleName::Lead => Role::Lead,
            };
            let held = membership::Entity::find()
                .filter(membership::Column::UserId.eq(user.id))
                .filter(membership::Column::OrganizationId.eq(org))
                .filter(membership::Column::Role.eq(role))
                .one(self.db)
                .await?
                .is_some();
            if !held {
                let (_, event) = add_membership(self.db, None, user.id, org, role)
                    .await
                    .map_err(|e| AppError::bad_input(field.clone(), e.client_message()))?;
                self.events.push(event);
            }
        }
        Ok(())
    }

    async fn inquiry(&mut self, entry: &InquiryEntry) -> AppResult<()> {
        let organization_id = self
            .organization_id("organization", &entry.organization)
            .await?;
        let exists = inquiry::Entity::find()
            .filter(inquiry::Column::OrganizationId.eq(organization_id))
            .filter(inquiry::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("inquiries");
            return Ok(());
        }
        let author = self.person_as("author", &entry.author).await?;
        let addressees = match &entry.to {
            Addressed::Keyword(all) if all == "all" => Addressees::All,
            Addressed::Keyword(other) => {
                return Err(AppError::bad_input(
                    "to",
                    format!("is \"all\" or a list of community slugs, not {other:?}"),
                ));
            }
            Addressed::Communities(slugs) => {
                let mut ids = Vec::new();
                for slug in slugs {
                    ids.push(self.organization_id("to", slug).await?);
                }
                Addressees::Some(ids)
            }
        };
        let new = NewInquiry {
            organization_id,
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &entry.body, MAX_BODY)?,
            topic_ids: self.topic_ids(&entry.topics).await?,
            deadline: entry
                .deadline_in_days
                .map(|days| self.now + Duration::days(days)),
            addressees,
            answers_shared: entry.answers_shared,
        };
        let (created, event) = create_inquiry(self.db, &author, new).await?;
        self.events.push(event);
        if entry.status == InquiryState::Draft {
            if !entry.responses.is_empty() {
                return Err(AppError::bad_input(
                    "responses",
                    "a draft has no responses; publish it (status = \"open\")",
                ));
            }
        } else {
            let (_, event) = publish_inquiry(self.db, &author, created.id).await?;
            self.events.push(event);
        }
        for (i, response) in entry.responses.iter().enumerate() {
            let label = format!("responses[{i}]");
            self.response(created.id, response)
                .await
                .map_err(at(&label))?;
        }
        if entry.status == InquiryState::Closed {
            let (_, event) = close_inquiry(self.db, &author, created.id).await?;
            self.events.push(event);
        }
        self.report.added("inquiries");
        Ok(())
    }

    async fn response(&mut self, inquiry_id: Uuid, entry: &ResponseEntry) -> AppResult<()> {
        let community = self.organization_id("community", &entry.community).await?;
        let target = inquiry_target::Entity::find()
            .filter(inquiry_target::Column::InquiryId.eq(inquiry_id))
            .filter(inquiry_target::Column::CommunityId.eq(community))
            .one(self.db)
            .await?
            .ok_or_else(|| {
                AppError::bad_input("community", "the inquiry is not addressed to it")
            })?;
        let response = match (&entry.answer, &entry.decline) {
            (Some(answer), None) => {
                SlotResponse::Answer(NonEmptyText::input("answer", answer, MAX_BODY)?)
            }
            (None, Some(reason)) => {
                SlotResponse::Decline(NonEmptyText::input("decline", reason, MAX_BODY)?)
            }
            _ => {
                return Err(AppError::bad_input(
                    "answer",
                    "give exactly one of answer and decline",
                ));
            }
        };
        let mentor = self.person_as("by", &entry.by).await?;
        let (_, _, event) =
            respond_to_inquiry(self.db, &mentor, target.id, response, target.version).await?;
        self.events.push(event);
        Ok(())
    }

    async fn question(&mut self, entry: &QuestionEntry) -> AppResult<()> {
        let asker = self.person_as("asker", &entry.asker).await?;
        let exists = question::Entity::find()
            .filter(question::Column::AskerId.eq(asker.id()))
            .filter(question::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("questions");
            return Ok(());
        }
        let new = NewQuestion {
            community_id: self.organization_id("community", &entry.community).await?,
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &entry.body, MAX_BODY)?,
            topic_ids: self.topic_ids(&entry.topics).await?,
            hide_wish: false,
            kind: match entry.kind {
                KindName::Question => QuestionKind::Question,
                KindName::Wish => QuestionKind::Wish,
                KindName::View => QuestionKind::View,
            },
        };
        let (asked, event) = ask_question(self.db, &asker, new).await?;
        self.events.push(event);
        if let Some(forward) = &entry.forward {
            let mentor = self.person_as("forward.by", &forward.by).await?;
            let unit = self.organization_id("forward.to", &forward.to).await?;
            let note = forward
                .note
                .as_deref()
                .map(|n| NonEmptyText::input("forward.note", n, MAX_BODY))
                .transpose()?;
            let (_, event) =
                forward_question(self.db, &mentor, asked.id, unit, note, forward.hide_asker)
                    .await?;
            self.events.push(event);
        }
        if let Some(answer) = &entry.answer {
            let by = self.person_as("answer.by", &answer.by).await?;
            let body = NonEmptyText::input("answer.body", &answer.body, MAX_BODY)?;
            let (_, event) = answer_question(self.db, &by, asked.id, body).await?;
            self.events.push(event);
        }
        if let Some(decision) = &entry.decision {
            let by = self.person_as("decision.by", &decision.by).await?;
            let reason = decision
                .reason
                .as_deref()
                .map(|r| NonEmptyText::input("decision.reason", r, MAX_BODY))
                .transpose()?;
            let chosen = match decision.decision {
                DecisionName::Noted => Decision::Noted,
                DecisionName::Planned => Decision::Planned,
                DecisionName::Done => Decision::Done,
                DecisionName::NotPossible => Decision::NotPossible,
            };
            let (_, event) = decide_question(self.db, &by, asked.id, chosen, reason).await?;
            self.events.push(event);
        }
        if let Some(close) = &entry.close {
            let by = self.person_as("close.by", &close.by).await?;
            let reason = NonEmptyText::line("close.reason", &close.reason, MAX_TITLE)?;
            let duplicate_of = match &close.duplicate_of {
                Some(title) => Some(
                    question::Entity::find()
                        .filter(question::Column::CommunityId.eq(asked.community_id))
                        .filter(question::Column::Title.eq(title.trim()))
                        .one(self.db)
                        .await?
                        .ok_or_else(|| {
                            AppError::bad_input(
                                "close.duplicate_of",
                                format!("no question {title:?} in the community"),
                            )
                        })?
                        .id,
                ),
                None => None,
            };
            let (_, event) = close_question(self.db, &by, asked.id, reason, duplicate_of).await?;
            self.events.push(event);
        }
        self.report.added("questions");
        Ok(())
    }

    async fn meeting(&mut self, entry: &MeetingEntry) -> AppResult<()> {
        let exists = meeting::Entity::find()
            .filter(meeting::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("meetings");
            return Ok(());
        }
        let organizer = self.person_as("organizer", &entry.organizer).await?;
        let starts_at = first_start(&entry.first, self.now)?;
        if entry.duration_minutes <= 0 {
            return Err(AppError::bad_input(
                "duration_minutes",
                "must be more than zero",
            ));
        }
        let input = MeetingInput {
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            starts_at,
            ends_at: starts_at + Duration::minutes(entry.duration_minutes),
            place: entry.place.clone(),
            online_url: entry.online_url.clone(),
            agenda: NonEmptyText::input("agenda", &entry.agenda, MAX_BODY)?,
            topic_ids: self.topic_ids(&entry.topics).await?,
            partner_id: self.partner_id(entry.partner.as_deref()).await?,
        };
        let (meetings, event) = schedule(self.db, &organizer, input, entry.monthly).await?;
        self.events.push(event);
        let held: Vec<&meeting::Model> = meetings.iter().filter(|m| m.ends_at < self.now).collect();
        if entry.reports.len() > held.len() {
            return Err(AppError::bad_input(
                "reports",
                format!(
                    "{} reports for {} meetings already held",
                    entry.reports.len(),
                    held.len()
                ),
            ));
        }
        let zone = TimeZone::parse(&entry.first.time_zone)
            .map_err(AppError::invalid("first.time_zone"))?;
        for (i, (report, held)) in entry.reports.iter().zip(held).enumerate() {
            let month = held.starts_at.with_timezone(&zone.tz()).format("%B %Y");
            let report = NewsEntry {
                title: report.title.replace("{month}", &month.to_string()),
                by: report.by.clone(),
                body: report.body.clone(),
                topics: report.topics.clone(),
                partner: report.partner.clone(),
            };
            let label = format!("reports[{i}]");
            self.news(&report, Some(held.id))
                .await
                .map_err(at(&label))?;
        }
        self.report.added("meetings");
        Ok(())
    }

    async fn training(&mut self, entry: &TrainingEntry) -> AppResult<()> {
        let exists = training::Entity::find()
            .filter(training::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("trainings");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let organizer = match &entry.organizer {
            Some(slug) => Some(self.organization_id("organizer", slug).await?),
            None => None,
        };
        let zone = TimeZone::parse(&entry.time_zone).map_err(AppError::invalid("time_zone"))?;
        let time = NaiveTime::parse_from_str(&entry.time, "%H:%M")
            .map_err(|_| AppError::bad_input("time", "is HH:MM, for example 13:00"))?;
        let day =
            self.now.with_timezone(&zone.tz()).date_naive() + Duration::days(entry.days_from_now);
        let starts_at = zone
            .tz()
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| AppError::bad_input("time", "does not exist on that day"))?;
        let description = match entry.description.trim() {
            "" => String::new(),
            text => NonEmptyText::input("description", text, MAX_BODY)?,
        };
        let input = TrainingInput {
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            description,
            starts_at,
            ends_at: starts_at + Duration::minutes(entry.duration_minutes),
            time_zone: zone,
            place: entry.place.clone(),
            online_url: entry.online_url.clone(),
            capacity: entry.capacity,
            topic_ids: self.topic_ids(&entry.topics).await?,
        };
        let (held, event) = schedule_training(self.db, &by, organizer, input).await?;
        self.events.push(event);
        for (i, email) in entry.registered.iter().enumerate() {
            let person = self.person_as(&format!("registered[{i}]"), email).await?;
            let (_, event) = register_for_training(self.db, &person, held.id).await?;
            self.events.push(event);
        }
        self.report.added("trainings");
        Ok(())
    }

    async fn news(&mut self, entry: &NewsEntry, meeting: Option<Uuid>) -> AppResult<()> {
        let exists = news_post::Entity::find()
            .filter(news_post::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("news");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let input = NewsInput {
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &entry.body, MAX_BODY)?,
            topic_ids: self.topic_ids(&entry.topics).await?,
            partner_id: self.partner_id(entry.partner.as_deref()).await?,
        };
        let (_, event) = publish(self.db, &by, input, meeting).await?;
        self.events.push(event);
        self.report.added("news");
        Ok(())
    }

    async fn tip(&mut self, entry: &TipEntry) -> AppResult<()> {
        let organization = self
            .organization_id("organization", &entry.organization)
            .await?;
        let exists = tip::Entity::find()
            .filter(tip::Column::OrganizationId.eq(organization))
            .filter(tip::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("tips");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let input = TipInput {
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &entry.body, MAX_BODY)?,
            topic_ids: self.topic_ids(&entry.topics).await?,
        };
        let (_, event) = create_tip(self.db, &by, organization, input).await?;
        self.events.push(event);
        self.report.added("tips");
        Ok(())
    }

    async fn plan(&mut self, entry: &PlanEntry) -> AppResult<()> {
        let community = self.organization_id("community", &entry.community).await?;
        let year = entry.year.unwrap_or_else(|| self.now.year());
        let exists = community_plan::Entity::find()
            .filter(community_plan::Column::CommunityId.eq(community))
            .filter(community_plan::Column::Year.eq(year))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("plans");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let goals = NonEmptyText::input("goals", &entry.goals, MAX_BODY)?;
        let activities = NonEmptyText::input("activities", &entry.activities, MAX_BODY)?;
        let (_, event) = set_plan(self.db, &by, community, year, goals, activities).await?;
        self.events.push(event);
        self.report.added("plans");
        Ok(())
    }

    async fn project(&mut self, entry: &ProjectEntry) -> AppResult<()> {
        let exists = project::Entity::find()
            .filter(project::Column::Name.eq(entry.name.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("projects");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let community = self.organization_id("community", &entry.community).await?;
        let status = match entry.status.as_str() {
            "planned" => ProjectStatus::Planned,
            "active" => ProjectStatus::Active,
            "finished" => ProjectStatus::Finished,
            _ => {
                return Err(AppError::bad_input(
                    "status",
                    "is planned, active or finished",
                ));
            }
        };
        let today = self.now.date_naive();
        let input = ProjectInput {
            name: NonEmptyText::line("name", &entry.name, MAX_TITLE)?,
            goal: NonEmptyText::input("goal", &entry.goal, MAX_BODY)?,
            plan_goal: entry.plan_goal.as_ref().map(|goal| {
                (
                    entry.plan_year.unwrap_or_else(|| self.now.year()),
                    goal.trim().to_owned(),
                )
            }),
            status,
            starts_on: entry.started_days_ago.map(|d| today - Duration::days(d)),
            ends_on: entry.ends_in_days.map(|d| today + Duration::days(d)),
            internal: entry.internal,
            topic_ids: self.topic_ids(&entry.topics).await?,
            coordinator_ids: Vec::new(),
        };
        let (started, event) = create_project(self.db, &by, community, input).await?;
        self.events.push(event);
        for (i, email) in entry.members.iter().enumerate() {
            let person = self.person_as(&format!("members[{i}]"), email).await?;
            let (_, event) = join_project(self.db, &person, started.id, None).await?;
            self.events.push(event);
        }
        for (i, update) in entry.updates.iter().enumerate() {
            let field = format!("updates[{i}]");
            let author = self.person_as(&format!("{field}.by"), &update.by).await?;
            let body = NonEmptyText::input(&format!("{field}.body"), &update.body, MAX_BODY)?;
            let (posted, event) = post_project_update(self.db, &author, started.id, body).await?;
            self.events.push(event);
            if let Some(title) = &update.tip {
                let title = NonEmptyText::line(&format!("{field}.tip"), title, MAX_TITLE)?;
                let (_, events) = promote_outcome(self.db, &by, posted.id, title).await?;
                self.events.extend(events);
            }
        }
        self.report.added("projects");
        Ok(())
    }

    /// An organization by slug, in the database (earlier entries of this file included).
    async fn organization_id(&self, field: &str, slug: &str) -> AppResult<Uuid> {
        find_organization_by_slug(self.db, slug.trim())
            .await?
            .map(|o| o.id)
            .ok_or_else(|| {
                AppError::bad_input(
                    field,
                    format!("no organization {slug:?} in the file or the database"),
                )
            })
    }

    async fn partner(&mut self, entry: &PartnerEntry) -> AppResult<()> {
        if find_partner(self.db, entry.slug.trim()).await?.is_some() {
            self.report.kept("partners");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let contacts = parse_contacts(
            entry
                .contacts
                .iter()
                .map(|c| (c.name.as_str(), c.email.as_deref(), c.title.as_deref())),
        )?;
        let scope = match entry.scope {
            PartnerScopeName::Local => PartnerScope::Local,
            PartnerScopeName::National => PartnerScope::National,
            PartnerScopeName::International => PartnerScope::International,
        };
        let input = PartnerInput::parse(
            &entry.slug,
            &entry.name,
            scope,
            &entry.description,
            entry.url.as_deref(),
            contacts,
        )?;
        let (_, event) = create_partner(self.db, &by, input).await?;
        self.events.push(event);
        self.report.added("partners");
        Ok(())
    }

    async fn announcement(&mut self, entry: &AnnouncementEntry) -> AppResult<()> {
        let exists = announcement::Entity::find()
            .filter(announcement::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("announcements");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let addressees = if entry.communities.is_empty() {
            Addressees::All
        } else {
            let mut ids = Vec::with_capacity(entry.communities.len());
            for slug in &entry.communities {
                ids.push(self.organization_id("communities", slug).await?);
            }
            Addressees::Some(ids)
        };
        let new = NewAnnouncement {
            organization_id: self
                .organization_id("organization", &entry.organization)
                .await?,
            title: NonEmptyText::line("title", &entry.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &entry.body, MAX_BODY)?,
            addressees,
            email_staff: entry.email_staff,
            topic_ids: self.topic_ids(&entry.topics).await?,
        };
        let (sent, event) = publish_announcement(self.db, &by, new).await?;
        self.events.push(event);
        for (i, relay) in entry.relayed.iter().enumerate() {
            let field = format!("relayed[{i}]");
            let mentor = self.person_as(&format!("{field}.by"), &relay.by).await?;
            let community = self
                .organization_id(&format!("{field}.community"), &relay.community)
                .await?;
            let how = NonEmptyText::line(&format!("{field}.how"), &relay.how, MAX_TITLE)?;
            let (_, event) = mark_relayed(self.db, &mentor, sent.id, community, how).await?;
            self.events.push(event);
        }
        self.report.added("announcements");
        Ok(())
    }

    async fn agenda_item(&mut self, entry: &AgendaEntry) -> AppResult<()> {
        let exists = agenda_item::Entity::find()
            .filter(agenda_item::Column::Title.eq(entry.title.trim()))
            .one(self.db)
            .await?
            .is_some();
        if exists {
            self.report.kept("agenda");
            return Ok(());
        }
        let by = self.person_as("by", &entry.by).await?;
        let body = match entry.body.trim() {
            "" => String::new(),
            body => NonEmptyText::input("body", body, MAX_BODY)?,
        };
        let title = NonEmptyText::line("title", &entry.title, MAX_TITLE)?;
        let (item, event) = propose_agenda_item(
            self.db,
            &by,
            title,
            body,
            self.topic_ids(&entry.topics).await?,
        )
        .await?;
        self.events.push(event);
        for (i, supporter) in entry.supporters.iter().enumerate() {
            let who = self
                .person_as(&format!("supporters[{i}]"), supporter)
                .await?;
            let (_, event) = support_agenda_item(self.db, &who, item.id, true).await?;
            self.events.extend(event);
        }
        if let Some(placed) = &entry.placed {
            let chair = self.person_as("placed.by", &placed.by).await?;
            let meeting = meeting::Entity::find()
                .filter(meeting::Column::Title.eq(placed.meeting.trim()))
                .filter(meeting::Column::CancelledAt.is_null())
                .filter(meeting::Column::EndsAt.gte(self.now))
                .order_by_asc(meeting::Column::StartsAt)
                .one(self.db)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "placed.meeting",
                        format!("no coming meeting {:?}", placed.meeting),
                    )
                })?;
            let mut items: Vec<Uuid> = agenda_of_meeting(self.db, meeting.id)
                .await?
                .into_iter()
                .map(|i| i.id)
                .collect();
            items.push(item.id);
            let (_, events) = set_agenda(self.db, &chair, meeting.id, &items).await?;
            self.events.extend(events);
        }
        self.report.added("agenda");
        Ok(())
    }

    async fn partner_id(&self, slug: Option<&str>) -> AppResult<Option<Uuid>> {
        let Some(slug) = slug else {
            return Ok(None);
        };
        find_partner(self.db, slug.trim())
            .await?
            .map(|p| Some(p.id))
            .ok_or_else(|| {
                AppError::bad_input(
                    "partner",
                    format!("no partner network {slug:?} in the file or the database"),
                )
            })
    }

    async fn topic_ids(&self, slugs: &[String]) -> AppResult<Vec<Uuid>> {
        let mut ids = Vec::with_capacity(slugs.len());
        for slug in slugs {
            let found = topic::Entity::find()
                .filter(topic::Column::Slug.eq(slug.trim()))
                .one(self.db)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input(
                        "topics",
                        format!("no topic {slug:?} in the file or the database"),
                    )
                })?;
            ids.push(found.id);
        }
        Ok(ids)
    }

    /// A person by email, with their roles, to write as.
    async fn person_as(&self, field: &str, email: &str) -> AppResult<Viewer> {
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.trim().to_lowercase()))
            .one(self.db)
            .await?
            .ok_or_else(|| {
                AppError::bad_input(
                    field,
                    format!("no person {email:?} in the file or the database"),
                )
            })?;
        viewer_for_user(self.db, found).await
    }
}

fn names(names: &Names) -> AppResult<TranslatedNames> {
    TranslatedNames::parse(&names.fi, &names.sv, &names.en)
}

/// The first start of a meeting series: day `day` of the month `months_from_now` away, at
/// `time` in `time_zone`.
fn first_start(start: &Start, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let zone = TimeZone::parse(&start.time_zone).map_err(AppError::invalid("first.time_zone"))?;
    let time = NaiveTime::parse_from_str(&start.time, "%H:%M")
        .map_err(|_| AppError::bad_input("first.time", "is HH:MM, for example 13:00"))?;
    if !(1..=28).contains(&start.day) {
        return Err(AppError::bad_input(
            "first.day",
            "must be between 1 and 28 (every month has it)",
        ));
    }
    let today = now.with_timezone(&zone.tz()).date_naive();
    let months = Months::new(start.months_from_now.unsigned_abs());
    let month = if start.months_from_now < 0 {
        today.checked_sub_months(months)
    } else {
        today.checked_add_months(months)
    };
    let date = month
        .and_then(|d| d.with_day(start.day))
        .ok_or_else(|| AppError::bad_input("first.months_from_now", "is out of range"))?;
    zone.tz()
        .from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::bad_input("first.time", "does not exist on that day"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_parses() {
        let network = parse(include_str!("../demo/network.toml")).unwrap();
        assert_eq!(network.organizations.len(), 16);
        assert!(network.people.len() > 30);
        assert_eq!(network.tips.len(), 20);
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let err = parse("[[people]]\nemail = \"a@b.fi\"\nname = \"A\"\nrole = \"mentor\"\n")
            .unwrap_err()
            .client_message();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("role"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_or_refused_with_a_message(text in "\\PC{0,300}") {
            if let Err(err) = parse(&text) {
                proptest::prop_assert!(!err.client_message().is_empty());
            }
        }

        #[test]
        fn the_demo_file_cut_anywhere_is_read_or_refused(cut in 0usize..30_000) {
            let text = include_str!("../demo/network.toml");
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let _ = parse(&text[..at]);
        }
    }

    #[test]
    fn a_first_start_is_local_time_on_the_day() {
        let now = "2026-11-30T12:00:00Z".parse().unwrap();
        let start = Start {
            months_from_now: -8,
            day: 10,
            time: "13:00".into(),
            time_zone: "Europe/Helsinki".into(),
        };
        // 10 March 2026, 13:00 EET = 11:00 UTC.
        assert_eq!(
            first_start(&start, now).unwrap().to_rfc3339(),
            "2026-03-10T11:00:00+00:00"
        );
        let bad = Start { day: 31, ..start };
        assert!(first_start(&bad, now).is_err());
    }
}
