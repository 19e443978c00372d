//! What each CLI command does.

use std::io::BufRead;

use crate::app::{Application, shutdown_signal};
use crate::changes::Changes;
use crate::cli::{Command, ImportCommand, RunCommand, UserCommand};
use crate::config::Config;
use crate::directory::service::{NewUser, create_user};
use crate::directory::staff::StaffOptions;
use crate::network::{self, ImportOptions, ImportReport};
use crate::notify::MailContext;
use crate::subscriptions::token::Signer;
use crate::values::{Email, NonEmptyText, TimeZone, parse_locale};
use crate::{db, demo};
use anyhow::Context as _;

/// Runs one command to completion.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => {
            let app = Application::build(config).await?;
            if demo {
                let credentials = demo::load(&app.state().changes).await?;
                print_demo_credentials(&credentials, &app.state().config);
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
            let changes = changes_for(&config).await?;
            let credentials = demo::load(&changes).await?;
            print_demo_credentials(&credentials, &config);
            Ok(())
        }
        Command::Digests {
            command: RunCommand::Run { at },
        } => {
            let at = at.map_or_else(chrono::Utc::now, |at| at.with_timezone(&chrono::Utc));
            let changes = changes_for(&config).await?;
            let report = crate::scheduler::run_digests(&changes, at).await?;
            println!(
                "digests as of {}: {} queued, {} with nothing new (not sent)",
                at.to_rfc3339(),
                report.queued,
                report.empty
            );
            Ok(())
        }
        Command::Reminders {
            command: RunCommand::Run { at },
        } => {
            let at = at.map_or_else(chrono::Utc::now, |at| at.with_timezone(&chrono::Utc));
            let lead = chrono::Duration::from_std(config.reminder_lead)
                .context("REMINDER_LEAD_DAYS is out of range")?;
            let changes = changes_for(&config).await?;
            let queued = crate::scheduler::queue_reminders(&changes, at, lead).await?;
            println!("reminders as of {}: {queued} queued", at.to_rfc3339());
            Ok(())
        }
        Command::Backup { file } => backup(&config, &file).await,
        Command::Doctor => {
            let findings = crate::doctor::check(&config).await;
            let failed = findings
                .iter()
                .filter(|f| f.status == crate::doctor::Status::Fail)
                .count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} checks failed", findings.len());
            }
            Ok(())
        }
        Command::Import {
            command: ImportCommand::Network { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let network = network::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.client_message()))?;
            let changes = changes_for(&config).await?;
            let options = ImportOptions::default();
            let report = changes
                .run_exclusive(async |txn| network::import(txn, &network, &options).await)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.client_message()))?;
            print_import_report(&report);
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Staff {
                    file,
                    dry_run,
                    deactivate_missing,
                },
        } => {
            import_staff(
                &config,
                &file,
                StaffOptions {
                    dry_run,
                    deactivate_missing,
                },
            )
            .await
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
            let changes = changes_for(&config).await?;
            let created = changes
                .run(async |txn| {
                    crate::audit::service::created::<entity::user::Entity, _>(
                        txn,
                        None,
                        "userAdd",
                        async || create_user(txn, None, new).await,
                        |(created, _)| created.user.id,
                    )
                    .await
                })
                .await?;
            println!("created user {} ({})", created.user.email, created.user.id);
            if created.password_link_sent {
                println!(
                    "{} is emailed a link to set their password (it works once, for 7 days)",
                    created.user.email
                );
            }
            Ok(())
        }
    }
}

/// `import staff FILE`: every line checked, then the plan checked against the database, printed,
/// and (unless a dry run) applied in one unit of work.
async fn import_staff(
    config: &Config,
    file: &std::path::Path,
    options: StaffOptions,
) -> anyhow::Result<()> {
    use crate::directory::staff::{self, StaffError};
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let failed = |mut lines: Vec<staff::LineError>| {
        lines.sort_by_key(|l| l.line);
        for line in &lines {
            eprintln!("{}: {line}", file.display());
        }
        anyhow::anyhow!(
            "{}: {} error(s); nothing was applied",
            file.display(),
            lines.len()
        )
    };
    let (people, mut errors) = staff::parse(&text);
    let changes = changes_for(config).await?;
    // The plan, checked against the database (also for the good lines of a bad file, so that
    // every error is reported at once).
    let planned = staff::import(
        changes.db(),
        &people,
        StaffOptions {
            dry_run: true,
            ..options
        },
    )
    .await;
    let planned = match planned {
        Ok((planned, _)) if errors.is_empty() => planned,
        Ok(_) => return Err(failed(errors)),
        Err(StaffError::Lines(lines)) => {
            errors.extend(lines);
            return Err(failed(errors));
        }
        Err(StaffError::Failed(err)) => anyhow::bail!("{}", err.client_message()),
    };
    let report = if options.dry_run {
        planned
    } else {
        changes
            .run_exclusive(async |txn| {
                let (report, events) = staff::import(txn, &people, options)
                    .await
                    .map_err(crate::error::AppError::from)?;
                // One entry for the whole import: what it added, changed and deactivated.
                let summary = serde_json::json!({
                    "file": file.display().to_string(),
                    "added": report.added,
                    "changed": report.changed,
                    "unchanged": report.unchanged,
                    "deactivated": report.deactivated,
                });
                let action = crate::audit::service::Action {
                    actor: None,
                    name: "importStaff",
                    subject: None,
                };
                crate::audit::service::record(txn, action, None, Some(summary)).await?;
                Ok((report, events))
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: {}; nothing was applied",
                    file.display(),
                    e.client_message()
                )
            })?
    };
    print_staff_report(&report, people.len(), options.dry_run);
    Ok(())
}

