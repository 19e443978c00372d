//! What each CLI command does.

use std::io::BufRead;

use anyhow::Context as _;
use sea_orm::TransactionTrait;

use crate::app::{Application, shutdown_signal};
use crate::cli::{Command, UserCommand};
use crate::config::Config;
use crate::directory::service::{NewUser, create_user};
use crate::values::{Email, NonEmptyText, TimeZone, parse_locale};
use crate::{db, demo};

/// Runs one command to completion.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => {
            let app = Application::build(config).await?;
            if demo {
                let credentials = demo::load(&app.state().db).await?;
                print_demo_credentials(&credentials);
            }
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            let db = db::connect(&config.database_url, &config.database).await?;
            db::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo => {
            let db = db::connect(&config.database_url, &config.database).await?;
            db::migrate(&db).await?;
            let credentials = demo::load(&db).await?;
            print_demo_credentials(&credentials);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    name,
                    locale,
                    time_zone,
                    admin,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let new = NewUser {
                email: Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?,
                display_name: NonEmptyText::line("--name", &name, 200)?,
                locale: parse_locale(&locale).map_err(|e| anyhow::anyhow!("--locale: {e}"))?,
                time_zone: TimeZone::parse(&time_zone)
                    .map_err(|e| anyhow::anyhow!("--time-zone: {e}"))?,
                is_admin: admin,
                password,
            };
            let db = db::connect(&config.database_url, &config.database).await?;
            db::migrate(&db).await?;
            let txn = db.begin().await?;
            let (created, event) = create_user(&txn, None, new).await?;
            crate::events::ordering::commit(txn, &mut [event]).await?;
            println!("created user {} ({})", created.user.email, created.user.id);
            if let Some(password) = created.generated_password {
                println!("password (shown only now): {password}");
            }
            Ok(())
        }
    }
}

fn print_demo_credentials(credentials: &demo::Credentials) {
    println!("demo data loaded");
    println!(
        "  admin:    {} / {}",
        credentials.admin_email, credentials.password
    );
    println!("  everyone else in the demo network has the same password");
}
