//! Transactional logic of the directory. Authorization is checked by the caller (admin-only
//! mutations) or here where it depends on the data.

use chrono::Utc;
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::{event, membership, organization, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::password::{check_password_policy, hash_off_runtime};
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::values::{Email, Slug, TimeZone, TranslatedNames};

/// How many mentors one community may have.
pub const MAX_MENTORS_PER_COMMUNITY: u64 = 3;

/// Faculties and education units are communities.
pub fn is_community(kind: OrganizationKind) -> bool {
    matches!(
        kind,
        OrganizationKind::Faculty | OrganizationKind::EducationUnit
    )
}

/// The roles an organization of this kind can hold.
pub fn roles_for(kind: OrganizationKind) -> &'static [Role] {
    match kind {
        OrganizationKind::Faculty | OrganizationKind::EducationUnit => {
            &[Role::Member, Role::Mentor]
        }
        OrganizationKind::ServiceUnit => &[Role::Contact],
        OrganizationKind::Management => &[Role::Lead],
    }
}

/// Organizations, optionally of one kind, in a stable order (kind, then English name).
#[tracing::instrument(skip_all)]
pub async fn list_organizations(
    db: &impl ConnectionTrait,
    kind: Option<OrganizationKind>,
) -> AppResult<Vec<organization::Model>> {
    let mut query = organization::Entity::find();
    if let Some(kind) = kind {
        query = query.filter(organization::Column::Kind.eq(kind));
    }
    Ok(query
        .order_by_asc(organization::Column::Kind)
        .order_by_asc(organization::Column::NameEn)
        .all(db)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_organization_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Every community with its mentors (two queries, whatever the number of communities).
#[tracing::instrument(skip_all)]
pub async fn contacts(
    db: &impl ConnectionTrait,
) -> AppResult<Vec<(organization::Model, Vec<user::Model>)>> {
    let communities = organization::Entity::find()
        .filter(
            organization::Column::Kind
                .is_in([OrganizationKind::Faculty, OrganizationKind::EducationUnit]),
        )
        .order_by_asc(organization::Column::NameEn)
        .all(db)
        .await?;
    let mentors = membership::Entity::find()
        .filter(membership::Column::Role.eq(Role::Mentor))
        .filter(membership::Column::OrganizationId.is_in(communities.iter().map(|c| c.id)))
        .find_also_related(user::Entity)
        .order_by_asc(membership::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(communities
        .into_iter()
        .map(|community| {
            let people = mentors
                .iter()
                .filter(|(m, _)| m.organization_id == community.id)
                .filter_map(|(_, u)| u.clone())
                .collect();
            (community, people)
        })
        .collect())
}

/// A validated new organization.
pub struct NewOrganization {
    pub slug: Slug,
    pub kind: OrganizationKind,
    pub names: TranslatedNames,
}

/// Creates an organization. There is one management organization.
#[tracing::instrument(skip_all)]
pub async fn create_organization(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    new: NewOrganization,
) -> AppResult<(organization::Model, event::Model)> {
    if new.kind == OrganizationKind::Management
        && organization::Entity::find()
            .filter(organization::Column::Kind.eq(OrganizationKind::Management))
            .count(db)
            .await?
            > 0
    {
        return Err(AppError::conflict(
            Some("kind"),
            "The network already has its management organization.",
        ));
    }
    let now = Utc::now();
    let org = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(new.slug.into_inner()),
        kind: Set(new.kind),
        name_fi: Set(new.names.fi),
        name_sv: Set(new.names.sv),
        name_en: Set(new.names.en),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "slug",
        "An organization with this slug already exists.",
    ))?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::OrganizationCreated,
            actor_id: actor,
            subject_id: org.id,
            object_id: None,
            organization_ids: vec![org.id],
            topic_ids: vec![],
            audience: vec![Reader::Public],
        },
    )
    .await?;
    Ok((org, event))
}

/// A validated new user. Without a password the account has none until its owner sets one
/// with the link their welcome email carries (`account_created`).
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub locale: entity::user::Locale,
    pub time_zone: TimeZone,
    pub is_admin: bool,
    pub password: Option<String>,
}

