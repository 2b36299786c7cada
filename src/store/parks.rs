//! High-tech parks.

use entity::park;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionSession,
    TransactionTrait,
};

use super::{Page, StoreError, audit::Actor};

pub struct NewPark {
    pub code: String,
    pub name: String,
    pub region: String,
}

pub async fn create(
    db: &impl TransactionTrait,
    actor: &Actor,
    new: NewPark,
) -> Result<park::Model, StoreError> {
    let txn = db.begin().await?;
    let code = new.code.clone();
    let park = park::ActiveModel {
        code: Set(new.code),
        name: Set(new.name),
        region: Set(new.region),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| super::conflict_on_unique(e, || format!("a park with code {code:?} already exists")))?;
    super::audit::record(&txn, actor, "park.create", "park", park.id).await?;
    txn.commit().await?;
    Ok(park)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<park::Model, StoreError> {
    park::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<park::Model, StoreError> {
    park::Entity::find().filter(park::Column::Code.eq(code)).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<park::Model>, StoreError> {
    super::page_by_id(db, park::Entity::find(), park::Column::Id, after, limit, |p| p.id).await
}
