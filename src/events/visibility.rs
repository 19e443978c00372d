//! Who may read which event.

use entity::event;

use super::kinds;
use super::service::ids;
use crate::auth::Viewer;

/// Whether `viewer` (or a visitor, `None`) may see `event`.
///
/// Open content (organizations, topics) is public; account changes are visible to admins, to the
/// person concerned and to members of the organizations concerned. Unknown kinds are visible to
/// admins only, so a new kind never leaks by default.
pub fn can_read(viewer: Option<&Viewer>, event: &event::Model) -> bool {
    if viewer.is_some_and(Viewer::is_admin) {
        return true;
    }
    match event.kind.as_str() {
        kinds::ORGANIZATION_CREATED | kinds::TOPIC_CREATED => true,
        kinds::USER_CREATED => viewer.is_some_and(|v| v.id() == event.subject_id),
        kinds::MEMBERSHIP_ADDED | kinds::MEMBERSHIP_REMOVED => viewer.is_some_and(|v| {
            v.id() == event.subject_id
                || ids(&event.organization_ids)
                    .iter()
                    .any(|org| v.belongs_to(*org))
        }),
        _ => false,
    }
}
