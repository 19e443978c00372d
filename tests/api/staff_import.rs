//! `digimentor import staff FILE.csv`: the staff directory loaded as an operator does it, on the
//! demo network, with good files, a dry run, leavers, and every kind of bad line.

use entity::{membership, organization, user};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};

use crate::binary::run_with_database;
use crate::helpers::TestDatabase;

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn import(url: &str, csv: &str, flags: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staff.csv");
    std::fs::write(&file, csv).unwrap();
    let mut args = vec!["import", "staff", file.to_str().unwrap()];
    args.extend_from_slice(flags);
    let output = run_with_database(url, &args, None).await;
    // The report, without the log lines.
    let stdout = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.contains(" INFO "))
        .map(|l| format!("{l}\n"))
        .collect();
    Run {
        ok: output.status.success(),
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// Everyone's email, name, language, state and community roles: what an import may change.
async fn directory(db: &DatabaseConnection) -> Vec<String> {
    let orgs: std::collections::HashMap<uuid::Uuid, String> = organization::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o.slug))
        .collect();
    let mut out = Vec::new();
    for u in user::Entity::find().all(db).await.unwrap() {
        let mut roles: Vec<String> = membership::Entity::find()
            .filter(membership::Column::UserId.eq(u.id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|m| format!("{}:{:?}", orgs[&m.organization_id], m.role))
            .collect();
        roles.sort();
        out.push(format!(
            "{} {} {:?} {} {}",
            u.email,
            u.display_name,
            u.locale,
            u.deactivated_at.is_some(),
            roles.join(",")
        ));
    }
    out.sort();
    out
}

/// The audit log's entries of staff imports, oldest first.
async fn imports_audited(db: &DatabaseConnection) -> Vec<entity::audit_entry::Model> {
    use sea_orm::QueryOrder;
    entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Action.eq("importStaff"))
        .order_by_asc(entity::audit_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
}

async fn person(db: &DatabaseConnection, email: &str) -> Option<String> {
    directory(db)
        .await
        .into_iter()
        .find(|line| line.starts_with(&format!("{email} ")))
}

