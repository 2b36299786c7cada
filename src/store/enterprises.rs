//! Enterprises, registered by their park.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{application, enterprise, park};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{FieldError, Page, StoreError};
use crate::domain::{EnterpriseSize, Qualification, Scope, Uscc, directory::Enterprise};

pub struct NewEnterprise {
    pub uscc: Uscc,
    pub name: String,
    pub park_id: i64,
    pub industry: String,
    pub size: EnterpriseSize,
    pub founded_on: NaiveDate,
    pub qualifications: Vec<Qualification>,
}

/// Registers an enterprise in a park that the caller governs. A park outside the caller's scope
/// is reported exactly as a park that does not exist.
pub async fn create(
    db: &impl ConnectionTrait,
    caller: Scope,
    new: NewEnterprise,
) -> Result<Enterprise, StoreError> {
    let park_visible = matches!(caller, Scope::All) || caller == Scope::Park(new.park_id);
    if !park_visible || park::Entity::find_by_id(new.park_id).one(db).await?.is_none() {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "park_id",
            format!("there is no park with id {}", new.park_id),
        )]));
    }
    let mut qualifications = new.qualifications;
    qualifications.sort();
    qualifications.dedup();
    let uscc = new.uscc.clone();
    let model = enterprise::ActiveModel {
        uscc: Set(new.uscc.as_str().to_owned()),
        name: Set(new.name),
        park_id: Set(new.park_id),
        industry: Set(new.industry),
        size: Set(new.size.as_str().to_owned()),
        founded_on: Set(new.founded_on),
        qualifications: Set(serde_json::json!(qualifications)),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || format!("an enterprise with USCC {uscc} is already registered"))
    })?;
    super::totals::registered(db, model.park_id, 1).await?;
    enterprise_of(model)
}

/// Registers many enterprises in one park, in the caller's transaction, for seeding and bulk loads. The
/// rows are checked as `create` checks them; any duplicate USCC refuses the whole batch.
pub async fn create_many(
    db: &impl ConnectionTrait,
    park_id: i64,
    batch: Vec<NewEnterprise>,
) -> Result<Vec<Enterprise>, StoreError> {
    if park::Entity::find_by_id(park_id).one(db).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let now = super::now();
    super::totals::registered(db, park_id, i64::try_from(batch.len()).unwrap_or(i64::MAX)).await?;
    let usccs: Vec<String> = batch.iter().map(|e| e.uscc.as_str().to_owned()).collect();
    let mut models = batch.into_iter().map(|new| {
        let mut qualifications = new.qualifications;
        qualifications.sort();
        qualifications.dedup();
        enterprise::ActiveModel {
            uscc: Set(new.uscc.as_str().to_owned()),
            name: Set(new.name),
            park_id: Set(park_id),
            industry: Set(new.industry),
            size: Set(new.size.as_str().to_owned()),
            founded_on: Set(new.founded_on),
            qualifications: Set(serde_json::json!(qualifications)),
            created_at: Set(now),
            ..Default::default()
        }
    });
    loop {
        let chunk: Vec<enterprise::ActiveModel> = models.by_ref().take(1_000).collect();
        if chunk.is_empty() {
            break;
        }
        enterprise::Entity::insert_many(chunk).exec_without_returning(db).await.map_err(|e| {
            super::conflict_on_unique(e, || "a USCC in the batch is already registered".to_owned())
        })?;
    }
    let mut registered = Vec::with_capacity(usccs.len());
    for chunk in usccs.chunks(1_000) {
        let mut found: HashMap<String, enterprise::Model> = enterprise::Entity::find()
            .filter(enterprise::Column::Uscc.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.uscc.clone(), row))
            .collect();
        for uscc in chunk {
            if let Some(row) = found.remove(uscc) {
                registered.push(enterprise_of(row)?);
            }
        }
    }
    Ok(registered)
}

/// Reads a stored enterprise: its USCC, size and qualifications through their one conversion
/// each; a value they do not know is a corrupt row.
pub fn enterprise_of(row: enterprise::Model) -> Result<Enterprise, StoreError> {
    let id = row.id;
    let unreadable =
        |stored: &serde_json::Value| super::corrupt("enterprises", id, "qualifications", &stored.to_string());
    let qualifications = row
        .qualifications
        .as_array()
        .ok_or_else(|| unreadable(&row.qualifications))?
        .iter()
        .map(|name| {
            name.as_str().and_then(Qualification::parse).ok_or_else(|| unreadable(&row.qualifications))
        })
        .collect::<Result<_, _>>()?;
    Ok(Enterprise {
        id,
        uscc: Uscc::parse(&row.uscc).map_err(|_| super::corrupt("enterprises", id, "uscc", &row.uscc))?,
        name: row.name,
        park_id: row.park_id,
        industry: row.industry,
        size: super::decode(EnterpriseSize::parse, "enterprises", id, "size", &row.size)?,
        founded_on: row.founded_on,
        qualifications,
        created_at: row.created_at,
    })
}

/// The condition that limits enterprises to those a caller may see. A bank sees an enterprise
/// once it has applied to one of the bank's products.
fn visible_to(caller: Scope) -> Condition {
    match caller {
        Scope::All => Condition::all(),
        Scope::Park(park_id) => Condition::all().add(enterprise::Column::ParkId.eq(park_id)),
        Scope::Enterprise(id) => Condition::all().add(enterprise::Column::Id.eq(id)),
        Scope::Bank(bank_id) => {
            let applied = Query::select()
                .expr(Expr::val(1))
                .from(application::Entity)
                .and_where(
                    Expr::col((application::Entity, application::Column::EnterpriseId))
                        .equals((enterprise::Entity, enterprise::Column::Id)),
                )
                .and_where(Expr::col((application::Entity, application::Column::BankId)).eq(bank_id))
                .to_owned();
            Condition::all().add(Expr::exists(applied))
        }
    }
}

/// Reads one enterprise, as the caller may see it.
pub async fn get_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<Enterprise, StoreError> {
    let found = enterprise::Entity::find_by_id(id).filter(visible_to(caller)).one(db).await?;
    enterprise_of(found.ok_or(StoreError::NotFound)?)
}

/// Reads one enterprise and locks its row until the commit (on PostgreSQL; SQLite has one writer):
/// what a use case does to the enterprise's own tallies, such as a subsidy cap, runs one at a time.
/// `FOR NO KEY UPDATE`, so that rows referring to the enterprise (loans, scores) may still be
/// written meanwhile.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Enterprise, StoreError> {
    use sea_orm::{QuerySelect, sea_query::LockType};
    let found = enterprise::Entity::find_by_id(id).lock(LockType::NoKeyUpdate).one(db).await?;
    enterprise_of(found.ok_or(StoreError::NotFound)?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Enterprise, StoreError> {
    enterprise_of(enterprise::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub async fn find_by_uscc(db: &impl ConnectionTrait, uscc: &Uscc) -> Result<Enterprise, StoreError> {
    let found = enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc.as_str())).one(db).await?;
    enterprise_of(found.ok_or(StoreError::NotFound)?)
}

pub async fn list_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    park_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Enterprise>, StoreError> {
    let query = enterprise::Entity::find()
        .filter(visible_to(caller))
        .apply_if(park_id, |q, park_id| q.filter(enterprise::Column::ParkId.eq(park_id)));
    super::page_by_id(db, query, enterprise::Column::Id, after, limit, |e| e.id).await?.try_map(enterprise_of)
}
