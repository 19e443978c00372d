//! Transactional logic of partner networks.

use chrono::Utc;
use entity::event;
use entity::partner_network::{self, PartnerScope};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::values::{Email, NonEmptyText, Slug, web_link};

/// Most contact people one partner network lists.
pub const MAX_CONTACTS: usize = 20;
/// Longest name of a network or a person.
const MAX_NAME: usize = 200;
/// Longest description.
const MAX_DESCRIPTION: usize = 20_000;

/// A contact person of a partner network, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerContact {
    pub name: String,
    pub email: Option<String>,
    /// Their role in the partner network ("coordinator").
    pub title: Option<String>,
}

/// A value as given, none when blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl PartnerContact {
    /// Checks a contact as given; `at` names it in errors (`contacts[2].email`).
    pub fn parse(
        at: &str,
        name: &str,
        email: Option<&str>,
        title: Option<&str>,
    ) -> AppResult<Self> {
        Ok(Self {
            name: NonEmptyText::line(&format!("{at}.name"), name, MAX_NAME)?,
            email: given(email)
                .map(|e| {
                    Email::parse(e)
                        .map(|e| e.as_str().to_owned())
                        .map_err(AppError::invalid(&format!("{at}.email")))
                })
                .transpose()?,
            title: given(title)
                .map(|t| NonEmptyText::line(&format!("{at}.title"), t, MAX_NAME))
                .transpose()?,
        })
    }
}

/// Checks contact people as given (name, email, title), at most [`MAX_CONTACTS`], refused
/// before any is read; errors name the one at fault (`contacts[2].email`).
pub fn parse_contacts<'a>(
    given: impl ExactSizeIterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>,
) -> AppResult<Vec<PartnerContact>> {
    if given.len() > MAX_CONTACTS {
        return Err(AppError::bad_input(
            "contacts",
            format!("at most {MAX_CONTACTS}"),
        ));
    }
    given
        .enumerate()
        .map(|(i, (name, email, title))| {
            PartnerContact::parse(&format!("contacts[{i}]"), name, email, title)
        })
        .collect()
}

/// A validated partner network.
#[derive(Debug, Clone)]
pub struct PartnerInput {
    pub slug: Slug,
    pub name: String,
    pub scope: PartnerScope,
    /// Markdown; may be empty.
    pub description: String,
    pub url: Option<String>,
    pub contacts: Vec<PartnerContact>,
}

impl PartnerInput {
    /// Checks the input as given.
    pub fn parse(
        slug: &str,
        name: &str,
        scope: PartnerScope,
        description: &str,
        url: Option<&str>,
        contacts: Vec<PartnerContact>,
    ) -> AppResult<Self> {
        Ok(Self {
            slug: Slug::parse(slug.trim()).map_err(AppError::invalid("slug"))?,
            name: NonEmptyText::line("name", name, MAX_NAME)?,
            scope,
            description: match description.trim() {
                "" => String::new(),
                text => NonEmptyText::input("description", text, MAX_DESCRIPTION)?,
            },
            url: given(url)
                .map(|u| web_link(u).map_err(AppError::invalid("url")))
                .transpose()?,
            contacts,
        })
    }
}

/// Contact people as stored (built by hand: it cannot fail, unlike serializing).
fn contacts_json(contacts: &[PartnerContact]) -> serde_json::Value {
    contacts
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "email": c.email, "title": c.title }))
        .collect()
}

/// The contact people of a stored partner network (none if the stored list cannot be read).
pub fn contacts(partner: &partner_network::Model) -> Vec<PartnerContact> {
    serde_json::from_value(partner.contacts.clone()).unwrap_or_default()
}

fn require_admin(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only administrators keep the list of partner networks.",
        ))
    }
}

async fn record(
    db: &impl ConnectionTrait,
    partner: &partner_network::Model,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: partner.id,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![],
            audience: vec![Reader::Public],
        },
    )
    .await
}

const TAKEN: &str = "A partner network with this slug already exists.";

/// Adds a partner network.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: PartnerInput,
) -> AppResult<(partner_network::Model, event::Model)> {
    require_admin(viewer)?;
    let now = Utc::now();
    let partner = partner_network::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(input.slug.into_inner()),
        name: Set(input.name),
        scope: Set(input.scope),
        description: Set(input.description),
        url: Set(input.url),
        contacts: Set(contacts_json(&input.contacts)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation("slug", TAKEN))?;
    let event = record(db, &partner, EventKind::PartnerCreated, viewer.id()).await?;
    Ok((partner, event))
}

/// Replaces what is known of a partner network, its contact people too.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: PartnerInput,
) -> AppResult<(partner_network::Model, event::Model)> {
    require_admin(viewer)?;
    partner_network::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("partner network"))?;
    let partner = partner_network::ActiveModel {
        id: Set(id),
        slug: Set(input.slug.into_inner()),
        name: Set(input.name),
        scope: Set(input.scope),
        description: Set(input.description),
        url: Set(input.url),
        contacts: Set(contacts_json(&input.contacts)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await
    .map_err(AppError::unique_violation("slug", TAKEN))?;
    let event = record(db, &partner, EventKind::PartnerUpdated, viewer.id()).await?;
    Ok((partner, event))
}

/// Every partner network, or those of one scope: local ones first, then by name.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    scope: Option<PartnerScope>,
) -> AppResult<Vec<partner_network::Model>> {
    let mut query = partner_network::Entity::find();
    if let Some(scope) = scope {
        query = query.filter(partner_network::Column::Scope.eq(scope));
    }
    let mut partners = query
        .order_by_asc(partner_network::Column::Name)
        .all(db)
        .await?;
    partners.sort_by_key(|p| match p.scope {
        PartnerScope::Local => 0,
        PartnerScope::National => 1,
        PartnerScope::International => 2,
    });
    Ok(partners)
}

/// One partner network by its slug.
#[tracing::instrument(skip_all)]
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<partner_network::Model>> {
    Ok(partner_network::Entity::find()
        .filter(partner_network::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// `id` when it names a partner network; an unknown one is `BAD_USER_INPUT` on `field`.
#[tracing::instrument(skip_all)]
pub async fn existing(
    db: &impl ConnectionTrait,
    field: &str,
    id: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let Some(id) = id else {
        return Ok(None);
    };
    partner_network::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|p| Some(p.id))
        .ok_or_else(|| AppError::bad_input(field, "no such partner network"))
}
