//! A realistic demo network, loaded idempotently: running it twice changes nothing.

use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::user::Locale;
use entity::{membership, organization, topic, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};

use crate::directory::service::{
    NewOrganization, NewUser, add_membership, create_organization, create_user,
};
use crate::error::{AppError, AppResult};
use crate::events::ordering;
use crate::topics::service::create_topic;
use crate::values::{Email, Slug, TimeZone, TranslatedNames};

/// The demo admin's login; every demo user shares the password.
pub struct Credentials {
    pub admin_email: String,
    pub password: String,
}

const PASSWORD: &str = "digimentor-demo-2026";
const ADMIN_EMAIL: &str = "admin@demo.digimentor.fi";

/// (slug, kind, fi, sv, en)
const ORGANIZATIONS: &[(&str, OrganizationKind, &str, &str, &str)] = &[
    (
        "science",
        OrganizationKind::Faculty,
        "Matemaattis-luonnontieteellinen tiedekunta",
        "Matematisk-naturvetenskapliga fakulteten",
        "Faculty of Science",
    ),
    (
        "arts",
        OrganizationKind::Faculty,
        "Humanistinen tiedekunta",
        "Humanistiska fakulteten",
        "Faculty of Arts",
    ),
    (
        "medicine",
        OrganizationKind::Faculty,
        "Lääketieteellinen tiedekunta",
        "Medicinska fakulteten",
        "Faculty of Medicine",
    ),
    (
        "law",
        OrganizationKind::Faculty,
        "Oikeustieteellinen tiedekunta",
        "Juridiska fakulteten",
        "Faculty of Law",
    ),
    (
        "education",
        OrganizationKind::Faculty,
        "Kasvatustieteellinen tiedekunta",
        "Pedagogiska fakulteten",
        "Faculty of Educational Sciences",
    ),
    (
        "social-sciences",
        OrganizationKind::Faculty,
        "Valtiotieteellinen tiedekunta",
        "Statsvetenskapliga fakulteten",
        "Faculty of Social Sciences",
    ),
    (
        "agriculture-forestry",
        OrganizationKind::Faculty,
        "Maatalous-metsätieteellinen tiedekunta",
        "Agrikultur-forstvetenskapliga fakulteten",
        "Faculty of Agriculture and Forestry",
    ),
    (
        "theology",
        OrganizationKind::Faculty,
        "Teologinen tiedekunta",
        "Teologiska fakulteten",
        "Faculty of Theology",
    ),
    (
        "language-centre",
        OrganizationKind::EducationUnit,
        "Kielikeskus",
        "Språkcentrum",
        "Language Centre",
    ),
    (
        "open-university",
        OrganizationKind::EducationUnit,
        "Avoin yliopisto",
        "Öppna universitetet",
        "Open University",
    ),
    (
        "doctoral-school",
        OrganizationKind::EducationUnit,
        "Tohtorikoulu",
        "Doktorandskolan",
        "Doctoral School",
    ),
    (
        "learning-services",
        OrganizationKind::ServiceUnit,
        "Opetuksen palvelut",
        "Undervisningstjänster",
        "Learning Services",
    ),
    (
        "it-services",
        OrganizationKind::ServiceUnit,
        "IT-palvelut",
        "IT-tjänster",
        "IT Services",
    ),
    (
        "library",
        OrganizationKind::ServiceUnit,
        "Kirjasto",
        "Biblioteket",
        "University Library",
    ),
    (
        "communications",
        OrganizationKind::ServiceUnit,
        "Viestintä",
        "Kommunikation",
        "Communications",
    ),
    (
        "management",
        OrganizationKind::Management,
        "Yliopiston johto",
        "Universitetsledningen",
        "University Management",
    ),
];

