//! Today's statistics read from the maintained totals (`store::totals`): a few hundred rows per
//! park whatever the number of loans. The report has the same shape, and the same figures, as
//! the one summed from rows; `innoloan verify` and the tests hold the two together.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryResult, QuerySelect,
};

use super::{Month, PolicyShare, Report, Share, Totals, Window, add, finish, in_park, summed};
use crate::domain::{Money, credit::ApplicationStatus, directory::Park};
use crate::store::{
    Sql, StoreError,
    totals::{self, FLOW_COLUMNS, Flow, kind},
};

/// Whether the totals hold these figures: balances as of today, and a window that is open at
/// the start (distinct counts are kept for all time) and reaches today.
pub fn covers(window: Window, as_of: NaiveDate, today: NaiveDate) -> bool {
    as_of == today && window.from.is_none() && window.to.is_none_or(|to| to >= today)
}

/// Whether the monthly totals hold a window: whole months, or reaching today.
pub fn covers_months(window: Window, today: NaiveDate) -> bool {
    window.from.is_none_or(|from| from.day() == 1)
        && window.to.is_none_or(|to| to >= today || to.succ_opt().is_some_and(|next| next.day() == 1))
}

fn park_where(sql: &mut Sql, park_id: Option<i64>) -> String {
    park_id.map(|id| format!(" WHERE park_id = {}", sql.bind(id))).unwrap_or_default()
}

fn money(row: &QueryResult, column: &str) -> Result<Money, StoreError> {
    summed(row.try_get::<Option<i64>>("", column)?, column)
}

/// Rolls the balance rows to `today` if any is older; `false` if any is newer (another
/// process's clock is past midnight already): then the caller reads the rows instead.
async fn fresh(db: &DatabaseConnection, park_id: Option<i64>, today: NaiveDate) -> Result<bool, StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    let statement = format!(
        "SELECT MIN(as_of) AS oldest, MAX(as_of) AS newest FROM stat_balances{}",
        park_where(&mut sql, park_id)
    );
    let row = db.query_one_raw(sql.statement(statement)).await?;
    let (oldest, newest): (Option<NaiveDate>, Option<NaiveDate>) = match row {
        Some(row) => (row.try_get("", "oldest")?, row.try_get("", "newest")?),
        None => (None, None),
    };
    if newest.is_some_and(|day| day > today) {
        return Ok(false);
    }
    if oldest.is_some_and(|day| day < today) {
        match park_id {
            Some(park_id) => totals::roll(db, park_id, today).await?,
            None => totals::roll_every_park(db, today).await?,
        }
    }
    Ok(true)
}