/// The created user; `password_link_sent` when it has no password yet, so its welcome email
/// carries a link to set one.
pub struct CreatedUser {
    pub user: user::Model,
    pub password_link_sent: bool,
}

/// Creates a user, with an Argon2id hash of the password if one was given. The event plans
/// the welcome email ([`crate::notify::rules`]).
#[tracing::instrument(skip_all)]
pub async fn create_user(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    new: NewUser,
) -> AppResult<(CreatedUser, event::Model)> {
    let password_hash = match new.password {
        Some(password) => {
            check_password_policy(&password)?;
            Some(hash_off_runtime(&password).await?)
        }
        None => None,
    };
    let user = insert_account(
        db,
        Account {
            email: new.email,
            display_name: new.display_name,
            locale: new.locale,
            time_zone: new.time_zone,
            is_admin: new.is_admin,
            password_hash,
            oidc_subject: None,
        },
    )
    .await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::UserCreated,
            actor_id: actor,
            subject_id: user.id,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![],
            audience: vec![Reader::User { id: user.id }],
        },
    )
    .await?;
    Ok((
        CreatedUser {
            password_link_sent: user.password_hash.is_none(),
            user,
        },
        event,
    ))
}

/// A user row to insert.
pub struct Account {
    pub email: Email,
    pub display_name: String,
    pub locale: entity::user::Locale,
    pub time_zone: TimeZone,
    pub is_admin: bool,
    pub password_hash: Option<String>,
    /// The single sign-on subject, for someone made on their first sign-in.
    pub oidc_subject: Option<String>,
}

/// Inserts a user with the default digest time (07, Mondays); `CONFLICT` on `email` for an
/// address in use. The caller appends the event.
pub async fn insert_account(db: &impl ConnectionTrait, account: Account) -> AppResult<user::Model> {
    let now = Utc::now();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(account.email.into_inner()),
        display_name: Set(account.display_name),
        locale: Set(account.locale),
        time_zone: Set(account.time_zone.name().to_owned()),
        digest_hour: Set(7),
        digest_weekday: Set(0),
        is_admin: Set(account.is_admin),
        password_hash: Set(account.password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        email_suspended_at: Set(None),
        deactivated_at: Set(None),
        oidc_subject: Set(account.oidc_subject),
        erased_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "email",
        "A user with this email already exists.",
    ))
}

/// Gives a user a role in an organization, checking that the role fits the organization's kind
/// and that a community keeps at most three mentors.
#[tracing::instrument(skip_all)]
pub async fn add_membership(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    user_id: Uuid,
    organization_id: Uuid,
    role: Role,
) -> AppResult<(membership::Model, event::Model)> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let org = organization::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    if !roles_for(org.kind).contains(&role) {
        return Err(AppError::bad_input(
            "role",
            format!(
                "a {} cannot have the role {}",
                kind_label(org.kind),
                role_label(role)
            ),
        ));
    }
    if role == Role::Mentor {
        let mentors = org
            .find_related(membership::Entity)
            .filter(membership::Column::Role.eq(Role::Mentor))
            .count(db)
            .await?;
        if mentors >= MAX_MENTORS_PER_COMMUNITY {
            return Err(AppError::conflict(
                Some("role"),
                format!("A community has at most {MAX_MENTORS_PER_COMMUNITY} mentors."),
            ));
        }
    }
    let membership = membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        organization_id: Set(org.id),
        role: Set(role),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "role",
        "The user already has this role in this organization.",
    ))?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::MembershipAdded,
            actor_id: actor,
            subject_id: user.id,
            object_id: None,
            organization_ids: vec![org.id],
            topic_ids: vec![],
            audience: vec![Reader::User { id: user.id }, Reader::organization(org.id)],
        },
    )
    .await?;
    Ok((membership, event))
}