/// (email local part, display name, locale, organization slug, role). The Doctoral School is
/// deliberately left without a mentor, so the contacts page shows how that looks.
const PEOPLE: &[(&str, &str, Locale, &str, Role)] = &[
    (
        "aino.virtanen",
        "Aino Virtanen",
        Locale::Fi,
        "science",
        Role::Mentor,
    ),
    (
        "mikko.korhonen",
        "Mikko Korhonen",
        Locale::Fi,
        "science",
        Role::Mentor,
    ),
    (
        "sara.lindqvist",
        "Sara Lindqvist",
        Locale::Sv,
        "science",
        Role::Mentor,
    ),
    (
        "elina.makinen",
        "Elina Mäkinen",
        Locale::Fi,
        "arts",
        Role::Mentor,
    ),
    ("johan.berg", "Johan Berg", Locale::Sv, "arts", Role::Mentor),
    (
        "laura.nieminen",
        "Laura Nieminen",
        Locale::Fi,
        "medicine",
        Role::Mentor,
    ),
    (
        "emma.wilson",
        "Emma Wilson",
        Locale::En,
        "medicine",
        Role::Mentor,
    ),
    (
        "antti.heikkinen",
        "Antti Heikkinen",
        Locale::Fi,
        "law",
        Role::Mentor,
    ),
    (
        "satu.koskinen",
        "Satu Koskinen",
        Locale::Fi,
        "education",
        Role::Mentor,
    ),
    (
        "tiina.laine",
        "Tiina Laine",
        Locale::Fi,
        "education",
        Role::Mentor,
    ),
    (
        "oskar.holm",
        "Oskar Holm",
        Locale::Sv,
        "education",
        Role::Mentor,
    ),
    (
        "pekka.jarvinen",
        "Pekka Järvinen",
        Locale::Fi,
        "social-sciences",
        Role::Mentor,
    ),
    (
        "hanna.lehtonen",
        "Hanna Lehtonen",
        Locale::Fi,
        "agriculture-forestry",
        Role::Mentor,
    ),
    (
        "ville.saarinen",
        "Ville Saarinen",
        Locale::Fi,
        "agriculture-forestry",
        Role::Mentor,
    ),
    (
        "maria.salo",
        "Maria Salo",
        Locale::Fi,
        "theology",
        Role::Mentor,
    ),
    (
        "david.clarke",
        "David Clarke",
        Locale::En,
        "language-centre",
        Role::Mentor,
    ),
    (
        "riikka.turunen",
        "Riikka Turunen",
        Locale::Fi,
        "open-university",
        Role::Mentor,
    ),
    (
        "juha.kinnunen",
        "Juha Kinnunen",
        Locale::Fi,
        "science",
        Role::Member,
    ),
    (
        "anna.forsman",
        "Anna Forsman",
        Locale::Sv,
        "science",
        Role::Member,
    ),
    (
        "kaisa.rantanen",
        "Kaisa Rantanen",
        Locale::Fi,
        "arts",
        Role::Member,
    ),
    (
        "lucas.meyer",
        "Lucas Meyer",
        Locale::En,
        "medicine",
        Role::Member,
    ),
    (
        "noora.hamalainen",
        "Noora Hämäläinen",
        Locale::Fi,
        "law",
        Role::Member,
    ),
    (
        "erik.sundberg",
        "Erik Sundberg",
        Locale::Sv,
        "education",
        Role::Member,
    ),
    (
        "minna.ojala",
        "Minna Ojala",
        Locale::Fi,
        "doctoral-school",
        Role::Member,
    ),
    (
        "petra.aalto",
        "Petra Aalto",
        Locale::Fi,
        "learning-services",
        Role::Contact,
    ),
    (
        "timo.lahtinen",
        "Timo Lahtinen",
        Locale::Fi,
        "learning-services",
        Role::Contact,
    ),
    (
        "jenni.mattila",
        "Jenni Mattila",
        Locale::Fi,
        "it-services",
        Role::Contact,
    ),
    (
        "henrik.wikstrom",
        "Henrik Wikström",
        Locale::Sv,
        "library",
        Role::Contact,
    ),
    (
        "sanna.peltonen",
        "Sanna Peltonen",
        Locale::Fi,
        "communications",
        Role::Contact,
    ),
    (
        "kari.hiltunen",
        "Kari Hiltunen",
        Locale::Fi,
        "management",
        Role::Lead,
    ),
    (
        "ulla.nyberg",
        "Ulla Nyberg",
        Locale::Sv,
        "management",
        Role::Lead,
    ),
];

