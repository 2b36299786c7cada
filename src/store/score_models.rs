//! Score models: each park's versions, its one active model, and the mark that makes a model
//! immutable once it has scored.

use entity::score_model;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use super::StoreError;
use crate::domain::score_model::{ModelDefinition, ModelStatus, ScoreModel};

fn model_of(row: score_model::Model) -> Result<ScoreModel, StoreError> {
    let definition: ModelDefinition = serde_json::from_value(row.definition.clone()).map_err(|_| {
        super::corrupt("score_models", row.id, "definition", "a definition this version cannot read")
    })?;
    Ok(ScoreModel {
        id: row.id,
        park_id: row.park_id,
        version: row.version,
        status: super::decode(ModelStatus::parse, "score_models", row.id, "status", &row.status)?,
        name: row.name,
        definition,
        created_at: row.created_at,
        activated_at: row.activated_at,
        used_at: row.used_at,
    })
}

/// Stores a new version of the park's model, as a draft: the park's next version number.
pub async fn create(
    db: &impl ConnectionTrait,
    park_id: i64,
    name: String,
    definition: &ModelDefinition,
) -> Result<ScoreModel, StoreError> {
    let latest: Option<i32> = score_model::Entity::find()
        .select_only()
        .column_as(score_model::Column::Version.max(), "version")
        .filter(score_model::Column::ParkId.eq(park_id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    let row = score_model::ActiveModel {
        park_id: Set(park_id),
        version: Set(latest.unwrap_or(0) + 1),
        name: Set(name),
        status: Set(ModelStatus::Draft.as_str().to_owned()),
        definition: Set(serde_json::to_value(definition)
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?),
        created_at: Set(super::now()),
        activated_at: Set(None),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    // Two versions made at once: the second finds its number taken and may simply retry.
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            "another version of the park's model was saved at the same moment; retry".to_owned()
        })
    })?;
    model_of(row)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<ScoreModel, StoreError> {
    score_model::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound).and_then(model_of)
}

/// The park's models, newest version first.
pub async fn list(db: &impl ConnectionTrait, park_id: i64) -> Result<Vec<ScoreModel>, StoreError> {
    score_model::Entity::find()
        .filter(score_model::Column::ParkId.eq(park_id))
        .order_by_desc(score_model::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(model_of)
        .collect()
}

/// Changes a model that has never scored. One conditional update: a model that scored in the
/// meantime (even in a transaction still running, whose row lock this waits for) is not changed.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    name: Option<String>,
    definition: Option<&ModelDefinition>,
) -> Result<ScoreModel, StoreError> {
    let mut update = score_model::Entity::update_many()
        .filter(score_model::Column::Id.eq(id))
        .filter(score_model::Column::UsedAt.is_null());
    if let Some(name) = name {
        update = update.col_expr(score_model::Column::Name, Expr::value(name));
    }
    if let Some(definition) = definition {
        let json = serde_json::to_value(definition)
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        update = update.col_expr(score_model::Column::Definition, Expr::value(json));
    }
    // Touch the row even when nothing changes, so that the conditional check still applies.
    update = update.col_expr(score_model::Column::UsedAt, Expr::col(score_model::Column::UsedAt));
    let done = update.exec(db).await?;
    let model = get(db, id).await?;
    if done.rows_affected == 0 {
        return Err(in_use(&model));
    }
    Ok(model)
}

fn in_use(model: &ScoreModel) -> StoreError {
    StoreError::WrongState(format!(
        "version {} has scored a period and can no longer change; create a new version (POST /parks/{}/score-models)",
        model.version, model.park_id
    ))
}

/// Makes the model its park's active one; the model active before becomes inactive.
pub async fn activate(db: &impl ConnectionTrait, model: &ScoreModel) -> Result<ScoreModel, StoreError> {
    let now = super::now();
    score_model::Entity::update_many()
        .col_expr(score_model::Column::Status, Expr::value(ModelStatus::Inactive.as_str()))
        .filter(score_model::Column::ParkId.eq(model.park_id))
        .filter(score_model::Column::Status.eq(ModelStatus::Active.as_str()))
        .filter(score_model::Column::Id.ne(model.id))
        .exec(db)
        .await?;
    score_model::Entity::update_many()
        .col_expr(score_model::Column::Status, Expr::value(ModelStatus::Active.as_str()))
        .col_expr(score_model::Column::ActivatedAt, Expr::value(now))
        .filter(score_model::Column::Id.eq(model.id))
        .exec(db)
        .await
        .map_err(|e| {
            super::conflict_on_unique(e, || {
                "the park's active model changed at the same moment; retry".to_owned()
            })
        })?;
    get(db, model.id).await
}

/// The park's active model, marked as used, in the scoring transaction: from the mark on it never
/// changes, and the mark's row lock holds off a change racing with the scoring.
pub async fn take_active(db: &impl ConnectionTrait, park_id: i64) -> Result<ScoreModel, StoreError> {
    let active = score_model::Entity::find()
        .filter(score_model::Column::ParkId.eq(park_id))
        .filter(score_model::Column::Status.eq(ModelStatus::Active.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::WrongState(format!(
                "the park has no active score model; create one (POST /parks/{park_id}/score-models) and activate it"
            ))
        })?;
    let marked = score_model::Entity::update_many()
        .col_expr(score_model::Column::UsedAt, Expr::col(score_model::Column::UsedAt).if_null(super::now()))
        .filter(score_model::Column::Id.eq(active.id))
        .filter(score_model::Column::Status.eq(ModelStatus::Active.as_str()))
        .exec(db)
        .await?;
    if marked.rows_affected == 0 {
        return Err(StoreError::Conflict(
            "the park's active model changed during the import; retry".to_owned(),
        ));
    }
    get(db, active.id).await
}
