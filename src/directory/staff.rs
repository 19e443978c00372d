//! The staff directory: a CSV file of the university's staff (email, name, community, role,
//! locale) made true in the database. One code path plans and applies, so a dry run shows
//! exactly what a real run would do; every line is checked before anything is written, and an
//! error names its line and column.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::membership::Role;
use entity::user::Locale;
use entity::{event, membership, organization, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::service::{
    MAX_MENTORS_PER_COMMUNITY, NewUser, add_membership, create_user, deactivate_user, is_community,
    reactivate_user, remove_membership, user_updated,
};
use crate::error::AppError;
use crate::values::{Email, NonEmptyText, TimeZone, parse_locale};

/// The columns a staff file has, in any order (`locale` may be left out: Finnish).
pub const COLUMNS: [&str; 5] = ["email", "name", "community", "role", "locale"];

/// Most lines one file may have.
pub const MAX_LINES: usize = 100_000;

/// What is wrong with one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1 is the header.
    pub line: u64,
    /// The column's name, or empty when the line as a whole is wrong.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

fn line_error(line: u64, column: &str, message: impl Into<String>) -> LineError {
    LineError {
        line,
        column: column.to_owned(),
        message: message.into(),
    }
}

/// A community role the staff file gives.
fn parse_role(raw: &str) -> Option<Role> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "staff" | "member" => Some(Role::Member),
        "mentor" => Some(Role::Mentor),
        _ => None,
    }
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Mentor => "mentor",
        _ => "staff",
    }
}

/// One person of the file, from one or more lines (one per community role).
#[derive(Debug, Clone)]
pub struct StaffPerson {
    pub email: Email,
    pub name: String,
    pub locale: Locale,
    /// (community slug, role), each with the line that gave it.
    pub roles: Vec<(String, Role, u64)>,
    /// The person's first line.
    pub line: u64,
}

