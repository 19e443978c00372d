//! Database migrations, applied in order by `digimentor migrate` and at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_directory;
mod m20261128_000002_create_event;
mod m20261128_000003_create_inquiry;
mod m20261128_000004_create_question;
mod m20261128_000005_create_delivery;
mod m20261128_000006_create_subscription;
mod m20261128_000007_create_news;
mod m20261128_000008_create_tip;
mod m20261128_000009_create_community_plan;
mod m20261128_000010_create_meeting;
mod m20261128_000011_create_meeting_topic;
mod m20261128_000012_create_login_failure;
mod m20261201_000013_create_sign_in_link;
mod m20261201_000014_create_inbound_mail;
mod m20261201_000015_add_meeting_previous;
mod m20261201_000016_add_sign_in_link_purpose;
mod m20261201_000017_add_meeting_cancellation;
mod m20261201_000018_add_question_hide_wish;
mod m20261201_000019_create_idempotency_key;
mod m20261201_000020_index_delivery_thread;
mod m20261201_000021_compress_delivery_payload;
mod m20261201_000022_create_partner_network;
mod m20261201_000023_add_question_kind_and_decision;
mod m20261201_000024_create_agenda_item;
mod m20261201_000025_create_announcement;
mod m20261201_000026_create_training;
mod m20261201_000027_create_project;
mod m20261201_000028_add_announcement_and_agenda_topics;
mod m20261202_000029_add_user_deactivated;
mod m20261202_000030_create_audit_entry;
mod m20261202_000031_add_user_subject_and_erasure;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_directory::Migration),
            Box::new(m20261128_000002_create_event::Migration),
            Box::new(m20261128_000003_create_inquiry::Migration),
            Box::new(m20261128_000004_create_question::Migration),
            Box::new(m20261128_000005_create_delivery::Migration),
            Box::new(m20261128_000006_create_subscription::Migration),
            Box::new(m20261128_000007_create_news::Migration),
            Box::new(m20261128_000008_create_tip::Migration),
            Box::new(m20261128_000009_create_community_plan::Migration),
            Box::new(m20261128_000010_create_meeting::Migration),
            Box::new(m20261128_000011_create_meeting_topic::Migration),
            Box::new(m20261128_000012_create_login_failure::Migration),
            Box::new(m20261201_000013_create_sign_in_link::Migration),
            Box::new(m20261201_000014_create_inbound_mail::Migration),
            Box::new(m20261201_000015_add_meeting_previous::Migration),
            Box::new(m20261201_000016_add_sign_in_link_purpose::Migration),
            Box::new(m20261201_000017_add_meeting_cancellation::Migration),
            Box::new(m20261201_000018_add_question_hide_wish::Migration),
            Box::new(m20261201_000019_create_idempotency_key::Migration),
            Box::new(m20261201_000020_index_delivery_thread::Migration),
            Box::new(m20261201_000021_compress_delivery_payload::Migration),
            Box::new(m20261201_000022_create_partner_network::Migration),
            Box::new(m20261201_000023_add_question_kind_and_decision::Migration),
            Box::new(m20261201_000024_create_agenda_item::Migration),
            Box::new(m20261201_000025_create_announcement::Migration),
            Box::new(m20261201_000026_create_training::Migration),
            Box::new(m20261201_000027_create_project::Migration),
            Box::new(m20261201_000028_add_announcement_and_agenda_topics::Migration),
            Box::new(m20261202_000029_add_user_deactivated::Migration),
            Box::new(m20261202_000030_create_audit_entry::Migration),
            Box::new(m20261202_000031_add_user_subject_and_erasure::Migration),
        ]
    }
}
