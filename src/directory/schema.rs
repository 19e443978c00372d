//! GraphQL types and thin resolvers of the directory.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{membership, organization, user};

use super::loaders::{MembersByOrganization, MembershipsByUser, OrganizationById, UserById};
use super::service::{self, NewOrganization, NewUser};
use crate::audit::service as audit;
use crate::auth::{Viewer, require_admin, viewer};
use crate::error::{AppError, AppResult};
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::state::AppState;
use crate::values::{Email, NonEmptyText, Slug, TimeZone, TranslatedNames};

/// Kind of organization. Faculties and education units are communities.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::organization::OrganizationKind")]
pub enum OrganizationKind {
    /// A faculty: a community with digimentors.
    Faculty,
    /// An education unit: a community with digimentors.
    EducationUnit,
    /// A service unit, with contact persons.
    ServiceUnit,
    /// The university's management.
    Management,
}

/// A role held in an organization.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::membership::Role")]
pub enum Role {
    /// Staff member of a community.
    Member,
    /// Digimentor of a community.
    Mentor,
    /// Contact person of a service unit.
    Contact,
    /// Member of management.
    Lead,
}

/// Language of emails and pages.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::user::Locale")]
pub enum Locale {
    /// Finnish.
    Fi,
    /// Swedish.
    Sv,
    /// English.
    En,
}

/// A name in the three languages of the university.
#[derive(SimpleObject, Clone)]
pub struct TranslatedName {
    /// In Finnish.
    pub fi: String,
    /// In Swedish.
    pub sv: String,
    /// In English.
    pub en: String,
}

impl TranslatedName {
    pub fn new(fi: &str, sv: &str, en: &str) -> Self {
        Self {
            fi: fi.to_owned(),
            sv: sv.to_owned(),
            en: en.to_owned(),
        }
    }

    pub fn pick(&self, locale: entity::user::Locale) -> &str {
        match locale {
            entity::user::Locale::Fi => &self.fi,
            entity::user::Locale::Sv => &self.sv,
            entity::user::Locale::En => &self.en,
        }
    }
}

/// The language to show names in: the argument, else the caller's own, else Finnish.
pub fn display_locale(ctx: &Context<'_>, requested: Option<Locale>) -> entity::user::Locale {
    requested
        .map(Into::into)
        .or_else(|| viewer(ctx).map(|v| v.user.locale))
        .unwrap_or(entity::user::Locale::Fi)
}

/// A faculty, education unit, service unit or the management organization.
pub struct Organization(pub organization::Model);

/// A faculty, an education unit, a service unit or the university's management.
#[Object]
impl Organization {
    /// The organization's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// URL-safe identifier, e.g. `faculty-of-science`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// What kind of unit it is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    /// Whether this is a community (faculty or education unit) with digimentors.
    async fn is_community(&self) -> bool {
        service::is_community(self.0.kind)
    }
    /// The name in Finnish, Swedish and English.
    async fn names(&self) -> TranslatedName {
        TranslatedName::new(&self.0.name_fi, &self.0.name_sv, &self.0.name_en)
    }
    /// The name in `locale`, or in the caller's locale.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language; defaults to Finnish.")] locale: Option<Locale>,
    ) -> String {
        TranslatedName::new(&self.0.name_fi, &self.0.name_sv, &self.0.name_en)
            .pick(display_locale(ctx, locale))
            .to_owned()
    }
    /// People of this organization. Mentors, contacts and leads are public; staff members are
    /// listed only to administrators and to this organization's mentors.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only members with this role.")] role: Option<Role>,
    ) -> async_graphql::Result<Vec<Member>> {
        let may_see_staff =
            viewer(ctx).is_some_and(|v| v.has_role(self.0.id, entity::membership::Role::Mentor));
        if role == Some(Role::Member) && !may_see_staff {
            return Err(AppError::forbidden(
                "Only administrators and the community's mentors may list its staff.",
            )
            .into());
        }
        let rows = load_one::<MembersByOrganization>(ctx, self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|(m, _)| role.is_none_or(|r| entity::membership::Role::from(r) == m.role))
            .filter(|(m, _)| m.role != entity::membership::Role::Member || may_see_staff)
            .map(|(m, u)| Member {
                role: m.role.into(),
                person: Person::participant(u),
            })
            .collect())
    }
    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person as others see them: name, and a work email where it may be shown.
