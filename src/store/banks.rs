//! Banks.

use entity::bank;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{Page, StoreError};
use crate::domain::directory::Bank;

pub struct NewBank {
    pub code: String,
    pub name: String,
}

pub async fn create(db: &impl ConnectionTrait, new: NewBank) -> Result<Bank, StoreError> {
    let code = new.code.clone();
    let bank = bank::ActiveModel {
        code: Set(new.code),
        name: Set(new.name),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| super::conflict_on_unique(e, || format!("a bank with code {code:?} already exists")))?;
    Ok(bank_of(bank))
}

/// Reads a stored bank.
pub fn bank_of(row: bank::Model) -> Bank {
    Bank { id: row.id, code: row.code, name: row.name, created_at: row.created_at }
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Bank, StoreError> {
    bank::Entity::find_by_id(id).one(db).await?.map(bank_of).ok_or(StoreError::NotFound)
}

/// The names of these banks, in one query.
pub async fn names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>, StoreError> {
    let found = bank::Entity::find().filter(bank::Column::Id.is_in(ids)).all(db).await?;
    Ok(found.into_iter().map(|b| (b.id, b.name)).collect())
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Bank, StoreError> {
    let found = bank::Entity::find().filter(bank::Column::Code.eq(code)).one(db).await?;
    found.map(bank_of).ok_or(StoreError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Bank>, StoreError> {
    let page = super::page_by_id(db, bank::Entity::find(), bank::Column::Id, after, limit, |b| b.id).await?;
    page.try_map(|row| Ok(bank_of(row)))
}