/// Removes a membership.
#[tracing::instrument(skip_all)]
pub async fn remove_membership(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    membership_id: Uuid,
) -> AppResult<(membership::Model, event::Model)> {
    let membership = membership::Entity::find_by_id(membership_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("membership"))?;
    membership.clone().delete(db).await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::MembershipRemoved,
            actor_id: actor,
            subject_id: membership.user_id,
            object_id: None,
            organization_ids: vec![membership.organization_id],
            topic_ids: vec![],
            audience: vec![
                Reader::User {
                    id: membership.user_id,
                },
                Reader::organization(membership.organization_id),
            ],
        },
    )
    .await?;
    Ok((membership, event))
}

fn kind_label(kind: OrganizationKind) -> &'static str {
    match kind {
        OrganizationKind::Faculty => "faculty",
        OrganizationKind::EducationUnit => "education unit",
        OrganizationKind::ServiceUnit => "service unit",
        OrganizationKind::Management => "management organization",
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Member => "member",
        Role::Mentor => "mentor",
        Role::Contact => "contact",
        Role::Lead => "lead",
    }
}

/// Deactivates a person who left: they cannot sign in (every session and sign-in link ends,
/// on every instance: the event closes their sockets), their roles are taken away, emails
/// waiting for them are not sent and no new ones are planned; what they wrote stays under
/// their name, marked as former. The last active administrator cannot be deactivated, nor can
/// an administrator deactivate themselves.
#[tracing::instrument(skip_all)]
pub async fn deactivate_user(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    user_id: Uuid,
) -> AppResult<(user::Model, event::Model)> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::Expr;
    let user = user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.deactivated_at.is_some() {
        return Err(AppError::conflict(None, "The user is deactivated already."));
    }
    if actor == Some(user.id) {
        return Err(AppError::bad_input(
            "userId",
            "you cannot deactivate yourself; ask another administrator",
        ));
    }
    if user.is_admin {
        let admins = user::Entity::find()
            .filter(user::Column::IsAdmin.eq(true))
            .filter(user::Column::DeactivatedAt.is_null())
            .count(db)
            .await?;
        if admins <= 1 {
            return Err(AppError::conflict(
                Some("userId"),
                "The last active administrator cannot be deactivated.",
            ));
        }
    }
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.deactivated_at = Set(Some(now));
    active.updated_at = Set(now);
    let user = active.update(db).await?;
    entity::access_token::Entity::update_many()
        .col_expr(
            entity::access_token::Column::RevokedAt,
            Expr::value(Some(now)),
        )
        .filter(entity::access_token::Column::UserId.eq(user.id))
        .filter(entity::access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    entity::sign_in_link::Entity::update_many()
        .col_expr(entity::sign_in_link::Column::UsedAt, Expr::value(Some(now)))
        .filter(entity::sign_in_link::Column::UserId.eq(user.id))
        .filter(entity::sign_in_link::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    entity::delivery::Entity::update_many()
        .col_expr(
            entity::delivery::Column::Status,
            Expr::value(entity::delivery::DeliveryStatus::Dead),
        )
        .col_expr(
            entity::delivery::Column::LastError,
            Expr::value(Some("not sent: the recipient was deactivated".to_owned())),
        )
        .col_expr(entity::delivery::Column::UpdatedAt, Expr::value(now))
        .filter(entity::delivery::Column::RecipientId.eq(user.id))
        .filter(entity::delivery::Column::Status.eq(entity::delivery::DeliveryStatus::Pending))
        .exec(db)
        .await?;
    let organizations: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::OrganizationId)
        .filter(membership::Column::UserId.eq(user.id))
        .into_tuple()
        .all(db)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::UserId.eq(user.id))
        .exec(db)
        .await?;
    let mut audience = vec![Reader::User { id: user.id }];
    audience.extend(organizations.iter().map(|id| Reader::organization(*id)));
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::UserDeactivated,
            actor_id: actor,
            subject_id: user.id,
            object_id: None,
            organization_ids: organizations,
            topic_ids: vec![],
            audience,
        },
    )
    .await?;
    Ok((user, event))
}