/// The statistics of one park or of every park for today, with the policy money per bank and
/// product; `None` when the totals cannot answer (see [`fresh`]).
pub async fn report(
    db: &DatabaseConnection,
    park_id: Option<i64>,
    today: NaiveDate,
) -> Result<Option<(Report, Vec<PolicyShare>)>, StoreError> {
    if !fresh(db, park_id, today).await? {
        return Ok(None);
    }
    let txn = super::read_snapshot(db).await?;
    let db = &txn;
    let backend = db.get_database_backend();
    let parks: Vec<Park> = entity::park::Entity::find()
        .filter(in_park(entity::park::Column::Id, park_id))
        .all(db)
        .await?
        .into_iter()
        .map(crate::store::parks::park_of)
        .collect();
    let mut per_park: BTreeMap<i64, Totals> = parks.iter().map(|p| (p.id, Totals::default())).collect();
    let mut banks: BTreeMap<i64, Share> = BTreeMap::new();
    let mut products: BTreeMap<i64, Share> = BTreeMap::new();
    let mut product_banks: HashMap<i64, i64> = HashMap::new();

    let mut sql = Sql::new(backend);
    let counts = format!("SELECT park_id, kind, key_id, n FROM stat_counts{}", park_where(&mut sql, park_id));
    for row in db.query_all_raw(sql.statement(counts)).await? {
        let (park, kind, key, n): (i64, String, i64, i64) = (
            row.try_get("", "park_id")?,
            row.try_get("", "kind")?,
            row.try_get("", "key_id")?,
            row.try_get("", "n")?,
        );
        match kind.as_str() {
            kind::REGISTERED => per_park.entry(park).or_default().enterprises_registered += n,
            kind::SCORED => per_park.entry(park).or_default().enterprises_scored += n,
            kind::CREDIT => per_park.entry(park).or_default().enterprises_with_credit += n,
            // An enterprise is in one park, so the nation's distinct count is the parks' sum.
            kind::CREDIT_BANK => {
                banks.entry(key).or_insert_with(|| Share { id: key, ..Default::default() }).enterprises += n
            }
            kind::CREDIT_PRODUCT => {
                products.entry(key).or_insert_with(|| Share { id: key, ..Default::default() }).enterprises +=
                    n
            }
            _ => {}
        }
    }

    // Every month counts: [`covers`] admits only windows open at the start that reach today.
    let mut sql = Sql::new(backend);
    let clause = park_where(&mut sql, park_id);
    let applications = format!(
        "SELECT park_id, status, CAST(SUM(n) AS BIGINT) AS n FROM stat_applications{clause} GROUP BY park_id, status"
    );
    for row in db.query_all_raw(sql.statement(applications)).await? {
        let park: i64 = row.try_get("", "park_id")?;
        let status: String = row.try_get("", "status")?;
        let status =
            crate::store::decode(ApplicationStatus::parse, "stat_applications", park, "status", &status)?;
        let n: i64 = row.try_get::<Option<i64>>("", "n")?.unwrap_or(0);
        if n != 0 {
            *per_park.entry(park).or_default().applications.entry(status).or_default() += n;
        }
    }

    let mut sql = Sql::new(backend);
    let clause = park_where(&mut sql, park_id);
    let flows = format!(
        "SELECT park_id, bank_id, product_id, {} FROM stat_flow_totals{clause}",
        FLOW_COLUMNS.join(", ")
    );
    let mut policy: BTreeMap<(i64, i64), PolicyShare> = BTreeMap::new();
    for row in db.query_all_raw(sql.statement(flows)).await? {
        let (park, bank_id, product_id): (i64, i64, i64) =
            (row.try_get("", "park_id")?, row.try_get("", "bank_id")?, row.try_get("", "product_id")?);
        let flow = Flow::from_row(&row)?;
        let fen = |value: i64, what: &str| summed(Some(value), what);
        let totals = per_park.entry(park).or_default();
        totals.credit_lines += flow.credit_lines;
        add(&mut totals.credit_granted, fen(flow.credit_granted, "credit granted")?)?;
        totals.approval_days_sum += flow.approval_days;
        totals.approval_working_days_sum += flow.approval_working_days;
        totals.sla_breaches += flow.sla_breaches;
        totals.disbursement_count += flow.disbursements;
        add(&mut totals.disbursed, fen(flow.disbursed, "disbursements")?)?;
        let servicing = super::servicing::Servicing {
            principal_repaid: fen(flow.principal_repaid, "principal repaid")?,
            interest_repaid: fen(flow.interest_repaid, "interest repaid")?,
            recovered: fen(flow.recovered, "recovered")?,
            written_off: fen(flow.written_off, "written off")?,
            ..Default::default()
        };
        totals.servicing.add(&servicing)?;
        for (id, shares) in [(bank_id, &mut banks), (product_id, &mut products)] {
            let share = shares.entry(id).or_insert_with(|| Share { id, ..Default::default() });
            share.credit_lines += flow.credit_lines;
            add(&mut share.credit_granted, fen(flow.credit_granted, "credit granted")?)?;
            share.disbursement_count += flow.disbursements;
            add(&mut share.disbursed, fen(flow.disbursed, "disbursements")?)?;
            share.servicing.add(&servicing)?;
        }
        if flow.credit_lines > 0 || flow.disbursements > 0 || servicing != Default::default() {
            product_banks.insert(product_id, bank_id);
        }
        if flow.risk_claims_paid != 0 || flow.subsidies_paid != 0 {
            let entry = policy.entry((bank_id, product_id)).or_insert(PolicyShare {
                bank_id,
                product_id,
                ..Default::default()
            });
            add(&mut entry.risk_claims_paid, fen(flow.risk_claims_paid, "risk claims paid")?)?;
            add(&mut entry.subsidies_paid, fen(flow.subsidies_paid, "subsidies paid")?)?;
        }
    }

    let mut sql = Sql::new(backend);
    let balances = format!(
        "SELECT park_id, bank_id, product_id, principal_outstanding, overdue_principal, npl_balance FROM stat_balances{}",
        park_where(&mut sql, park_id)
    );
    for row in db.query_all_raw(sql.statement(balances)).await? {
        let (park, bank_id, product_id): (i64, i64, i64) =
            (row.try_get("", "park_id")?, row.try_get("", "bank_id")?, row.try_get("", "product_id")?);
        let servicing = super::servicing::Servicing {
            principal_outstanding: money(&row, "principal_outstanding")?,
            overdue_principal: money(&row, "overdue_principal")?,
            npl_balance: money(&row, "npl_balance")?,
            ..Default::default()
        };
        if servicing == Default::default() {
            continue;
        }
        per_park.entry(park).or_default().servicing.add(&servicing)?;
        for (id, shares) in [(bank_id, &mut banks), (product_id, &mut products)] {
            shares
                .entry(id)
                .or_insert_with(|| Share { id, ..Default::default() })
                .servicing
                .add(&servicing)?;
        }
        product_banks.insert(product_id, bank_id);
    }
    // Every product with activity names its bank, though a product's row may hold only counts.
    let missing: Vec<i64> = products.keys().filter(|id| !product_banks.contains_key(id)).copied().collect();
    if !missing.is_empty() {
        let found: Vec<(i64, i64)> = entity::product::Entity::find()
            .select_only()
            .column(entity::product::Column::Id)
            .column(entity::product::Column::BankId)
            .filter(entity::product::Column::Id.is_in(missing))
            .into_tuple()
            .all(db)
            .await?;
        product_banks.extend(found);
    }
    let report = finish(db, park_id, parks, per_park, banks, products, product_banks).await?;
    txn.commit().await?;
    Ok(Some((report, policy.into_values().collect())))
}