pub struct Person(pub user::Model, EmailShown);

/// When a person's email is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EmailShown {
    /// The caller already deals with the person (an inquiry's or question's participants,
    /// seen by those who may read it; an organization's members, seen by those who may list
    /// them): shown.
    ToParticipants,
    /// Authors of open content (news, tips, plans): shown only for the people of the contacts
    /// page (mentors, contacts, leads), to the person and to administrators.
    IfPublic,
}

impl Person {
    /// Someone the caller deals with (see [`EmailShown::ToParticipants`]).
    pub fn participant(user: user::Model) -> Self {
        Self(user, EmailShown::ToParticipants)
    }

    /// The author of open content (see [`EmailShown::IfPublic`]).
    pub fn author(user: user::Model) -> Self {
        Self(user, EmailShown::IfPublic)
    }
}

/// Someone as other users see them.
#[Object]
impl Person {
    /// The person's user id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Their name.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// True for someone who has left (their account is deactivated): what they wrote stays
    /// under their name, marked as theirs when they were here.
    async fn former(&self) -> bool {
        self.0.deactivated_at.is_some()
    }
    /// Work email. Authors of open content (news, tips, plans) show it only if they are on
    /// the contacts page (mentors, contacts, leads); otherwise only to themselves and
    /// administrators (`null` for anyone else). Participants of an inquiry or question show it
    /// to those who may read it.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if self.0.erased_at.is_some() {
            return Ok(None);
        }
        let me_or_admin = viewer(ctx).is_some_and(|v| v.is_admin() || v.id() == self.0.id);
        if me_or_admin || self.1 == EmailShown::ToParticipants {
            return Ok(Some(&self.0.email));
        }
        let memberships = load_one::<MembershipsByUser>(ctx, self.0.id)
            .await?
            .unwrap_or_default();
        let public = memberships.iter().any(|m| {
            matches!(
                m.role,
                membership::Role::Mentor | membership::Role::Contact | membership::Role::Lead
            )
        });
        Ok(public.then_some(self.0.email.as_str()))
    }
}

/// A person in a role of one organization.
#[derive(SimpleObject)]
pub struct Member {
    /// The member's role in the organization.
    pub role: Role,
    /// The member.
    pub person: Person,
}

/// A user as they (or an administrator) see themselves.
pub struct User(pub user::Model);

/// A user account (yourself, or anyone for an administrator).
#[Object]
impl User {
    /// The user's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The user's email address.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The name other users see.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// The language of the user's emails.
    async fn locale(&self) -> Locale {
        self.0.locale.into()
    }
    /// IANA time zone for digests and reminders.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// Whether the user administers the service.
    async fn is_admin(&self) -> bool {
        self.0.is_admin
    }
    /// Local hour (0–23) of digests.
    async fn digest_hour(&self) -> i32 {
        self.0.digest_hour
    }
    /// Weekday of weekly digests, 0 = Monday … 6 = Sunday.
    async fn digest_weekday(&self) -> i32 {
        self.0.digest_weekday
    }
    /// The organizations this user belongs to and the roles held there.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Membership>> {
        Ok(load_one::<MembershipsByUser>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Membership)
            .collect())
    }
    /// When the account was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the account was deactivated (`null` while active): the person cannot sign in and
    /// is emailed nothing.
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deactivated_at
    }
    /// True for a deactivated account (as on `Person`).
    async fn former(&self) -> bool {
        self.0.deactivated_at.is_some()
    }
}

/// A user's role in an organization.
pub struct Membership(pub membership::Model);

