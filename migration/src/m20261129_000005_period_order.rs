//! Periods in their real order. A period (`2022`, `2022-H1`, `2022-Q3`, `2022-05`) also gets a
//! key that sorts as text in calendar order: the year, the last month it covers, then the first
//! (`2022` is `2022-12-01`, `2022-H1` is `2022-06-01`, `2022-Q3` is `2022-09-07`). The latest
//! period is the one with the greatest key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scores {
    Table,
    EnterpriseId,
    ParkId,
    Period,
    PeriodKey,
}

/// The sort key of a period, frozen here as it was when this step was written. A period written
/// before the grammar existed keeps its text as its key.
fn period_key(period: &str) -> String {
    let Some((year, rest)) = period.split_at_checked(4) else { return period.to_owned() };
    let months = match rest {
        "" => Some((1, 12)),
        "-H1" => Some((1, 6)),
        "-H2" => Some((7, 12)),
        "-Q1" => Some((1, 3)),
        "-Q2" => Some((4, 6)),
        "-Q3" => Some((7, 9)),
        "-Q4" => Some((10, 12)),
        month => month
            .strip_prefix('-')
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|m| (1..=12).contains(m))
            .map(|m| (m, m)),
    };
    match months {
        Some((first, last)) if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{year}-{last:02}-{first:02}")
        }
        _ => period.to_owned(),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Scores::Table)
                    .add_column(string_len(Scores::PeriodKey, 16).default(""))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let periods = db
            .query_all(&Query::select().distinct().column(Scores::Period).from(Scores::Table).to_owned())
            .await?;
        for row in periods {
            let period: String = row.try_get("", "period")?;
            let update = Query::update()
                .table(Scores::Table)
                .value(Scores::PeriodKey, period_key(&period))
                .and_where(Expr::col(Scores::Period).eq(period))
                .to_owned();
            db.execute(&update).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("scores_enterprise_period_key")
                    .table(Scores::Table)
                    .col(Scores::EnterpriseId)
                    .col(Scores::PeriodKey)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("scores_park_period_key")
                    .table(Scores::Table)
                    .col(Scores::ParkId)
                    .col(Scores::PeriodKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("scores_park_period_key").table(Scores::Table).to_owned())
            .await?;
        manager
            .drop_index(Index::drop().name("scores_enterprise_period_key").table(Scores::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Scores::Table).drop_column(Scores::PeriodKey).to_owned())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::period_key;

    #[test]
    fn keys_sort_in_calendar_order() {
        let mut periods = ["2022-12", "2022", "2022-H1", "2021", "2022-Q3", "2022-H2", "2022-Q4", "2022-01"];
        periods.sort_by_key(|p| period_key(p));
        assert_eq!(
            periods,
            ["2021", "2022-01", "2022-H1", "2022-Q3", "2022", "2022-H2", "2022-Q4", "2022-12"]
        );
    }
}
