//! Score imports, look-ups and rankings.

use std::collections::{BTreeMap, HashMap};

use entity::{enterprise, score};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{FieldError, StoreError};
use crate::domain::{
    Period, Score, Stage,
    score::{EnterpriseScore, ModelRef, Standing, rank},
    score_import::{Batch, ScoreRow},
    score_model::Contribution,
};

/// Rows per INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
const INSERT_CHUNK: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: usize,
    pub ranked: usize,
}

/// How a model computed a batch's scores: the model, and each row's breakdown in row order.
pub struct Computation {
    pub model: ModelRef,
    pub breakdowns: Vec<Vec<Contribution>>,
}

/// Replaces the park's scores for `period` with the batch, ranking them, in the caller's transaction.
/// Every USCC must be registered in this park. When the batch has any error, its own or an
/// unregistered USCC, nothing is stored and every bad row is reported, in row order.
pub async fn import(
    db: &impl ConnectionTrait,
    park_id: i64,
    period: &Period,
    batch: Batch,
    computation: Option<Computation>,
) -> Result<ImportSummary, StoreError> {
    let Batch { rows, mut errors } = batch;
    let registered = registered(db, park_id).await?;
    let mut enterprise_ids = Vec::with_capacity(rows.len());
    for row in &rows {
        match registered.get(row.uscc.as_str()) {
            Some(&id) => enterprise_ids.push(id),
            None => errors.push(FieldError::at_row(
                row.row,
                "uscc",
                format!("no enterprise with USCC {} is registered in this park", row.uscc),
            )),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(StoreError::Invalid(errors));
    }

    let scores: Vec<Score> = rows.iter().map(|r| r.score).collect();
    let standings = rank(&scores);
    let stage_standings = rank_within_stages(&rows);
    let imported_at = super::now();
    score::Entity::delete_many()
        .filter(score::Column::ParkId.eq(park_id))
        .filter(score::Column::Period.eq(period.as_str()))
        .exec(db)
        .await?;
    let model = computation.as_ref().map(|c| c.model);
    let mut breakdowns = computation.map(|c| c.breakdowns.into_iter());
    let models: Vec<score::ActiveModel> = rows
        .into_iter()
        .zip(enterprise_ids)
        .zip(standings.into_iter().zip(stage_standings))
        .map(|((row, enterprise_id), (standing, in_stage))| score::ActiveModel {
            model_id: Set(model.map(|m| m.id)),
            model_version: Set(model.map(|m| m.version)),
            breakdown: Set(breakdowns.as_mut().and_then(Iterator::next).map(|b| serde_json::json!(b))),
            enterprise_id: Set(enterprise_id),
            park_id: Set(park_id),
            period: Set(period.as_str().to_owned()),
            period_key: Set(period.key()),
            score_centi: Set(row.score.centi()),
            stage: Set(row.stage.as_str().to_owned()),
            indicators: Set(serde_json::json!(row.indicators)),
            rank: Set(standing.rank),
            park_size: Set(standing.park_size),
            percentile_centi: Set(standing.percentile_centi),
            stage_rank: Set(in_stage.rank),
            stage_size: Set(in_stage.park_size),
            stage_percentile_centi: Set(in_stage.percentile_centi),
            imported_at: Set(imported_at),
            ..Default::default()
        })
        .collect();
    let imported = models.len();
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let chunk: Vec<score::ActiveModel> = models.by_ref().take(INSERT_CHUNK).collect();
        score::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    super::totals::recount_scored(db, park_id).await?;
    Ok(ImportSummary { imported, ranked: imported })
}

/// The rows whose USCC is not registered in the park, as row errors.
pub async fn unregistered(
    db: &impl ConnectionTrait,
    park_id: i64,
    usccs: &[(u32, crate::domain::Uscc)],
) -> Result<Vec<FieldError>, StoreError> {
    let registered = registered(db, park_id).await?;
    Ok(usccs
        .iter()
        .filter(|(_, uscc)| !registered.contains_key(uscc.as_str()))
        .map(|(row, uscc)| {
            FieldError::at_row(
                *row,
                "uscc",
                format!("no enterprise with USCC {uscc} is registered in this park"),
            )
        })
        .collect())
}

async fn registered(db: &impl ConnectionTrait, park_id: i64) -> Result<HashMap<String, i64>, StoreError> {
    Ok(enterprise::Entity::find()
        .select_only()
        .column(enterprise::Column::Uscc)
        .column(enterprise::Column::Id)
        .filter(enterprise::Column::ParkId.eq(park_id))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Each row's standing among the rows of its own stage, in row order.
fn rank_within_stages(rows: &[ScoreRow]) -> Vec<Standing> {
    let mut standings = vec![Standing { rank: 0, park_size: 0, percentile_centi: 0 }; rows.len()];
    for stage in [Stage::Startup, Stage::Growth, Stage::Mature] {
        let members: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].stage == stage).collect();
        let scores: Vec<Score> = members.iter().map(|&i| rows[i].score).collect();
        for (&i, standing) in members.iter().zip(rank(&scores)) {
            standings[i] = standing;
        }
    }
    standings
}

fn to_domain(row: score::Model) -> Result<EnterpriseScore, StoreError> {
    let corrupt = |what: &str| super::corrupt("scores", row.id, what, "a value this version cannot read");
    let indicators: BTreeMap<String, f64> =
        serde_json::from_value(row.indicators.clone()).map_err(|_| corrupt("indicators"))?;
    let breakdown: Vec<Contribution> = match &row.breakdown {
        Some(b) => serde_json::from_value(b.clone()).map_err(|_| corrupt("breakdown"))?,
        None => Vec::new(),
    };
    let model = match (row.model_id, row.model_version) {
        (Some(id), Some(version)) => Some(ModelRef { id, version }),
        _ => None,
    };
    Ok(EnterpriseScore {
        enterprise_id: row.enterprise_id,
        park_id: row.park_id,
        score: Score::from_centi(row.score_centi).map_err(|_| corrupt("score"))?,
        stage: super::decode(Stage::parse, "scores", row.id, "stage", &row.stage)?,
        rank: row.rank,
        park_size: row.park_size,
        percentile_centi: row.percentile_centi,
        stage_rank: row.stage_rank,
        stage_size: row.stage_size,
        stage_percentile_centi: row.stage_percentile_centi,
        imported_at: row.imported_at,
        indicators,
        period: row.period,
        model,
        breakdown,
    })
}

/// The enterprise's score for its latest period, if it has any.
pub async fn latest(
    db: &impl ConnectionTrait,
    enterprise_id: i64,
) -> Result<Option<EnterpriseScore>, StoreError> {
    score::Entity::find()
        .filter(score::Column::EnterpriseId.eq(enterprise_id))
        .order_by_desc(score::Column::PeriodKey)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// The latest period the park has scores for.
pub async fn latest_period(db: &impl ConnectionTrait, park_id: i64) -> Result<Option<String>, StoreError> {
    Ok(score::Entity::find()
        .select_only()
        .column(score::Column::Period)
        .filter(score::Column::ParkId.eq(park_id))
        .order_by_desc(score::Column::PeriodKey)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// One line of a ranking.
pub struct Ranked {
    pub enterprise_id: i64,
    pub name: String,
    pub uscc: String,
    pub score: Score,
    pub stage: Stage,
    pub rank: i32,
    pub percentile_centi: i32,
}

/// Where a best-score-first page (a ranking, a product's prospects) starts: after this score
/// and enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreCursor {
    pub score_centi: i32,
    pub enterprise_id: i64,
}

impl ScoreCursor {
    /// The scores that come after this one, best score first and ties by enterprise id.
    pub(crate) fn rest(self) -> Condition {
        Condition::any().add(score::Column::ScoreCenti.lt(self.score_centi)).add(
            Condition::all()
                .add(score::Column::ScoreCenti.eq(self.score_centi))
                .add(score::Column::EnterpriseId.gt(self.enterprise_id)),
        )
    }
}

/// A ranking's row as read: enterprise id, name, USCC, score (centi), stage, rank, percentile
/// (centi), period.
type RankingRow = (i64, String, String, i32, String, i32, i32, String);

/// A page of a park's ranking, and the period it ranks (`None` when the park has no scores).
pub struct RankingPage {
    pub period: Option<String>,
    pub ranked: Vec<Ranked>,
    pub next: Option<ScoreCursor>,
}

/// The park's ranking for a period (its latest when `None`), best first, ties by enterprise id.
/// One query: the latest period is a subquery of it. Only an empty page asks again, for the
/// period's name.
pub async fn ranking(
    db: &impl ConnectionTrait,
    park_id: i64,
    period: Option<&str>,
    stage: Option<Stage>,
    after: Option<ScoreCursor>,
    limit: u64,
) -> Result<RankingPage, StoreError> {
    let period_filter = match period {
        Some(period) => score::Column::Period.eq(period),
        // `=` a scalar subquery (not `IN`): PostgreSQL runs it once, then reads the ranking index
        // in order for that one period and stops at the page's end.
        None => Expr::col((score::Entity, score::Column::Period)).eq(Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .column(score::Column::Period)
                    .from(score::Entity)
                    .and_where(Expr::col(score::Column::ParkId).eq(park_id))
                    .order_by(score::Column::PeriodKey, sea_orm::Order::Desc)
                    .limit(1)
                    .to_owned()
                    .into(),
            ),
        )),
    };
    // Only the columns a ranking shows: no indicators to decode for a hundred rows.
    let mut query = score::Entity::find()
        .select_only()
        .column(score::Column::EnterpriseId)
        .column(enterprise::Column::Name)
        .column(enterprise::Column::Uscc)
        .column(score::Column::ScoreCenti)
        .column(score::Column::Stage)
        .inner_join(enterprise::Entity)
        .filter(score::Column::ParkId.eq(park_id))
        .filter(period_filter);
    // Within a stage, the stage's own rank and percentile.
    query = match stage {
        Some(stage) => query
            .column(score::Column::StageRank)
            .column(score::Column::StagePercentileCenti)
            .filter(score::Column::Stage.eq(stage.as_str())),
        None => query.column(score::Column::Rank).column(score::Column::PercentileCenti),
    };
    if let Some(after) = after {
        query = query.filter(after.rest());
    }
    let rows: Vec<RankingRow> = query
        .column(score::Column::Period)
        .order_by_desc(score::Column::ScoreCenti)
        .order_by_asc(score::Column::EnterpriseId)
        .limit(limit + 1)
        .into_tuple()
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    let corrupt = |what: &str| super::corrupt("scores", park_id, what, "a value this version cannot read");
    let mut ranked = Vec::with_capacity(rows.len());
    let ranked_period = rows.first().map(|row| row.7.clone());
    for (enterprise_id, name, uscc, score_centi, stage, rank, percentile_centi, _) in
        rows.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        ranked.push(Ranked {
            enterprise_id,
            name,
            uscc,
            score: Score::from_centi(score_centi).map_err(|_| corrupt("score"))?,
            stage: super::decode(Stage::parse, "scores", enterprise_id, "stage", &stage)?,
            rank,
            percentile_centi,
        });
    }
    let next = if has_more {
        ranked.last().map(|r| ScoreCursor { score_centi: r.score.centi(), enterprise_id: r.enterprise_id })
    } else {
        None
    };
    let period = match (period, ranked_period) {
        (Some(asked), _) => Some(asked.to_owned()),
        (None, Some(latest)) => Some(latest),
        // An empty page (a stage with no one, or past the end): name the period anyway.
        (None, None) => latest_period(db, park_id).await?,
    };
    Ok(RankingPage { period, ranked, next })
}
