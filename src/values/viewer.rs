//! Who is acting: a user with the memberships that decide what they may do. A plain value, so
//! that the event log's audiences and every feature can check it without knowing how the
//! caller signed in.

use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::user;
use uuid::Uuid;

/// One of the caller's memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub organization_id: Uuid,
    pub organization_kind: OrganizationKind,
    pub role: Role,
}

/// An authenticated caller with the memberships that decide what they may do.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: user::Model,
    pub token_id: Uuid,
    pub grants: Vec<Grant>,
}

impl Viewer {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }

    /// Holds `role` in `organization` (admins hold every role).
    pub fn has_role(&self, organization: Uuid, role: Role) -> bool {
        self.is_admin() || self.holds(organization, role)
    }

    /// Holds `role` in `organization` through a membership; being an admin does not count.
    /// Used where someone acts *on behalf of* an organization (answering for a community).
    pub fn holds(&self, organization: Uuid, role: Role) -> bool {
        self.grants
            .iter()
            .any(|g| g.organization_id == organization && g.role == role)
    }

    /// The organizations where the caller holds `role`.
    pub fn organizations_with(&self, role: Role) -> Vec<Uuid> {
        self.grants
            .iter()
            .filter(|g| g.role == role)
            .map(|g| g.organization_id)
            .collect()
    }

    /// Holds any role in `organization`.
    pub fn belongs_to(&self, organization: Uuid) -> bool {
        self.grants
            .iter()
            .any(|g| g.organization_id == organization)
    }
}