/// (slug, fi, sv, en)
const TOPICS: &[(&str, &str, &str, &str)] = &[
    ("moodle", "Moodle", "Moodle", "Moodle"),
    (
        "ai-in-teaching",
        "Tekoäly opetuksessa",
        "AI i undervisningen",
        "AI in teaching",
    ),
    (
        "accessibility",
        "Saavutettavuus",
        "Tillgänglighet",
        "Accessibility",
    ),
    (
        "digital-exams",
        "Sähköiset tentit",
        "Digitala tentamina",
        "Digital exams",
    ),
    (
        "video-and-streaming",
        "Video ja striimaus",
        "Video och streaming",
        "Video and streaming",
    ),
    (
        "learning-analytics",
        "Oppimisanalytiikka",
        "Inlärningsanalys",
        "Learning analytics",
    ),
    ("copyright", "Tekijänoikeudet", "Upphovsrätt", "Copyright"),
    (
        "online-collaboration",
        "Verkkoyhteistyö",
        "Samarbete på nätet",
        "Online collaboration",
    ),
    (
        "data-protection",
        "Tietosuoja",
        "Dataskydd",
        "Data protection",
    ),
];

/// Loads the demo network in one transaction and returns the admin's credentials. Instances
/// that load it at the same time take turns (see [`ordering::commit_bulk`]); the second adds
/// nothing.
pub async fn load(db: &DatabaseConnection) -> AppResult<Credentials> {
    ordering::commit_bulk(db, load_all).await?;
    Ok(Credentials {
        admin_email: ADMIN_EMAIL.to_owned(),
        password: PASSWORD.to_owned(),
    })
}

async fn load_all(txn: &DatabaseTransaction) -> AppResult<()> {
    for &(slug, kind, fi, sv, en) in ORGANIZATIONS {
        if find_organization(txn, slug).await?.is_none() {
            let new = NewOrganization {
                slug: Slug::parse(slug).map_err(AppError::invalid("slug"))?,
                kind,
                names: TranslatedNames::parse(fi, sv, en)?,
            };
            create_organization(txn, None, new).await?;
        }
    }
    for &(slug, fi, sv, en) in TOPICS {
        let exists = topic::Entity::find()
            .filter(topic::Column::Slug.eq(slug))
            .one(txn)
            .await?;
        if exists.is_none() {
            let slug = Slug::parse(slug).map_err(AppError::invalid("slug"))?;
            create_topic(txn, None, slug, TranslatedNames::parse(fi, sv, en)?).await?;
        }
    }
    ensure_user(txn, ADMIN_EMAIL, "Demo Admin", Locale::En, true).await?;
    for &(local, name, locale, org_slug, role) in PEOPLE {
        let email = format!("{local}@demo.digimentor.fi");
        let user = ensure_user(txn, &email, name, locale, false).await?;
        let org = find_organization(txn, org_slug)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let has_role = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id))
            .filter(membership::Column::OrganizationId.eq(org.id))
            .filter(membership::Column::Role.eq(role))
            .one(txn)
            .await?
            .is_some();
        if !has_role {
            add_membership(txn, None, user.id, org.id, role).await?;
        }
    }
    load_channel(txn).await?;
    load_open_pages(txn).await
}

