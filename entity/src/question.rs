use sea_orm::entity::prelude::*;

/// Lifecycle of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum QuestionStatus {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "forwarded")]
    Forwarded,
    #[sea_orm(string_value = "answered")]
    Answered,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// What a staff member brings up: a question wants an answer; a wish or a view wants the
/// service unit to act on it or take it into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum QuestionKind {
    #[sea_orm(string_value = "question")]
    Question,
    #[sea_orm(string_value = "wish")]
    Wish,
    #[sea_orm(string_value = "view")]
    View,
}

/// What the service unit decided about a wish or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Decision {
    #[sea_orm(string_value = "noted")]
    Noted,
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "not_possible")]
    NotPossible,
}

/// A staff member's question, view or wish, brought up through the community's mentors.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "question")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub asker_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: QuestionStatus,
    pub service_unit_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub forward_note: Option<String>,
    pub hide_asker: bool,
    /// The asker wished, when asking, that the service unit not see their name.
    pub hide_wish: bool,
    pub forwarded_by: Option<Uuid>,
    pub forwarded_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub close_reason: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    pub kind: QuestionKind,
    /// The service unit's latest decision on a wish or a view.
    pub decision: Option<Decision>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
