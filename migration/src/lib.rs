//! The schema, one step per file. Each step has a working `down`.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_directory;
mod m20261128_000002_scores;
mod m20261128_000003_products;
mod m20261128_000004_credit;
mod m20261129_000005_period_order;
mod m20261129_000006_events;
mod m20261129_000007_loans;
mod m20261129_000008_daily_runs;
mod m20261129_000009_revolving;
mod m20261129_000010_stage_ranks;
mod m20261129_000011_loan_arrears;
mod m20261129_000012_score_models;
mod m20261129_000013_recommendations;
mod m20261129_000014_risk_pools;
mod m20261203_000015_subsidies;
mod m20261203_000016_totals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_directory::Migration),
            Box::new(m20261128_000002_scores::Migration),
            Box::new(m20261128_000003_products::Migration),
            Box::new(m20261128_000004_credit::Migration),
            Box::new(m20261129_000005_period_order::Migration),
            Box::new(m20261129_000006_events::Migration),
            Box::new(m20261129_000007_loans::Migration),
            Box::new(m20261129_000008_daily_runs::Migration),
            Box::new(m20261129_000009_revolving::Migration),
            Box::new(m20261129_000010_stage_ranks::Migration),
            Box::new(m20261129_000011_loan_arrears::Migration),
            Box::new(m20261129_000012_score_models::Migration),
            Box::new(m20261129_000013_recommendations::Migration),
            Box::new(m20261129_000014_risk_pools::Migration),
            Box::new(m20261203_000015_subsidies::Migration),
            Box::new(m20261203_000016_totals::Migration),
        ]
    }
}