/// A few inquiries in different states and questions at each step, so that GraphiQL shows the
/// two-way channel at once. Each is keyed by its title: a second load adds nothing.
async fn load_channel(db: &impl ConnectionTrait) -> AppResult<()> {
    use crate::inquiries::service::{
        Addressees, NewInquiry, SlotResponse, close_inquiry, create_inquiry, publish_inquiry,
        respond_to_inquiry,
    };
    use crate::questions::service::{
        NewQuestion, answer_question, ask_question, close_question, forward_question,
    };

    let exists = entity::inquiry::Entity::find()
        .filter(entity::inquiry::Column::Title.eq(INQUIRY_TITLES[0]))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let lead = as_person(db, "kari.hiltunen").await?;
    let learning = as_person(db, "petra.aalto").await?;
    let it = as_person(db, "jenni.mattila").await?;
    let org = |slug: &'static str| async move {
        find_organization(db, slug)
            .await?
            .map(|o| o.id)
            .ok_or(AppError::NotFound("organization"))
    };
    let topic = |slug: &'static str| async move {
        topic::Entity::find()
            .filter(topic::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(|t| t.id)
            .ok_or(AppError::NotFound("topic"))
    };
    let in_days = |days: i64| Some(chrono::Utc::now() + chrono::Duration::days(days));
    let new = |organization_id,
               title: &str,
               body: &str,
               topic_ids,
               deadline,
               addressees,
               answers_shared| NewInquiry {
        organization_id,
        title: title.to_owned(),
        body: body.to_owned(),
        topic_ids,
        deadline,
        addressees,
        answers_shared,
    };

    // Open, with answers, a decline and a pending slot.
    let exams = new(
        org("management").await?,
        INQUIRY_TITLES[0],
        "How does your faculty organise **exams in Moodle**? What works, and what would you need?",
        vec![topic("moodle").await?, topic("digital-exams").await?],
        in_days(10),
        Addressees::Some(vec![
            org("science").await?,
            org("arts").await?,
            org("medicine").await?,
        ]),
        false,
    );
    let (exams, _) = create_inquiry(db, &lead, exams).await?;
    publish_inquiry(db, &lead, exams.id).await?;
    let slot = |inquiry, community| async move {
        entity::inquiry_target::Entity::find()
            .filter(entity::inquiry_target::Column::InquiryId.eq(inquiry))
            .filter(entity::inquiry_target::Column::CommunityId.eq(community))
            .one(db)
            .await?
            .map(|t| t.id)
            .ok_or(AppError::NotFound("inquiry target"))
    };
    let science_mentor = as_person(db, "aino.virtanen").await?;
    let arts_mentor = as_person(db, "elina.makinen").await?;
    respond_to_inquiry(
        db,
        &science_mentor,
        slot(exams.id, org("science").await?).await?,
        SlotResponse::Answer("Most courses use Moodle quizzes in the Exam room; we would need more proctoring capacity in May.".into()),
        0,
    )
    .await?;
    respond_to_inquiry(
        db,
        &arts_mentor,
        slot(exams.id, org("arts").await?).await?,
        SlotResponse::Decline("We hardly use exams: essays and portfolios instead.".into()),
        0,
    )
    .await?;

    // Open to every community, answers shared.
    let ai = new(
        org("learning-services").await?,
        INQUIRY_TITLES[1],
        "We are preparing guidance on generative AI in teaching. Which questions come up in your community?",
        vec![topic("ai-in-teaching").await?],
        in_days(21),
        Addressees::All,
        true,
    );
    let (ai, _) = create_inquiry(db, &learning, ai).await?;
    publish_inquiry(db, &learning, ai.id).await?;
    respond_to_inquiry(
        db,
        &as_person(db, "satu.koskinen").await?,
        slot(ai.id, org("education").await?).await?,
        SlotResponse::Answer(
            "Assessment: how to design assignments where AI use is allowed and visible.".into(),
        ),
        0,
    )
    .await?;

    // A draft only management sees.
    let draft = new(
        org("management").await?,
        INQUIRY_TITLES[2],
        "Draft: which services fail accessibility checks most often?",
        vec![topic("accessibility").await?],
        None,
        Addressees::All,
        false,
    );
    create_inquiry(db, &lead, draft).await?;

    // Closed, fully answered.
    let video = new(
        org("it-services").await?,
        INQUIRY_TITLES[3],
        "Which lecture halls need better recording equipment?",
        vec![topic("video-and-streaming").await?],
        None,
        Addressees::Some(vec![org("science").await?, org("education").await?]),
        false,
    );
    let (video, _) = create_inquiry(db, &it, video).await?;
    publish_inquiry(db, &it, video.id).await?;
    respond_to_inquiry(
        db,
        &science_mentor,
        slot(video.id, org("science").await?).await?,
        SlotResponse::Answer("Physicum halls 1 and 2: microphones are unreliable.".into()),
        0,
    )
    .await?;
    respond_to_inquiry(
        db,
        &as_person(db, "tiina.laine").await?,
        slot(video.id, org("education").await?).await?,
        SlotResponse::Answer("Minerva hall needs a document camera.".into()),
        0,
    )
    .await?;
    close_inquiry(db, &it, video.id).await?;

    // Questions at each step.
    let juha = as_person(db, "juha.kinnunen").await?;
    let anna = as_person(db, "anna.forsman").await?;
    let kaisa = as_person(db, "kaisa.rantanen").await?;
    let question = |community_id, title: &str, body: &str, topic_ids| NewQuestion {
        community_id,
        title: title.to_owned(),
        body: body.to_owned(),
        topic_ids,
    };
    let science = org("science").await?;
    let (turnitin, _) = ask_question(
        db,
        &juha,
        question(
            science,
            "How do I enable Turnitin in Moodle?",
            "I cannot find the plagiarism settings in my course.",
            vec![topic("moodle").await?],
        ),
    )
    .await?;
    let (captions, _) = ask_question(
        db,
        &anna,
        question(
            science,
            "Can we get automatic captions for lecture recordings?",
            "Several students have asked for captions.",
            vec![
                topic("accessibility").await?,
                topic("video-and-streaming").await?,
            ],
        ),
    )
    .await?;
    forward_question(
        db,
        &science_mentor,
        captions.id,
        org("it-services").await?,
        Some("Several courses would need this.".into()),
        true,
    )
    .await?;
    answer_question(
        db,
        &it,
        captions.id,
        "Yes: enable captions in the recording settings; they are generated within an hour.".into(),
    )
    .await?;
    let (_, _) = ask_question(
        db,
        &kaisa,
        question(
            org("arts").await?,
            "Where can I find openly licensed images?",
            "For course materials.",
            vec![topic("copyright").await?],
        ),
    )
    .await?;
    let (again, _) = ask_question(
        db,
        &juha,
        question(
            science,
            "Turnitin in Moodle?",
            "Same question as before.",
            vec![],
        ),
    )
    .await?;
    close_question(
        db,
        &science_mentor,
        again.id,
        "Duplicate".into(),
        Some(turnitin.id),
    )
    .await?;
    Ok(())
}

