use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enterprise_id: i64,
    pub park_id: i64,
    pub period: String,
    /// Sorts as text in calendar order: the year, the last month, the first (`2022-H1` is
    /// `2022-06-01`); the latest period has the greatest.
    pub period_key: String,
    /// The score in hundredths of a point (72.50 is 7250).
    pub score_centi: i32,
    /// `startup | growth | mature`
    pub stage: String,
    /// Indicator name → number.
    pub indicators: Json,
    /// Competition rank in the park for the period (1, 2, 2, 4).
    pub rank: i32,
    pub park_size: i32,
    /// Hundredths of a percent: 100.00 is the best of the park.
    pub percentile_centi: i32,
    /// Competition rank among the park's enterprises of the same stage, for the period.
    pub stage_rank: i32,
    pub stage_size: i32,
    /// Hundredths of a percent, within the stage.
    pub stage_percentile_centi: i32,
    pub imported_at: DateTimeUtc,
    /// The model that computed the score; `None` for an imported score.
    pub model_id: Option<i64>,
    pub model_version: Option<i32>,
    /// `[{indicator, value, points, weight, contribution}]` for a computed score.
    pub breakdown: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::enterprise::Entity",
        from = "Column::EnterpriseId",
        to = "super::enterprise::Column::Id"
    )]
    Enterprise,
}

impl Related<super::enterprise::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Enterprise.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