/// A park's months from the monthly totals, oldest first.
pub async fn monthly(
    db: &impl ConnectionTrait,
    park_id: i64,
    window: Window,
) -> Result<Vec<Month>, StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    let mut clause = format!(" WHERE park_id = {}", sql.bind(park_id));
    if let Some(from) = window.from {
        clause += &format!(" AND month >= {}", sql.bind(totals::month(from)));
    }
    if let Some(to) = window.to {
        clause += &format!(" AND month <= {}", sql.bind(totals::month(to)));
    }
    let sums: Vec<String> = FLOW_COLUMNS.iter().map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")).collect();
    let statement =
        format!("SELECT month, {} FROM stat_flows{clause} GROUP BY month ORDER BY month", sums.join(", "));
    let mut months = Vec::new();
    for row in db.query_all_raw(sql.statement(statement)).await? {
        let flow = Flow::from_row(&row)?;
        let fen = |value: i64, what: &str| summed(Some(value), what);
        let month = Month {
            month: row.try_get("", "month")?,
            credit_lines: flow.credit_lines,
            credit_granted: fen(flow.credit_granted, "credit granted")?,
            disbursement_count: flow.disbursements,
            disbursed: fen(flow.disbursed, "disbursements")?,
            repayment_count: flow.repayments,
            principal_repaid: fen(flow.principal_repaid, "principal repaid")?,
            interest_repaid: fen(flow.interest_repaid, "interest repaid")?,
            recovered: fen(flow.recovered, "recovered")?,
        };
        // A month whose only figures are policy money, or whose totals went back to zero, is
        // not in the series summed from rows either.
        let empty = Month { month: month.month.clone(), ..Default::default() };
        if month != empty {
            months.push(month);
        }
    }
    Ok(months)
}