/// A year of monthly meetings (past ones with reports), news, twenty tips and community plans,
/// keyed by the meeting title: a second load adds nothing.
async fn load_open_pages(db: &impl ConnectionTrait) -> AppResult<()> {
    use chrono::{Datelike, Duration, Months, TimeZone, Utc};

    use crate::meetings::service::{MeetingInput, schedule};
    use crate::news::service::{NewsInput, publish};
    use crate::plans::service::set_plan;
    use crate::tips::service::{TipInput, create};

    const MEETING_TITLE: &str = "Digimentor network meeting";
    let exists = entity::meeting::Entity::find()
        .filter(entity::meeting::Column::Title.eq(MEETING_TITLE))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let admin = as_person(db, "admin").await?;
    let topic = |slug: &'static str| async move {
        topic::Entity::find()
            .filter(topic::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(|t| t.id)
            .ok_or(AppError::NotFound("topic"))
    };

    // Second Tuesday-ish of each month at 13:00 Helsinki time, starting eight months ago.
    let first_month = Utc::now()
        .with_timezone(&chrono_tz::Europe::Helsinki)
        .date_naive()
        .with_day(10)
        .unwrap_or_default()
        - Months::new(8);
    let start = chrono_tz::Europe::Helsinki
        .from_local_datetime(&first_month.and_hms_opt(13, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let input = MeetingInput {
        title: MEETING_TITLE.to_owned(),
        starts_at: start,
        ends_at: start + Duration::hours(2),
        place: Some("Main building, hall 12".to_owned()),
        online_url: Some("https://meet.example.edu/digimentors".to_owned()),
        agenda:
            "1. News from the communities\n2. Theme of the month\n3. Questions to service units"
                .to_owned(),
        topic_ids: vec![topic("online-collaboration").await?],
    };
    let (meetings, _) = schedule(db, &admin, input, 12).await?;
    let themes = [
        "moodle",
        "ai-in-teaching",
        "accessibility",
        "digital-exams",
        "video-and-streaming",
        "learning-analytics",
        "copyright",
        "online-collaboration",
    ];
    let writer = as_person(db, "aino.virtanen").await?;
    for (meeting, theme) in meetings
        .iter()
        .filter(|m| m.ends_at < Utc::now())
        .zip(themes)
    {
        let month = meeting
            .starts_at
            .with_timezone(&chrono_tz::Europe::Helsinki)
            .format("%B %Y");
        let report = NewsInput {
            title: format!("Network meeting {month}: {theme}"),
            body: format!(
                "The mentors discussed **{theme}**. Communities shared their practices; the slides are in the shared folder."
            ),
            topic_ids: vec![topic(theme).await?],
        };
        publish(db, &writer, report, Some(meeting.id)).await?;
    }
    let contact = as_person(db, "petra.aalto").await?;
    for (title, theme) in [
        ("Moodle 5 upgrade in June", "moodle"),
        ("New guidance on AI in assessment", "ai-in-teaching"),
        (
            "Captioning service available for all courses",
            "accessibility",
        ),
        ("Exam room opening hours extended", "digital-exams"),
    ] {
        let news = NewsInput {
            title: title.to_owned(),
            body: format!("{title}. Read more from Learning Services."),
            topic_ids: vec![topic(theme).await?],
        };
        publish(db, &contact, news, None).await?;
    }

    let tips: [(&str, &str, &str, &str); 20] = [
        (
            "aino.virtanen",
            "science",
            "moodle",
            "Sähköinen tentti Moodlessa|Käytä tenttiin Moodlen tenttiä ja Exam-tilaa; satunnaista kysymykset.",
        ),
        (
            "aino.virtanen",
            "science",
            "digital-exams",
            "Exam week checklist|Book the exam rooms early and test every exam with a colleague.",
        ),
        (
            "mikko.korhonen",
            "science",
            "video-and-streaming",
            "Short lecture videos|Record 5–10 minute videos instead of full lectures.",
        ),
        (
            "sara.lindqvist",
            "science",
            "accessibility",
            "Tillgängliga PDF:er|Exportera dokument med rubriker och alternativtexter.",
        ),
        (
            "elina.makinen",
            "arts",
            "ai-in-teaching",
            "Tekoäly esseetehtävissä|Pyydä opiskelijoita raportoimaan tekoälyn käyttö.",
        ),
        (
            "elina.makinen",
            "arts",
            "copyright",
            "Open images for slides|Use openly licensed images and credit the author.",
        ),
        (
            "johan.berg",
            "arts",
            "online-collaboration",
            "Grupparbete på nätet|Använd delade dokument och tydliga roller.",
        ),
        (
            "laura.nieminen",
            "medicine",
            "digital-exams",
            "Kuvakysymykset tentissä|Lisää röntgenkuvat tenttikysymyksiin korkealla resoluutiolla.",
        ),
        (
            "emma.wilson",
            "medicine",
            "learning-analytics",
            "Early warning from Moodle logs|Check course activity after week two and contact inactive students.",
        ),
        (
            "antti.heikkinen",
            "law",
            "moodle",
            "Oikeustapausten analyysi Moodlessa|Käytä työpaja-aktiviteettia vertaisarviointiin.",
        ),
        (
            "satu.koskinen",
            "education",
            "ai-in-teaching",
            "AI as a sparring partner|Let students compare their answer with an AI answer and reflect.",
        ),
        (
            "tiina.laine",
            "education",
            "accessibility",
            "Saavutettavat videot|Tekstitä videot ja julkaise tekstivastine.",
        ),
        (
            "oskar.holm",
            "education",
            "online-collaboration",
            "Padlet för reflektion|Samla korta reflektioner efter varje lektion.",
        ),
        (
            "pekka.jarvinen",
            "social-sciences",
            "learning-analytics",
            "Course feedback dashboard|Share the feedback summary with students and say what you change.",
        ),
        (
            "hanna.lehtonen",
            "agriculture-forestry",
            "video-and-streaming",
            "Maastokurssin videot|Kuvaa maastotyöt lyhyiksi ohjevideoiksi.",
        ),
        (
            "ville.saarinen",
            "agriculture-forestry",
            "data-protection",
            "Tutkimusdata ja tietosuoja|Säilytä henkilötiedot yliopiston suojatulla levyllä.",
        ),
        (
            "maria.salo",
            "theology",
            "copyright",
            "Tekijänoikeudet kurssimateriaalissa|Linkitä artikkeleihin, älä lataa PDF:iä Moodleen.",
        ),
        (
            "david.clarke",
            "language-centre",
            "online-collaboration",
            "Conversation practice online|Use breakout rooms of three with rotating roles.",
        ),
        (
            "riikka.turunen",
            "open-university",
            "moodle",
            "Avoimen yliopiston Moodle-pohja|Käytä yhteistä kurssipohjaa, jossa ohjeet valmiina.",
        ),
        (
            "riikka.turunen",
            "open-university",
            "data-protection",
            "Opiskelijoiden tiedot etäopetuksessa|Älä tallenna tunteja ilman lupaa.",
        ),
    ];
    for (author, org, theme, text) in tips {
        let (title, body) = text.split_once('|').unwrap_or((text, text));
        let author = as_person(db, author).await?;
        let org = find_organization(db, org)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let tip = TipInput {
            title: title.to_owned(),
            body: body.to_owned(),
            topic_ids: vec![topic(theme).await?],
        };
        create(db, &author, org.id, tip).await?;
    }

    let year = Utc::now().year();
    for (mentor, community, goals, activities) in [
        (
            "aino.virtanen",
            "science",
            "Every course has a Moodle area with a clear structure.",
            "Monthly Moodle clinics; peer observation of online teaching.",
        ),
        (
            "elina.makinen",
            "arts",
            "Shared practices for AI in essay assignments.",
            "Workshops each term; a shared assignment bank.",
        ),
        (
            "satu.koskinen",
            "education",
            "All videos are captioned.",
            "Captioning support hours; accessibility checklist in course templates.",
        ),
        (
            "laura.nieminen",
            "medicine",
            "Digital exams in every first-year course.",
            "Exam room training; question bank reviews.",
        ),
    ] {
        let mentor = as_person(db, mentor).await?;
        let org = find_organization(db, community)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        set_plan(
            db,
            &mentor,
            org.id,
            year,
            goals.to_owned(),
            activities.to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// Titles of the demo inquiries; the first also marks that the channel is loaded.
const INQUIRY_TITLES: [&str; 4] = [
    "Moodle exam practices",
    "Questions about generative AI in teaching",
    "Accessibility of our digital services",
    "Recording equipment in lecture halls",
];

async fn as_person(db: &impl ConnectionTrait, local_part: &str) -> AppResult<crate::auth::Viewer> {
    let email = if local_part == "admin" {
        ADMIN_EMAIL.to_owned()
    } else {
        format!("{local_part}@demo.digimentor.fi")
    };
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    crate::auth::service::viewer_for_user(db, user).await
}

async fn find_organization(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

async fn ensure_user(
    db: &impl ConnectionTrait,
    email: &str,
    name: &str,
    locale: Locale,
    is_admin: bool,
) -> AppResult<user::Model> {
    let email = Email::parse(email).map_err(AppError::invalid("email"))?;
    if let Some(existing) = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
    {
        return Ok(existing);
    }
    let new = NewUser {
        email,
        display_name: name.to_owned(),
        locale,
        time_zone: TimeZone::default(),
        is_admin,
        password: Some(PASSWORD.to_owned()),
    };
    Ok(create_user(db, None, new).await?.0.user)
}
