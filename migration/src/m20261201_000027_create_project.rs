//! Development projects and groups of a community: a goal linked to the community's yearly
//! plan, coordinating mentors and members, a status with dates, progress updates whose
//! outcomes can become tips, topics; public or internal to the community.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    Id,
    CommunityId,
    Name,
    Goal,
    PlanYear,
    PlanGoal,
    Status,
    StartsOn,
    EndsOn,
    Internal,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectMember {
    Table,
    ProjectId,
    UserId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum ProjectUpdate {
    Table,
    Id,
    ProjectId,
    AuthorId,
    Body,
    TipId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProjectTopic {
    Table,
    ProjectId,
    TopicId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Project::Table)
                    .col(uuid(Project::Id).primary_key())
                    .col(uuid(Project::CommunityId))
                    .col(string_len(Project::Name, 200))
                    .col(text(Project::Goal))
                    .col(integer_null(Project::PlanYear))
                    .col(string_len_null(Project::PlanGoal, 500))
                    .col(string_len(Project::Status, 16))
                    .col(date_null(Project::StartsOn))
                    .col(date_null(Project::EndsOn))
                    .col(boolean(Project::Internal))
                    .col(uuid(Project::CreatedBy))
                    .col(timestamp_with_time_zone(Project::CreatedAt))
                    .col(timestamp_with_time_zone(Project::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_project_community")
                    .table(Project::Table)
                    .col(Project::CommunityId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectMember::Table)
                    .col(uuid(ProjectMember::ProjectId))
                    .col(uuid(ProjectMember::UserId))
                    .col(string_len(ProjectMember::Role, 16))
                    .col(timestamp_with_time_zone(ProjectMember::JoinedAt))
                    .primary_key(
                        Index::create()
                            .col(ProjectMember::ProjectId)
                            .col(ProjectMember::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectMember::Table, ProjectMember::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_project_member_user")
                    .table(ProjectMember::Table)
                    .col(ProjectMember::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectUpdate::Table)
                    .col(uuid(ProjectUpdate::Id).primary_key())
                    .col(uuid(ProjectUpdate::ProjectId))
                    .col(uuid(ProjectUpdate::AuthorId))
                    .col(text(ProjectUpdate::Body))
                    .col(uuid_null(ProjectUpdate::TipId).unique_key())
                    .col(timestamp_with_time_zone(ProjectUpdate::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectUpdate::Table, ProjectUpdate::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_project_update_project")
                    .table(ProjectUpdate::Table)
                    .col(ProjectUpdate::ProjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectTopic::Table)
                    .col(uuid(ProjectTopic::ProjectId))
                    .col(uuid(ProjectTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(ProjectTopic::ProjectId)
                            .col(ProjectTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectTopic::Table, ProjectTopic::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProjectTopic::Table.into_iden(),
            ProjectUpdate::Table.into_iden(),
            ProjectMember::Table.into_iden(),
            Project::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
