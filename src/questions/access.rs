//! Who may read and change which question.

use entity::membership::Role;
use entity::question::{self, QuestionStatus};
use sea_orm::{ColumnTrait, Condition};

use crate::auth::Viewer;

/// The asker, the community's mentors, admins, and — once forwarded — the service unit's
/// contacts.
pub fn can_read(viewer: &Viewer, q: &question::Model) -> bool {
    viewer.is_admin()
        || q.asker_id == viewer.id()
        || viewer.holds(q.community_id, Role::Mentor)
        || sees_as_contact(viewer, q)
}

/// A contact of the unit the question was forwarded to.
pub fn sees_as_contact(viewer: &Viewer, q: &question::Model) -> bool {
    q.service_unit_id
        .is_some_and(|unit| viewer.holds(unit, Role::Contact))
}

/// Whether the asker's identity is shown to `viewer`: hidden from the service unit's contacts
/// when the forwarding mentor asked for it.
pub fn shows_asker(viewer: &Viewer, q: &question::Model) -> bool {
    !q.hide_asker
        || viewer.is_admin()
        || q.asker_id == viewer.id()
        || viewer.holds(q.community_id, Role::Mentor)
}

/// The SQL form of [`can_read`], for lists.
pub fn readable_condition(viewer: &Viewer) -> Condition {
    if viewer.is_admin() {
        return Condition::all();
    }
    Condition::any()
        .add(question::Column::AskerId.eq(viewer.id()))
        .add(question::Column::CommunityId.is_in(viewer.organizations_with(Role::Mentor)))
        .add(
            Condition::all()
                .add(
                    question::Column::ServiceUnitId.is_in(viewer.organizations_with(Role::Contact)),
                )
                .add(question::Column::Status.ne(QuestionStatus::Submitted)),
        )
}
