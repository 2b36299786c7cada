//! The audit log: one row per state-changing request, written in the same transaction.

use entity::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

/// Who made a change: an API key, or the command line.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub key_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn command_line() -> Self {
        Self::default()
    }
}

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: impl ToString,
) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel {
        actor_key_id: Set(actor.key_id),
        action: Set(action.to_owned()),
        target_type: Set(target_type.to_owned()),
        target_id: Set(target_id.to_string()),
        request_id: Set(actor.request_id.clone()),
        at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