/// Lets a deactivated person sign in again (an admin's mistake, someone back). Their former
/// roles are not given back: an admin or the staff import gives the current ones.
#[tracing::instrument(skip_all)]
pub async fn reactivate_user(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    user_id: Uuid,
) -> AppResult<(user::Model, event::Model)> {
    use sea_orm::QuerySelect;
    let user = user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.deactivated_at.is_none() {
        return Err(AppError::conflict(None, "The user is active."));
    }
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.deactivated_at = Set(None);
    active.updated_at = Set(now);
    let user = active.update(db).await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::UserReactivated,
            actor_id: actor,
            subject_id: user.id,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![],
            audience: vec![Reader::User { id: user.id }],
        },
    )
    .await?;
    Ok((user, event))
}

/// Which users an admin looks for.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Part of the name or email, any case.
    pub search: Option<String>,
    pub organization_id: Option<Uuid>,
    pub role: Option<Role>,
    /// Only active (`true`) or only deactivated (`false`) accounts.
    pub active: Option<bool>,
}

/// Users matching `filter`, newest first, one page (without password hashes).
#[tracing::instrument(skip_all)]
pub async fn list_users(
    db: &impl ConnectionTrait,
    filter: &UserFilter,
    page: &crate::db::pagination::Page,
) -> AppResult<Vec<user::Model>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
    let mut select = crate::db::users::without_password();
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let like = |column: user::Column| {
            Expr::expr(Func::lower(Expr::col((user::Entity, column))))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            sea_orm::Condition::any()
                .add(like(user::Column::DisplayName))
                .add(like(user::Column::Email)),
        );
    }
    if filter.organization_id.is_some() || filter.role.is_some() {
        let mut members = Query::select();
        members
            .column(membership::Column::UserId)
            .from(membership::Entity);
        if let Some(org) = filter.organization_id {
            members.and_where(membership::Column::OrganizationId.eq(org));
        }
        if let Some(role) = filter.role {
            members.and_where(membership::Column::Role.eq(role));
        }
        select = select.filter(user::Column::Id.in_subquery(members.to_owned()));
    }
    match filter.active {
        Some(true) => select = select.filter(user::Column::DeactivatedAt.is_null()),
        Some(false) => select = select.filter(user::Column::DeactivatedAt.is_not_null()),
        None => {}
    }
    if let Some(after) = page.after {
        select = select.filter(user::Column::Id.lt(after));
    }
    Ok(select
        .order_by_desc(user::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}

/// A person changes their own name, language or time zone (`None` leaves one as it is).
#[tracing::instrument(skip_all)]
pub async fn update_profile(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    display_name: Option<String>,
    locale: Option<entity::user::Locale>,
    time_zone: Option<TimeZone>,
) -> AppResult<(user::Model, event::Model)> {
    let user = crate::db::users::without_password()
        .filter(user::Column::Id.eq(user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let mut active = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(user.id),
        ..Default::default()
    };
    if let Some(name) = display_name {
        active.display_name = Set(name);
    }
    if let Some(locale) = locale {
        active.locale = Set(locale);
    }
    if let Some(zone) = time_zone {
        active.time_zone = Set(zone.name().to_owned());
    }
    active.updated_at = Set(Utc::now());
    active.update(db).await?;
    let user = crate::db::users::without_password()
        .filter(user::Column::Id.eq(user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let event = user_updated(db, user.id).await?;
    Ok((user, event))
}

/// The `user.updated` event of a changed name or language, for the person themselves.
pub async fn user_updated(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind: EventKind::UserUpdated,
            actor_id: None,
            subject_id: user_id,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![],
            audience: vec![Reader::User { id: user_id }],
        },
    )
    .await
}

/// Renames an organization in its three languages (its slug and kind stay).
#[tracing::instrument(skip_all)]
pub async fn rename_organization(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    id: Uuid,
    names: TranslatedNames,
) -> AppResult<(organization::Model, event::Model)> {
    let org = organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    let mut active: organization::ActiveModel = org.into();
    active.name_fi = Set(names.fi);
    active.name_sv = Set(names.sv);
    active.name_en = Set(names.en);
    let org = active.update(db).await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::OrganizationUpdated,
            actor_id: actor,
            subject_id: org.id,
            object_id: None,
            organization_ids: vec![org.id],
            topic_ids: vec![],
            audience: vec![Reader::Public],
        },
    )
    .await?;
    Ok((org, event))
}