#[tokio::test]
async fn a_staff_file_adds_changes_and_leaves_people_once_and_a_dry_run_changes_nothing() {
    let (_database, url) = TestDatabase::create().await;
    assert!(
        run_with_database(&url, &["demo"], None)
            .await
            .status
            .success()
    );
    let db = Database::connect(&url).await.unwrap();
    let before = directory(&db).await;
    // A spreadsheet's export: a byte-order mark, semicolons, quoted names with the separator
    // and quotes in them, a person with two communities, an empty locale, blank lines.
    let csv = "\u{feff}Email;Name;Community;Role;Locale\n\
        uusi.opettaja@demo.digimentor.fi;\"Opettaja; Uusi \"\"Ukko\"\"\";science;staff;\n\
        \n\
        ny.larare@demo.digimentor.fi;Ny Lärare;arts;staff;sv\n\
        ny.larare@demo.digimentor.fi;Ny Lärare;law;staff;sv\n\
        aino.virtanen@demo.digimentor.fi;Aino Virtanen-Koski;science;mentor;fi\n\
        elina.makinen@demo.digimentor.fi;Elina Mäkinen;medicine;staff;en\n\
        laura.nieminen@demo.digimentor.fi;Laura Nieminen;medicine;mentor;fi\n";

    let dry = import(&url, csv, &["--dry-run"]).await;
    assert!(dry.ok, "{}{}", dry.stdout, dry.stderr);
    assert!(dry.stdout.contains("would add (2):"), "{}", dry.stdout);
    assert!(dry.stdout.contains("+ uusi.opettaja@demo.digimentor.fi"));
    assert!(
        dry.stdout.contains(
            "~ aino.virtanen@demo.digimentor.fi: name \"Aino Virtanen\" → \"Aino Virtanen-Koski\""
        ),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(
            "~ elina.makinen@demo.digimentor.fi: locale fi → en; no longer mentor of arts; staff of medicine"
        ),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("left as they were: 1"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("dry run: nothing was changed"));
    assert_eq!(directory(&db).await, before, "a dry run changes nothing");

    let applied = import(&url, csv, &[]).await;
    assert!(applied.ok, "{}{}", applied.stdout, applied.stderr);
    // The dry run said exactly what the run did.
    assert_eq!(
        applied
            .stdout
            .replace("added (", "would add (")
            .replace("changed (", "would change ("),
        dry.stdout.replace(
            "dry run: nothing was changed",
            "new people are emailed a link to choose their password"
        )
    );
    assert_eq!(
        person(&db, "uusi.opettaja@demo.digimentor.fi")
            .await
            .unwrap(),
        "uusi.opettaja@demo.digimentor.fi Opettaja; Uusi \"Ukko\" Fi false science:Member"
    );
    assert_eq!(
        person(&db, "ny.larare@demo.digimentor.fi").await.unwrap(),
        "ny.larare@demo.digimentor.fi Ny Lärare Sv false arts:Member,law:Member"
    );
    assert_eq!(
        person(&db, "elina.makinen@demo.digimentor.fi")
            .await
            .unwrap(),
        "elina.makinen@demo.digimentor.fi Elina Mäkinen En false medicine:Member"
    );
    // New people get the link to choose a password, in their language.
    let links = entity::delivery::Entity::find()
        .filter(entity::delivery::Column::RecipientEmail.eq("ny.larare@demo.digimentor.fi"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].locale, "sv");

    // Idempotent: the same file again changes nothing.
    let after = directory(&db).await;
    let again = import(&url, csv, &[]).await;
    assert!(again.ok, "{}", again.stderr);
    assert!(again.stdout.contains("added (0):"), "{}", again.stdout);
    assert!(again.stdout.contains("changed (0):"), "{}", again.stdout);
    assert!(
        again.stdout.contains("left as they were: 5"),
        "{}",
        again.stdout
    );
    assert_eq!(directory(&db).await, after);

    // Leavers: everyone with a community role who is not in the file, but never an admin.
    let leavers = import(&url, csv, &["--deactivate-missing", "--dry-run"]).await;
    assert!(leavers.ok, "{}", leavers.stderr);
    assert!(
        leavers.stdout.contains("would deactivate ("),
        "{}",
        leavers.stdout
    );
    assert!(
        leavers
            .stdout
            .contains("- mikko.korhonen@demo.digimentor.fi")
    );
    assert!(!leavers.stdout.contains("- admin@demo.digimentor.fi"));
    assert_eq!(directory(&db).await, after);
    let gone = import(&url, csv, &["--deactivate-missing"]).await;
    assert!(gone.ok, "{}", gone.stderr);
    let mikko = person(&db, "mikko.korhonen@demo.digimentor.fi")
        .await
        .unwrap();
    assert!(mikko.contains(" true "), "{mikko}");
    let admin = person(&db, "admin@demo.digimentor.fi").await.unwrap();
    assert!(admin.contains(" false"), "{admin}");
    // Back in the file, a leaver is reactivated with the roles it gives.
    let back = format!("{csv}mikko.korhonen@demo.digimentor.fi;Mikko Korhonen;science;staff;fi\n");
    let audited = imports_audited(&db).await;
    let dry = import(&url, &back, &["--dry-run"]).await;
    assert!(dry.ok, "{}", dry.stderr);
    assert_eq!(
        imports_audited(&db).await,
        audited,
        "a dry run is not audited"
    );
    let returned = import(&url, &back, &[]).await;
    assert!(returned.ok, "{}", returned.stderr);
    // The import is in the audit log, by the command line, with what it changed.
    let entries = imports_audited(&db).await;
    assert_eq!(entries.len(), audited.len() + 1);
    let last = entries.last().unwrap();
    assert!(last.actor_id.is_none());
    assert!(
        last.after
            .as_deref()
            .unwrap()
            .contains("mikko.korhonen@demo.digimentor.fi"),
        "{last:?}"
    );
    assert!(
        returned
            .stdout
            .contains("~ mikko.korhonen@demo.digimentor.fi: reactivated; staff of science"),
        "{}",
        returned.stdout
    );
}

/// Every kind of bad line is reported with its line and column, all of them at once, and
/// nothing is applied, not even the good lines.
#[tokio::test]
async fn every_bad_line_is_named_and_nothing_is_applied() {
    let (_database, url) = TestDatabase::create().await;
    assert!(
        run_with_database(&url, &["demo"], None)
            .await
            .status
            .success()
    );
    let db = Database::connect(&url).await.unwrap();
    let before = directory(&db).await;
    let good = "hyva.rivi@demo.digimentor.fi,Hyvä Rivi,science,staff,fi\n";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!("email,name,community,role,locale,phone\n{good}"),
            vec!["line 1, column phone: unknown column"],
        ),
        (
            format!("email,name,role\n{good}"),
            vec!["line 1, column community: the header has no such column"],
        ),
        (
            format!("email,name,community,role,email\n{good}"),
            vec!["line 1, column email: appears twice"],
        ),
        (
            format!(
                "email,name,community,role,locale\n{good}not-an-email,X,science,staff,fi\n\
                 a@demo.digimentor.fi,,science,staff,fi\n\
                 b@demo.digimentor.fi,B,science,boss,fi\n\
                 c@demo.digimentor.fi,C,science,staff,de\n\
                 d@demo.digimentor.fi,D,chemistry,staff,fi\n\
                 e@demo.digimentor.fi,E,it-services,staff,fi\n\
                 f@demo.digimentor.fi,F,science\n\
                 g@demo.digimentor.fi,G,arts,staff,fi\n\
                 g@demo.digimentor.fi,G,arts,mentor,fi\n\
                 h@demo.digimentor.fi,H,arts,staff,fi\n\
                 h@demo.digimentor.fi,Hannu,law,staff,fi\n\
                 i@demo.digimentor.fi,\"Line\nbreak\",arts,staff,fi\n"
            ),
            vec![
                "line 3, column email:",
                "line 4, column name: must not be empty",
                "line 5, column role: \"boss\" is not staff or mentor",
                "line 6, column locale: \"de\" is not a supported locale",
                "line 7, column community: no community \"chemistry\"",
                "line 8, column community: no community \"it-services\"",
                "line 9: has 3 fields; the header has 5",
                "line 11, column community: g@demo.digimentor.fi is in arts on line 10 already",
                "line 13, column name: line 12 names h@demo.digimentor.fi \"H\"",
                "line 14, column name: must be a single line",
            ],
        ),
        (
            // Science has three mentors already.
            format!(
                "email,name,community,role\n{good}neljas@demo.digimentor.fi,Neljäs,science,mentor\n"
            ),
            vec!["line 3, column role: science would have more than 3 mentors"],
        ),
    ];
    for (csv, expected) in cases {
        let run = import(&url, &csv, &[]).await;
        assert!(!run.ok, "{csv}\n{}", run.stdout);
        for message in expected {
            assert!(
                run.stderr.contains(message),
                "{message:?} missing for\n{csv}\n{}",
                run.stderr
            );
        }
        assert!(run.stderr.contains("nothing was applied"), "{}", run.stderr);
        assert_eq!(directory(&db).await, before, "{csv}");
    }
    // The fourth mentor fits once a science mentor leaves in the same run.
    let swap = "email,name,community,role\n\
        aino.virtanen@demo.digimentor.fi,Aino Virtanen,science,staff\n\
        neljas@demo.digimentor.fi,Neljäs,science,mentor\n";
    let run = import(&url, swap, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(
        person(&db, "neljas@demo.digimentor.fi")
            .await
            .unwrap()
            .ends_with("science:Mentor")
    );
}