/// Reads a staff file: the header names the columns (comma- or semicolon-separated, as
/// spreadsheets export them; a byte-order mark is fine); every line is checked. Returns the
/// people of the good lines and every error, so that the caller can check the good ones
/// against the database too and report everything at once.
pub fn parse(text: &str) -> (Vec<StaffPerson>, Vec<LineError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.contains(';') && !first_line.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        Err(err) => return (Vec::new(), vec![line_error(1, "", err.to_string())]),
    };
    let mut errors = Vec::new();
    let mut index = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        if !COLUMNS.contains(&name.as_str()) {
            errors.push(line_error(
                1,
                name,
                format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            ));
        } else if index.insert(name.clone(), i).is_some() {
            errors.push(line_error(1, name, "appears twice"));
        }
    }
    for required in ["email", "name", "community", "role"] {
        if !index.contains_key(required) {
            errors.push(line_error(1, required, "the header has no such column"));
        }
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let mut people: Vec<StaffPerson> = Vec::new();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    let mut seen_roles: HashMap<(String, String), u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                errors.push(line_error(line, "", format!("not valid CSV: {err}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if line as usize > MAX_LINES {
            errors.push(line_error(
                line,
                "",
                format!("a file has at most {MAX_LINES} lines"),
            ));
            break;
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(line_error(
                line,
                "",
                format!(
                    "has {} fields; the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
            continue;
        }
        let field = |name: &str| {
            index
                .get(name)
                .and_then(|i| record.get(*i))
                .unwrap_or_default()
        };
        let before = errors.len();
        let email = Email::parse(field("email"))
            .map_err(|e| errors.push(line_error(line, "email", e.0)))
            .ok();
        let name = NonEmptyText::line("name", field("name"), 200)
            .map_err(|e| errors.push(line_error(line, "name", message_of(&e))))
            .ok();
        let community = field("community").to_ascii_lowercase();
        if community.is_empty() {
            errors.push(line_error(line, "community", "must not be empty"));
        }
        let role = parse_role(field("role"));
        if role.is_none() {
            errors.push(line_error(
                line,
                "role",
                format!("{:?} is not staff or mentor", field("role")),
            ));
        }
        let locale = match field("locale") {
            "" => Some(Locale::Fi),
            raw => parse_locale(raw)
                .map_err(|e| errors.push(line_error(line, "locale", e.0)))
                .ok(),
        };
        let (Some(email), Some(name), Some(role), Some(locale)) = (email, name, role, locale)
        else {
            continue;
        };
        if errors.len() > before {
            continue;
        }
        if let Some(first) = seen_roles.insert((email.as_str().to_owned(), community.clone()), line)
        {
            errors.push(line_error(
                line,
                "community",
                format!(
                    "{} is in {community} on line {first} already",
                    email.as_str()
                ),
            ));
            continue;
        }
        match by_email.get(email.as_str()) {
            Some(&at) => {
                let person = &mut people[at];
                if person.name != name {
                    errors.push(line_error(
                        line,
                        "name",
                        format!(
                            "line {} names {} {:?}",
                            person.line,
                            email.as_str(),
                            person.name
                        ),
                    ));
                } else if person.locale != locale {
                    errors.push(line_error(
                        line,
                        "locale",
                        format!(
                            "line {} gives {} another locale",
                            person.line,
                            email.as_str()
                        ),
                    ));
                } else {
                    person.roles.push((community, role, line));
                }
            }
            None => {
                by_email.insert(email.as_str().to_owned(), people.len());
                people.push(StaffPerson {
                    email,
                    name,
                    locale,
                    roles: vec![(community, role, line)],
                    line,
                });
            }
        }
    }
    (people, errors)
}

fn message_of(err: &AppError) -> String {
    match err {
        AppError::BadInput { message, .. } => message.clone(),
        other => other.client_message(),
    }
}

/// What an import does (or did), person by person.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StaffReport {
    /// New people (emailed a link to choose their password).
    pub added: Vec<String>,
    /// People whose name, language, roles or state changed, with what changed.
    pub changed: Vec<(String, Vec<String>)>,
    /// People of the file already as it says.
    pub unchanged: usize,
    /// People not in the file who were deactivated (`--deactivate-missing`).
    pub deactivated: Vec<String>,
    /// Administrators not in the file, left active (an import never locks admins out).
    pub admins_kept: Vec<String>,
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaffOptions {
    /// Only work out what would change.
    pub dry_run: bool,
    /// Deactivate people with a community role who are not in the file.
    pub deactivate_missing: bool,
}

/// One person's change.
enum Step<'a> {
    New {
        person: &'a StaffPerson,
        roles: Vec<(Uuid, Role, u64)>,
    },
    Existing {
        person: &'a StaffPerson,
        user: &'a user::Model,
        reactivate: bool,
        profile: bool,
        remove: Vec<membership::Model>,
        add: Vec<(Uuid, Role, u64)>,
    },
}

/// Makes the file true in the caller's transaction (or, in a dry run, only works out what
/// would change). Everything is planned and checked before the first write (unknown
/// communities, a community left with more mentors than allowed), and then applied in an
/// order that never passes through a state the checks refuse: roles are taken away and
/// leavers deactivated before new roles are given. Returns the report and the events appended.
#[tracing::instrument(skip_all, fields(people = people.len()))]
pub async fn import(
    db: &impl ConnectionTrait,
    people: &[StaffPerson],
    options: StaffOptions,
) -> Result<(StaffReport, Vec<event::Model>), StaffError> {
    let communities: HashMap<String, organization::Model> = organization::Entity::find()
        .all(db)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|o| is_community(o.kind))
        .map(|o| (o.slug.clone(), o))
        .collect();
    let mut errors = Vec::new();
    for person in people {
        for (slug, _, line) in &person.roles {
            if !communities.contains_key(slug) {
                errors.push(line_error(
                    *line,
                    "community",
                    format!("no community {slug:?} (a faculty's or education unit's slug)"),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(StaffError::Lines(errors));
    }
    let existing: HashMap<String, user::Model> = crate::db::users::without_password()
        .all(db)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|u| (u.email.clone(), u))
        .collect();
    let slug_of: HashMap<Uuid, &str> = communities
        .values()
        .map(|o| (o.id, o.slug.as_str()))
        .collect();
    // Everyone's community roles (staff and mentor), by user; and each community's mentors.
    let mut held: HashMap<Uuid, Vec<membership::Model>> = HashMap::new();
    let mut mentors: HashMap<Uuid, u64> = HashMap::new();
    for m in membership::Entity::find()
        .filter(membership::Column::Role.is_in([Role::Member, Role::Mentor]))
        .all(db)
        .await
        .map_err(AppError::from)?
    {
        if slug_of.contains_key(&m.organization_id) {
            if m.role == Role::Mentor {
                *mentors.entry(m.organization_id).or_default() += 1;
            }
            held.entry(m.user_id).or_default().push(m);
        }
    }

    // The plan.
    let mut report = StaffReport::default();
    let mut steps = Vec::new();
    for person in people {
        let wanted: Vec<(Uuid, Role, u64)> = person
            .roles
            .iter()
            .map(|(slug, role, line)| (communities[slug].id, *role, *line))
            .collect();
        let Some(user) = existing.get(person.email.as_str()) else {
            report.added.push(person.email.as_str().to_owned());
            steps.push(Step::New {
                person,
                roles: wanted,
            });
            continue;
        };
        let mut what = Vec::new();
        let reactivate = user.deactivated_at.is_some();
        if reactivate {
            what.push("reactivated".to_owned());
        }
        if user.display_name != person.name {
            what.push(format!("name {:?} → {:?}", user.display_name, person.name));
        }
        if user.locale != person.locale {
            what.push(format!(
                "locale {} → {}",
                locale_code(user.locale),
                locale_code(person.locale)
            ));
        }
        let profile = user.display_name != person.name || user.locale != person.locale;
        let current = held.get(&user.id).cloned().unwrap_or_default();
        let remove: Vec<membership::Model> = current
            .iter()
            .filter(|m| {
                !wanted
                    .iter()
                    .any(|(org, role, _)| m.organization_id == *org && m.role == *role)
            })
            .cloned()
            .collect();
        let add: Vec<(Uuid, Role, u64)> = wanted
            .iter()
            .filter(|(org, role, _)| {
                !current
                    .iter()
                    .any(|m| m.organization_id == *org && m.role == *role)
            })
            .copied()
            .collect();
        for m in &remove {
            what.push(format!(
                "no longer {} of {}",
                role_word(m.role),
                slug_of.get(&m.organization_id).copied().unwrap_or_default()
            ));
        }
        for (org, role, _) in &add {
            what.push(format!(
                "{} of {}",
                role_word(*role),
                slug_of.get(org).copied().unwrap_or_default()
            ));
        }
        if what.is_empty() {
            report.unchanged += 1;
            continue;
        }
        report
            .changed
            .push((person.email.as_str().to_owned(), what));
        steps.push(Step::Existing {
            person,
            user,
            reactivate,
            profile,
            remove,
            add,
        });
    }
    let mut leavers = Vec::new();
    if options.deactivate_missing {
        let listed: BTreeSet<&str> = people.iter().map(|p| p.email.as_str()).collect();
        let mut missing: Vec<&user::Model> = existing
            .values()
            .filter(|u| u.deactivated_at.is_none() && !listed.contains(u.email.as_str()))
            .filter(|u| held.contains_key(&u.id))
            .collect();
        missing.sort_by(|a, b| a.email.cmp(&b.email));
        for user in missing {
            if user.is_admin {
                report.admins_kept.push(user.email.clone());
            } else {
                report.deactivated.push(user.email.clone());
                leavers.push(user);
            }
        }
    }

    // The checks on the whole plan: no community ends with too many mentors.
    for user in &leavers {
        for m in held.get(&user.id).into_iter().flatten() {
            if m.role == Role::Mentor {
                *mentors.entry(m.organization_id).or_default() -= 1;
            }
        }
    }
    for step in &steps {
        let (remove, add): (&[membership::Model], &[(Uuid, Role, u64)]) = match step {
            Step::New { roles, .. } => (&[], roles),
            Step::Existing { remove, add, .. } => (remove, add),
        };
        for m in remove.iter().filter(|m| m.role == Role::Mentor) {
            *mentors.entry(m.organization_id).or_default() -= 1;
        }
        for (org, role, line) in add {
            if *role == Role::Mentor {
                let count = mentors.entry(*org).or_default();
                *count += 1;
                if *count > MAX_MENTORS_PER_COMMUNITY {
                    errors.push(line_error(
                        *line,
                        "role",
                        format!(
                            "{} would have more than {MAX_MENTORS_PER_COMMUNITY} mentors",
                            slug_of.get(org).copied().unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(StaffError::Lines(errors));
    }
    if options.dry_run {
        return Ok((report, Vec::new()));
    }

    // Applied: first what takes away, then what gives.
    let mut events = Vec::new();
    let at = |line: u64| move |e: AppError| StaffError::at(line, e);
    for user in leavers {
        let (_, event) = deactivate_user(db, None, user.id).await?;
        events.push(event);
    }
    let mut given = Vec::new();
    for step in steps {
        match step {
            Step::New { person, roles } => {
                let new = NewUser {
                    email: person.email.clone(),
                    display_name: person.name.clone(),
                    locale: person.locale,
                    time_zone: TimeZone::parse(DEFAULT_TIME_ZONE)
                        .map_err(|e| StaffError::Failed(AppError::internal(e)))?,
                    is_admin: false,
                    password: None,
                };
                let (created, event) = create_user(db, None, new).await.map_err(at(person.line))?;
                events.push(event);
                given.extend(roles.into_iter().map(|r| (created.user.id, r)));
            }
            Step::Existing {
                person,
                user,
                reactivate,
                profile,
                remove,
                add,
            } => {
                if reactivate {
                    let (_, event) = reactivate_user(db, None, user.id)
                        .await
                        .map_err(at(person.line))?;
                    events.push(event);
                }
                if profile {
                    let mut active: user::ActiveModel = user.clone().into();
                    active.display_name = Set(person.name.clone());
                    active.locale = Set(person.locale);
                    active.updated_at = Set(Utc::now());
                    active.update(db).await.map_err(AppError::from)?;
                    events.push(user_updated(db, user.id).await?);
                }
                for m in remove {
                    let (_, event) = remove_membership(db, None, m.id)
                        .await
                        .map_err(at(person.line))?;
                    events.push(event);
                }
                given.extend(add.into_iter().map(|r| (user.id, r)));
            }
        }
    }
    for (user_id, (org, role, line)) in given {
        let (_, event) = add_membership(db, None, user_id, org, role)
            .await
            .map_err(at(line))?;
        events.push(event);
    }
    Ok((report, events))
}

/// The time zone of people the import adds (they change it themselves).
const DEFAULT_TIME_ZONE: &str = "Europe/Helsinki";

fn locale_code(locale: Locale) -> &'static str {
    match locale {
        Locale::Fi => "fi",
        Locale::Sv => "sv",
        Locale::En => "en",
    }
}

/// Why an import stopped: lines of the file, or the database.
#[derive(Debug)]
pub enum StaffError {
    Lines(Vec<LineError>),
    Failed(AppError),
}

impl StaffError {
    fn at(line: u64, err: AppError) -> Self {
        match err {
            AppError::BadInput { field, message } => {
                Self::Lines(vec![line_error(line, &field, message)])
            }
            AppError::Conflict { field, message } => Self::Lines(vec![line_error(
                line,
                field.as_deref().unwrap_or_default(),
                message,
            )]),
            other => Self::Failed(other),
        }
    }
}

impl From<AppError> for StaffError {
    fn from(err: AppError) -> Self {
        Self::Failed(err)
    }
}

impl From<StaffError> for AppError {
    /// For a unit of work: the lines in one message (the transaction is rolled back).
    fn from(err: StaffError) -> Self {
        match err {
            StaffError::Lines(lines) => AppError::bad_input(
                "file",
                lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            StaffError::Failed(err) => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the file holds, reading it ends with people or errors, never a panic, and
        /// every error names a line of the file.
        #[test]
        fn any_text_is_read_without_panicking(text in "(?s).{0,400}") {
            let (_, errors) = parse(&text);
            let lines = text.lines().count().max(1) as u64 + 1;
            for error in errors {
                prop_assert!(error.line <= lines, "{error} in {lines} lines");
            }
        }

        /// Names with the separators, quotes and any letters survive a spreadsheet's quoting.
        #[test]
        fn quoted_names_come_back_as_written(
            names in proptest::collection::vec("[\\p{L} ,;\"'.-]{1,40}", 1..20),
            semicolons in any::<bool>(),
        ) {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(if semicolons { b';' } else { b',' })
                .from_writer(Vec::new());
            writer.write_record(["email", "name", "community", "role", "locale"]).unwrap();
            let names: Vec<String> = names.iter().map(|n| n.trim().to_owned()).collect();
            for (i, name) in names.iter().enumerate() {
                writer
                    .write_record([&format!("p{i}@uni.test"), name, "science", "staff", "sv"])
                    .unwrap();
            }
            let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
            let (people, errors) = parse(&text);
            let readable: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
            prop_assert_eq!(errors.len(), names.len() - readable.len(), "{:?}", errors);
            let read: Vec<&String> = people.iter().map(|p| &p.name).collect();
            prop_assert_eq!(read, readable);
        }
    }
}
