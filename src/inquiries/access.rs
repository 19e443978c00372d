//! Who may read and change which inquiry, slot and thread.

use entity::inquiry::{self, InquiryStatus};
use entity::inquiry_target;
use entity::membership::Role;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::auth::Viewer;

/// May act for the inquiring organization: its leads (management) or contacts (service unit).
pub fn acts_for_inquirer(viewer: &Viewer, inquiry: &inquiry::Model) -> bool {
    viewer.holds(inquiry.organization_id, Role::Lead)
        || viewer.holds(inquiry.organization_id, Role::Contact)
}

fn is_lead(viewer: &Viewer) -> bool {
    viewer.grants.iter().any(|g| g.role == Role::Lead)
}

/// May read the inquiry: admins and the inquiring organization always; leads once published;
/// members of an addressed community once published.
pub fn can_read(viewer: &Viewer, inquiry: &inquiry::Model, communities: &[Uuid]) -> bool {
    if viewer.is_admin() || viewer.belongs_to(inquiry.organization_id) {
        return true;
    }
    inquiry.status != InquiryStatus::Draft
        && (is_lead(viewer) || communities.iter().any(|c| viewer.belongs_to(*c)))
}

/// Sees every slot: admins, leads and the inquiring organization. Others see their own
/// community's slot, and the other slots once the inquiry is closed or its answers are shared.
pub fn sees_all_slots(viewer: &Viewer, inquiry: &inquiry::Model) -> bool {
    viewer.is_admin()
        || is_lead(viewer)
        || viewer.belongs_to(inquiry.organization_id)
        || inquiry.status == InquiryStatus::Closed
        || inquiry.answers_shared
}

/// May read one slot (given that the inquiry itself is readable).
pub fn can_read_slot(
    viewer: &Viewer,
    inquiry: &inquiry::Model,
    slot: &inquiry_target::Model,
) -> bool {
    sees_all_slots(viewer, inquiry) || viewer.belongs_to(slot.community_id)
}

/// May read and write the follow-up thread of a slot: the inquirer's side and the community's
/// mentors (admins and leads read it too).
pub fn can_read_thread(
    viewer: &Viewer,
    inquiry: &inquiry::Model,
    slot: &inquiry_target::Model,
) -> bool {
    viewer.is_admin() || is_lead(viewer) || can_post_to_thread(viewer, inquiry, slot)
}

pub fn can_post_to_thread(
    viewer: &Viewer,
    inquiry: &inquiry::Model,
    slot: &inquiry_target::Model,
) -> bool {
    acts_for_inquirer(viewer, inquiry) || viewer.holds(slot.community_id, Role::Mentor)
}

/// The SQL form of [`can_read`], for lists.
pub fn readable_condition(viewer: &Viewer) -> Condition {
    if viewer.is_admin() {
        return Condition::all();
    }
    let own: Vec<Uuid> = viewer.grants.iter().map(|g| g.organization_id).collect();
    let published = inquiry::Column::Status.ne(InquiryStatus::Draft);
    let mut readable = Condition::any().add(inquiry::Column::OrganizationId.is_in(own.clone()));
    if is_lead(viewer) {
        readable = readable.add(published);
    } else if !own.is_empty() {
        readable = readable.add(
            Condition::all().add(published).add(
                inquiry::Column::Id.in_subquery(
                    Query::select()
                        .column(inquiry_target::Column::InquiryId)
                        .from(inquiry_target::Entity)
                        .and_where(inquiry_target::Column::CommunityId.is_in(own))
                        .to_owned(),
                ),
            ),
        );
    }
    readable
}