fn print_staff_report(report: &crate::directory::staff::StaffReport, people: usize, dry_run: bool) {
    let verb = |done: &'static str, would: &'static str| if dry_run { would } else { done };
    println!("{people} people in the file");
    println!("{} ({}):", verb("added", "would add"), report.added.len());
    for email in &report.added {
        println!("  + {email}");
    }
    println!(
        "{} ({}):",
        verb("changed", "would change"),
        report.changed.len()
    );
    for (email, what) in &report.changed {
        println!("  ~ {email}: {}", what.join("; "));
    }
    if !report.deactivated.is_empty() {
        println!(
            "{} ({}):",
            verb("deactivated", "would deactivate"),
            report.deactivated.len()
        );
        for email in &report.deactivated {
            println!("  - {email}");
        }
    }
    for email in &report.admins_kept {
        println!("  administrator not in the file, left active: {email}");
    }
    println!("left as they were: {}", report.unchanged);
    if dry_run {
        println!("dry run: nothing was changed");
    } else if !report.added.is_empty() {
        println!("new people are emailed a link to choose their password");
    }
}

/// How to back up and check a PostgreSQL database: `pg_dump`'s job, not ours.
const PG_DUMP_HOWTO: &str = "PostgreSQL is backed up with its own tools:\n  \
pg_dump --format=custom --file FILE \"$DATABASE_URL\"\n\
and checked by restoring it into an empty database:\n  \
createdb digimentor_restore_check && pg_restore --exit-on-error --dbname digimentor_restore_check FILE";

/// `backup FILE`: an online copy of the SQLite database (`VACUUM INTO`, consistent while the
/// server writes), then `PRAGMA integrity_check` and the migrations table read from the copy.
async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = db::connect(&config.database_url, &config.database)
        .await
        .context("connecting to the database (DATABASE_URL)")?;
    if db.get_database_backend() != DbBackend::Sqlite {
        anyhow::bail!("{PG_DUMP_HOWTO}");
    }
    if file.exists() {
        anyhow::bail!("{} exists already; choose a new file", file.display());
    }
    let path = file
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{}: the path is not UTF-8", file.display()))?;
    db.execute_raw(Statement::from_string(
        DbBackend::Sqlite,
        format!("VACUUM INTO '{}'", path.replace('\'', "''")),
    ))
    .await
    .with_context(|| format!("writing {}", file.display()))?;
    let url = format!("sqlite://{path}?mode=ro");
    let copy = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("opening the copy {}", file.display()))?;
    let check = copy
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_default();
    if check != "ok" {
        anyhow::bail!(
            "the copy {} failed its integrity check: {check}",
            file.display()
        );
    }
    let migrations = copy
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or_default();
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or_default();
    println!(
        "backed up to {} ({bytes} bytes, {migrations} migrations applied); integrity check: ok",
        file.display()
    );
    println!("restore by stopping the server and putting the file in the database's place");
    Ok(())
}

/// Connects and migrates, for a command that changes data: its changes go through the same unit
/// of work as the server's, so their events are logged and their emails queued (a running
/// server's worker delivers them).
async fn changes_for(config: &Config) -> anyhow::Result<Changes> {
    let db = db::connect(&config.database_url, &config.database)
        .await
        .context("connecting to the database (DATABASE_URL)")?;
    db::migrate(&db)
        .await
        .context("applying database migrations")?;
    let signer = Signer::load(&db)
        .await
        .map_err(anyhow::Error::from)
        .context("loading the unsubscribe signing key")?;
    let mail = MailContext {
        public_url: config.public_url.clone(),
        signer,
        organizer: config.mail_from.email.to_string(),
    };
    Ok(Changes::new(db, mail))
}

fn print_import_report(report: &ImportReport) {
    let list = |counts: &std::collections::BTreeMap<&str, usize>| {
        counts
            .iter()
            .map(|(section, count)| format!("{count} {section}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if report.is_unchanged() {
        println!("nothing to add: everything in the file is already there");
    } else {
        println!("added {}", list(&report.added));
    }
    if !report.kept.is_empty() {
        println!("already there: {}", list(&report.kept));
    }
    if !report.invited.is_empty() {
        println!(
            "emailed a link to set a password (works once, for 7 days) to: {}",
            report.invited.join(", ")
        );
    }
}

fn print_demo_credentials(credentials: &demo::Credentials, config: &Config) {
    println!("demo data loaded");
    print_import_report(&credentials.report);
    println!(
        "  admin:    {} / {}",
        credentials.admin_email, credentials.password
    );
    println!(
        "  staff:    {} (everyone in the demo network has the same password)",
        demo::STAFF_EMAIL
    );
    println!(
        "  sign in on the web pages (\"Sign in\", top right) by password or by a sign-in link"
    );
    if let crate::config::MailTransport::Files(dir) = &config.mail {
        println!(
            "  emails, sign-in links too, are written to {}/*.eml (SMTP_URL is not set)",
            dir.display()
        );
    }
}