/// A user's role in an organization.
#[Object]
impl Membership {
    /// The membership's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The organization the role is in.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load_one::<OrganizationById>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("organization").into())
    }
    /// Who holds the role.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        load_one::<UserById>(ctx, self.0.user_id)
            .await?
            .map(Person::participant)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
}

/// One line of the public contacts page.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CommunityContact {
    /// The faculty or education unit.
    pub community: Organization,
    /// The community's digimentors (at most three).
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    pub mentors: Vec<Person>,
}

#[ComplexObject]
impl CommunityContact {
    /// `false` flags a community that has no digimentor yet.
    async fn has_mentor(&self) -> bool {
        !self.mentors.is_empty()
    }
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// Organizations of the network, optionally of one kind.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only organizations of this kind.")] kind: Option<OrganizationKind>,
    ) -> async_graphql::Result<Vec<Organization>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::list_organizations(&state.db, kind.map(Into::into))
            .await?
            .into_iter()
            .map(Organization)
            .collect())
    }

    /// Admin: people of the network, newest first; filtered by a part of the name or email
    /// (any case), an organization, a role and whether the account is active.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Part of the name or email.")] search: Option<String>,
        #[graphql(desc = "Only members of this organization.")] organization_id: Option<ID>,
        #[graphql(desc = "Only people with this role (in the organization, if given).")]
        role: Option<Role>,
        #[graphql(desc = "Only active (true) or only deactivated (false) accounts.")]
        active: Option<bool>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, User>> {
        require_admin(ctx)?;
        if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            return Err(AppError::bad_input("search", "at most 200 characters").into());
        }
        let filter = service::UserFilter {
            search,
            organization_id: organization_id
                .map(|id| parse_id("organizationId", &id))
                .transpose()?,
            role: role.map(Into::into),
            active,
        };
        let page = Page::new(first, after)?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list_users(&state.db, &filter, &page).await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter().map(|u| (u.id, User(u))).collect(),
        ))
    }

    /// Everything the service holds about you, as one JSON document (your account without
    /// the password hash, roles, follows, sessions, what you wrote, the events you caused, the
    /// emails sent to you and administrators' actions on your account): the GDPR's right of
    /// access. The pages offer it as a download at `/me/data.json`.
    async fn my_data(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let viewer = crate::auth::require_viewer(ctx)?;
        let state = ctx.data::<AppState>()?;
        let data = super::privacy::export(&state.db, viewer.id()).await?;
        Ok(serde_json::to_string_pretty(&data)?)
    }

    /// One organization by its slug, or null.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's slug, e.g. `science`.")] slug: String,
    ) -> async_graphql::Result<Option<Organization>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::find_organization_by_slug(&state.db, &slug)
            .await?
            .map(Organization))
    }

    /// The contacts page: every community with its digimentors' names and emails.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CommunityContact>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::contacts(&state.db)
            .await?
            .into_iter()
            .map(|(community, mentors)| CommunityContact {
                community: Organization(community),
                mentors: mentors.into_iter().map(Person::participant).collect(),
            })
            .collect())
    }
}

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// 2–64 lower-case letters, digits and single hyphens.
    pub slug: String,
    /// What kind of unit it is.
    pub kind: OrganizationKind,
    /// The name in Finnish.
    pub name_fi: String,
    /// The name in Swedish.
    pub name_sv: String,
    /// The name in English.
    pub name_en: String,
}

/// A new user.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// The user's email address (unique, case-insensitive).
    pub email: String,
    /// The name other users see.
    pub display_name: String,
    /// The language of the user's emails.
    #[graphql(default_with = "Locale::Fi")]
    pub locale: Locale,
    /// IANA time zone.
    #[graphql(default_with = "String::from(\"Europe/Helsinki\")")]
    pub time_zone: String,
    /// Whether the user administers the service.
    #[graphql(default)]
    pub is_admin: bool,
    /// At least 12 characters. Leave out (the usual way) and the person is emailed a link to
    /// set their own password, valid once for 7 days; nobody else ever knows it.
    pub password: Option<String>,
}

/// The created user.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new user.
    pub user: User,
    /// Whether the person was emailed a link to set their password (no password was given).
    pub password_link_sent: bool,
}

