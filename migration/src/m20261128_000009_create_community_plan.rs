use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CommunityPlan {
    Table,
    Id,
    CommunityId,
    Year,
    Goals,
    Activities,
    Version,
    AuthorId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommunityPlanRevision {
    Table,
    Id,
    PlanId,
    Version,
    Goals,
    Activities,
    AuthorId,
    WrittenAt,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CommunityPlan::Table)
                    .col(uuid(CommunityPlan::Id).primary_key())
                    .col(uuid(CommunityPlan::CommunityId))
                    .col(integer(CommunityPlan::Year))
                    .col(text(CommunityPlan::Goals))
                    .col(text(CommunityPlan::Activities))
                    .col(integer(CommunityPlan::Version))
                    .col(uuid(CommunityPlan::AuthorId))
                    .col(timestamp_with_time_zone(CommunityPlan::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityPlan::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_community_plan_community")
                            .from(CommunityPlan::Table, CommunityPlan::CommunityId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_community_plan_community_year")
                    .table(CommunityPlan::Table)
                    .col(CommunityPlan::CommunityId)
                    .col(CommunityPlan::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommunityPlanRevision::Table)
                    .col(uuid(CommunityPlanRevision::Id).primary_key())
                    .col(uuid(CommunityPlanRevision::PlanId))
                    .col(integer(CommunityPlanRevision::Version))
                    .col(text(CommunityPlanRevision::Goals))
                    .col(text(CommunityPlanRevision::Activities))
                    .col(uuid(CommunityPlanRevision::AuthorId))
                    .col(timestamp_with_time_zone(CommunityPlanRevision::WrittenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_community_plan_revision_plan")
                            .from(CommunityPlanRevision::Table, CommunityPlanRevision::PlanId)
                            .to(CommunityPlan::Table, CommunityPlan::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CommunityPlanRevision::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CommunityPlan::Table).to_owned())
            .await
    }
}
