//! A link sent by email is for one thing: signing in (15 minutes) or setting the password of a
//! new account (7 days). A link of one kind never works as the other.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SignInLink {
    Table,
    Purpose,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SignInLink::Table)
                    .add_column(string_len(SignInLink::Purpose, 16).default("sign_in"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SignInLink::Table)
                    .drop_column(SignInLink::Purpose)
                    .to_owned(),
            )
            .await
    }
}