/// A role to give.
#[derive(InputObject)]
pub struct AddMembershipInput {
    /// The user who gets the role.
    pub user_id: ID,
    /// The organization the role is in.
    pub organization_id: ID,
    /// The role to give.
    pub role: Role,
}

/// A person's own name, language and time zone; what is left out stays.
#[derive(InputObject)]
pub struct ProfileInput {
    /// The name others see (one line, at most 200 characters).
    pub display_name: Option<String>,
    /// Language of emails and pages.
    pub locale: Option<Locale>,
    /// IANA time zone, e.g. `Europe/Helsinki`.
    pub time_zone: Option<String>,
}

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Admin: create an organization.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new organization.")] input: CreateOrganizationInput,
    ) -> async_graphql::Result<Organization> {
        let actor = require_admin(ctx)?;
        let new = NewOrganization {
            slug: Slug::parse(input.slug.trim()).map_err(AppError::invalid("slug"))?,
            kind: input.kind.into(),
            names: TranslatedNames::parse(&input.name_fi, &input.name_sv, &input.name_en)?,
        };
        let state = ctx.data::<AppState>()?;
        let org = state
            .changes
            .run(async |txn| {
                audit::created::<organization::Entity, _>(
                    txn,
                    Some(actor.id()),
                    "createOrganization",
                    async || service::create_organization(txn, Some(actor.id()), new).await,
                    |(org, _)| org.id,
                )
                .await
            })
            .await?;
        Ok(Organization(org))
    }

    /// Admin: rename an organization in its three languages (its slug and kind stay).
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization.")] id: ID,
        #[graphql(desc = "The name in Finnish.")] name_fi: String,
        #[graphql(desc = "The name in Swedish.")] name_sv: String,
        #[graphql(desc = "The name in English.")] name_en: String,
    ) -> async_graphql::Result<Organization> {
        let actor = require_admin(ctx)?;
        let id = parse_id("id", &id)?;
        let names = TranslatedNames::parse(&name_fi, &name_sv, &name_en)?;
        let state = ctx.data::<AppState>()?;
        let org = state
            .changes
            .run(async |txn| {
                audit::around::<organization::Entity, _>(
                    txn,
                    audit::Action::by(actor.id(), "updateOrganization", id),
                    async || service::rename_organization(txn, Some(actor.id()), id, names).await,
                )
                .await
            })
            .await?;
        Ok(Organization(org))
    }

    /// Admin: create a user. Without a password the person is emailed a link to set one.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new user.")] input: CreateUserInput,
    ) -> async_graphql::Result<CreateUserPayload> {
        let actor = require_admin(ctx)?;
        let new = new_user(input)?;
        let state = ctx.data::<AppState>()?;
        let created = state
            .changes
            .run(async |txn| {
                audit::created::<user::Entity, _>(
                    txn,
                    Some(actor.id()),
                    "createUser",
                    async || service::create_user(txn, Some(actor.id()), new).await,
                    |(created, _)| created.user.id,
                )
                .await
            })
            .await?;
        Ok(CreateUserPayload {
            user: User(created.user),
            password_link_sent: created.password_link_sent,
        })
    }

    /// Admin: give a user a role in an organization.
    async fn add_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who gets which role where.")] input: AddMembershipInput,
    ) -> async_graphql::Result<Membership> {
        let actor = require_admin(ctx)?;
        let user_id = parse_id("userId", &input.user_id)?;
        let organization_id = parse_id("organizationId", &input.organization_id)?;
        let state = ctx.data::<AppState>()?;
        let membership = state
            .changes
            .run(async |txn| {
                audit::created::<membership::Entity, _>(
                    txn,
                    Some(actor.id()),
                    "addMembership",
                    async || {
                        service::add_membership(
                            txn,
                            Some(actor.id()),
                            user_id,
                            organization_id,
                            input.role.into(),
                        )
                        .await
                    },
                    |(membership, _)| membership.id,
                )
                .await
            })
            .await?;
        Ok(Membership(membership))
    }

    /// Change your own name, language or time zone.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: ProfileInput,
    ) -> async_graphql::Result<User> {
        let viewer = crate::auth::require_viewer(ctx)?;
        let name = input
            .display_name
            .as_deref()
            .map(|n| NonEmptyText::line("displayName", n, 200))
            .transpose()?;
        let zone = input
            .time_zone
            .as_deref()
            .map(|z| TimeZone::parse(z).map_err(AppError::invalid("timeZone")))
            .transpose()?;
        let state = ctx.data::<AppState>()?;
        let user = state
            .changes
            .run(async |txn| {
                service::update_profile(txn, viewer.id(), name, input.locale.map(Into::into), zone)
                    .await
            })
            .await?;
        Ok(User(user))
    }

    /// Admin: deactivate someone who left. Their sessions end at once (WebSocket connections
    /// on every instance too), their roles are taken away, emails waiting for them are not
    /// sent and none are planned any more; what they wrote stays, marked as by a former
    /// member. `CONFLICT` for an inactive user or the last active administrator.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to deactivate.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_admin(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        let state = ctx.data::<AppState>()?;
        let user = state
            .changes
            .run(async |txn| {
                audit::around::<user::Entity, _>(
                    txn,
                    audit::Action::by(actor.id(), "deactivateUser", user_id),
                    async || service::deactivate_user(txn, Some(actor.id()), user_id).await,
                )
                .await
            })
            .await?;
        Ok(User(user))
    }

    /// Admin: let a deactivated user sign in again. Their former roles are not restored.
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to reactivate.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_admin(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        let state = ctx.data::<AppState>()?;
        let user = state
            .changes
            .run(async |txn| {
                audit::around::<user::Entity, _>(
                    txn,
                    audit::Action::by(actor.id(), "reactivateUser", user_id),
                    async || service::reactivate_user(txn, Some(actor.id()), user_id).await,
                )
                .await
            })
            .await?;
        Ok(User(user))
    }

    /// Admin: erase a person, as the GDPR asks. Their name and address are removed everywhere
    /// (emails, received mail, the audit log), their sessions, roles, follows, registrations
    /// and emails are deleted and the account is deactivated for good; what they wrote for
    /// their community (answers, plans, news) stays, shown under `—` as by a former member.
    /// `CONFLICT` for someone erased already.
    async fn erase_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person to erase.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_admin(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        let state = ctx.data::<AppState>()?;
        let user = state
            .changes
            .run(async |txn| {
                let (user, events) = super::privacy::erase(txn, Some(actor.id()), user_id).await?;
                // Only the erased record: the one before holds what was erased.
                let after = audit::snapshot::<user::Entity>(txn, user_id).await?;
                let action = audit::Action::by(actor.id(), "erasePerson", user_id);
                audit::record(txn, action, None, after).await?;
                Ok((user, events))
            })
            .await?;
        Ok(User(user))
    }

    /// Admin: take a role away. Returns the removed membership.
    async fn remove_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership to remove.")] id: ID,
    ) -> async_graphql::Result<Membership> {
        let actor: &Viewer = require_admin(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let membership = state
            .changes
            .run(async |txn| {
                audit::around::<membership::Entity, _>(
                    txn,
                    audit::Action::by(actor.id(), "removeMembership", id),
                    async || service::remove_membership(txn, Some(actor.id()), id).await,
                )
                .await
            })
            .await?;
        Ok(Membership(membership))
    }
}

/// Validates a `CreateUserInput` into a [`NewUser`].
fn new_user(input: CreateUserInput) -> AppResult<NewUser> {
    Ok(NewUser {
        email: Email::parse(&input.email).map_err(AppError::invalid("email"))?,
        display_name: NonEmptyText::line("displayName", &input.display_name, 200)?,
        locale: input.locale.into(),
        time_zone: TimeZone::parse(&input.time_zone).map_err(AppError::invalid("timeZone"))?,
        is_admin: input.is_admin,
        password: input.password,
    })
}
