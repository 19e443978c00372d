//! Who may read an event, decided when the event is written and stored with it, so that live
//! fan-out to many subscribers needs no database round trip.

use entity::membership::Role;
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::viewer::Viewer;

/// One kind of reader. Administrators read every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reader {
    /// Anyone, visitors included.
    Public,
    /// One user.
    User { id: Uuid },
    /// Members of one organization holding one of `roles` (any role when empty).
    Organization {
        id: Uuid,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        roles: Vec<String>,
    },
    /// Every lead of the management organization.
    Leads,
    /// Every digimentor of the network, of whichever community.
    Mentors,
}

impl Reader {
    /// Every member of `organization`, whatever their role.
    pub fn organization(id: Uuid) -> Self {
        Self::Organization {
            id,
            roles: Vec::new(),
        }
    }

    /// Members of `organization` holding `role`.
    pub fn role_in(id: Uuid, role: Role) -> Self {
        Self::Organization {
            id,
            roles: vec![role.to_value()],
        }
    }

    fn admits(&self, viewer: Option<&Viewer>) -> bool {
        match self {
            Self::Public => true,
            Self::User { id } => viewer.is_some_and(|v| v.id() == *id),
            Self::Organization { id, roles } => viewer.is_some_and(|v| {
                v.grants.iter().any(|g| {
                    g.organization_id == *id
                        && (roles.is_empty() || roles.contains(&g.role.to_value()))
                })
            }),
            Self::Leads => viewer.is_some_and(|v| v.grants.iter().any(|g| g.role == Role::Lead)),
            Self::Mentors => {
                viewer.is_some_and(|v| v.grants.iter().any(|g| g.role == Role::Mentor))
            }
        }
    }
}

/// Whether `viewer` (or a visitor, `None`) may read an event with this audience.
pub fn admits(audience: &[Reader], viewer: Option<&Viewer>) -> bool {
    viewer.is_some_and(Viewer::is_admin) || audience.iter().any(|reader| reader.admits(viewer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::viewer::Grant;
    use entity::organization::OrganizationKind;

    fn viewer(grants: Vec<Grant>, is_admin: bool) -> Viewer {
        let now = chrono::Utc::now();
        Viewer {
            user: entity::user::Model {
                id: Uuid::now_v7(),
                email: "v@uni.test".into(),
                display_name: "V".into(),
                locale: entity::user::Locale::Fi,
                time_zone: "Europe/Helsinki".into(),
                digest_hour: 7,
                digest_weekday: 0,
                is_admin,
                password_hash: None,
                created_at: now,
                updated_at: now,
                email_suspended_at: None,
                deactivated_at: None,
                oidc_subject: None,
                erased_at: None,
            },
            token_id: Uuid::now_v7(),
            grants,
        }
    }

    #[test]
    fn roles_narrow_an_organization_reader() {
        let org = Uuid::now_v7();
        let staff = viewer(
            vec![Grant {
                organization_id: org,
                organization_kind: OrganizationKind::Faculty,
                role: Role::Member,
            }],
            false,
        );
        let mentor = viewer(
            vec![Grant {
                organization_id: org,
                organization_kind: OrganizationKind::Faculty,
                role: Role::Mentor,
            }],
            false,
        );
        let audience = [Reader::role_in(org, Role::Mentor)];
        assert!(admits(&audience, Some(&mentor)));
        assert!(!admits(&audience, Some(&staff)));
        assert!(admits(&[Reader::organization(org)], Some(&staff)));
        assert!(!admits(&audience, None));
        assert!(admits(&audience, Some(&viewer(vec![], true))));
        assert!(admits(&[Reader::Public], None));
        assert!(admits(&[Reader::Mentors], Some(&mentor)));
        assert!(!admits(&[Reader::Mentors], Some(&staff)));
        assert!(!admits(&[Reader::Mentors], None));
    }

    #[test]
    fn audience_round_trips_through_json() {
        let audience = vec![
            Reader::Public,
            Reader::Leads,
            Reader::role_in(Uuid::nil(), Role::Contact),
        ];
        let json = serde_json::to_value(&audience).unwrap();
        assert_eq!(
            serde_json::from_value::<Vec<Reader>>(json).unwrap(),
            audience
        );
    }
}
