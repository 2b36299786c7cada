//! High-tech parks.

use entity::park;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{Page, StoreError};
use crate::domain::directory::Park;

pub struct NewPark {
    pub code: String,
    pub name: String,
    pub region: String,
}

pub async fn create(db: &impl ConnectionTrait, new: NewPark) -> Result<Park, StoreError> {
    let code = new.code.clone();
    let park = park::ActiveModel {
        code: Set(new.code),
        name: Set(new.name),
        region: Set(new.region),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| super::conflict_on_unique(e, || format!("a park with code {code:?} already exists")))?;
    Ok(park_of(park))
}

/// Reads a stored park.
pub fn park_of(row: park::Model) -> Park {
    Park { id: row.id, code: row.code, name: row.name, region: row.region, created_at: row.created_at }
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Park, StoreError> {
    park::Entity::find_by_id(id).one(db).await?.map(park_of).ok_or(StoreError::NotFound)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Park, StoreError> {
    let found = park::Entity::find().filter(park::Column::Code.eq(code)).one(db).await?;
    found.map(park_of).ok_or(StoreError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Park>, StoreError> {
    let page = super::page_by_id(db, park::Entity::find(), park::Column::Id, after, limit, |p| p.id).await?;
    page.try_map(|row| Ok(park_of(row)))
}
