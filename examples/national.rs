//! The national-scale data set: 70,000 enterprises in 10 parks scored for 2021 and 2022, 20 banks
//! with 100 published products, 100,000 credit lines and 1,000,000 disbursements. Deterministic
//! (seeded). Directory records, products and scores go through the store; the credit history,
//! which the API would take hours to replay, is bulk-copied as valid rows: every line has its
//! approved application, every line's `disbursed_total` is the sum of its disbursements, and every
//! product's `granted_total` the sum of its lines.
//!
//! cargo run --release --example national -- postgres://postgres@127.0.0.1/innoloan_national
//!
//! The database must exist and be empty. On success it prints `ADMIN_KEY=…` and the id ranges
//! that `benches/load.sh` uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Instant;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use innoloan::{
    domain::Principal,
    domain::{
        EnterpriseSize, Money, Period, Qualification, RateBps, Score, Stage, Uscc,
        product::{CreditType, Eligibility, Terms, Transition},
        score_import::{Batch, ScoreRow},
    },
    service::{self, Write, directory, products, scores},
    store::{self, audit::Actor, enterprises::NewEnterprise, products::Draft},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::TransactionTrait;
use sea_orm::{ConnectionTrait, sqlx::postgres::PgPoolCopyExt};

const PARKS: usize = 10;
const PER_PARK: usize = 7_000;
const BANKS: usize = 20;
const PRODUCTS_PER_BANK: usize = 5;
const LINES: usize = 100_000;
const INDUSTRIES: [&str; 5] =
    ["software", "biomedicine", "optoelectronics", "new_materials", "intelligent_manufacturing"];

fn uscc(park: usize, n: usize) -> Uscc {
    Uscc::with_check_character(&format!("91{:02}0100MA{:07}", 11 + park, n)).unwrap()
}

/// The generator acts as an admin of the command line, through the same use cases as the API.
const ADMIN: Principal = Principal::command_line();

/// Runs use cases in one committed transaction.
async fn write<T>(
    db: &sea_orm::DatabaseConnection,
    work: impl AsyncFnOnce(&mut Write<'_>) -> service::Result<T>,
) -> T {
    let txn = db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    let value = work(&mut w).await.unwrap();
    w.close().await.unwrap();
    txn.commit().await.unwrap();
    value
}

async fn copy(db: &sea_orm::DatabaseConnection, statement: &str, rows: &str) {
    let pool = db.get_postgres_connection_pool();
    let mut copy = pool.copy_in_raw(statement).await.unwrap();
    copy.send(rows.as_bytes()).await.unwrap();
    copy.finish().await.unwrap();
}

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).expect("usage: national <postgres url of an empty database>");
    assert!(url.starts_with("postgres"), "the national data set loads into PostgreSQL");
    let started = Instant::now();
    let db = store::connect(&url, 8).await.unwrap();
    store::migrate(&db).await.unwrap();
    let mut rng = StdRng::seed_from_u64(2022);

    let mut park_ids = Vec::new();
    for p in 0..PARKS {
        let new = store::parks::NewPark {
            code: format!("park-{p:02}"),
            name: format!("第{}高新区", p + 1),
            region: "全国".into(),
        };
        park_ids.push(write(&db, async |w| directory::create_park(w, ADMIN, new).await).await.id);
    }
    let mut enterprise_ids: Vec<Vec<i64>> = Vec::new();
    for (p, &park_id) in park_ids.iter().enumerate() {
        let batch = (0..PER_PARK)
            .map(|n| NewEnterprise {
                uscc: uscc(p, n + 1),
                name: format!("第{}高新区科技企业{:04}号", p + 1, n + 1),
                park_id,
                industry: INDUSTRIES[n % INDUSTRIES.len()].into(),
                size: [EnterpriseSize::Micro, EnterpriseSize::Small, EnterpriseSize::Medium][n % 3],
                founded_on: NaiveDate::from_ymd_opt(2005 + (n % 15) as i32, 1 + (n % 12) as u32, 1).unwrap(),
                qualifications: if n.is_multiple_of(2) {
                    vec![Qualification::HighTechEnterprise]
                } else {
                    vec![Qualification::TechSme]
                },
            })
            .collect();
        enterprise_ids.push(
            write(&db, async |w| directory::register_enterprises(w, ADMIN, park_id, batch).await).await,
        );
    }
    println!(
        "# {} enterprises in {PARKS} parks after {:.1} s",
        PARKS * PER_PARK,
        started.elapsed().as_secs_f64()
    );

    for period in ["2021", "2022"] {
        for (p, &park_id) in park_ids.iter().enumerate() {
            let rows = (0..PER_PARK)
                .map(|n| ScoreRow {
                    row: n as u32 + 1,
                    uscc: uscc(p, n + 1),
                    score: Score::clamped(rng.random_range(2_000..9_900)),
                    stage: [Stage::Startup, Stage::Growth, Stage::Mature][n % 3],
                    indicators: [
                        ("研发费用金额".to_owned(), rng.random_range(0.0..1e7)),
                        ("发明专利申请量".to_owned(), f64::from(rng.random_range(0..40))),
                    ]
                    .into_iter()
                    .collect(),
                })
                .collect();
            let batch = Batch { rows, errors: Vec::new() };
            let period = Period::parse(period).unwrap();
            write(&db, async |w| scores::import(w, ADMIN, park_id, &period, batch).await).await;
        }
    }
    println!("# scores for 2 periods after {:.1} s", started.elapsed().as_secs_f64());

    let mut products = Vec::new();
    for b in 0..BANKS {
        let new = store::banks::NewBank { code: format!("bank-{b:02}"), name: format!("第{}银行", b + 1) };
        let bank = write(&db, async |w| directory::create_bank(w, ADMIN, new).await).await;
        for k in 0..PRODUCTS_PER_BANK {
            let i = b * PRODUCTS_PER_BANK + k;
            let draft = Draft {
                code: format!("p{k}"),
                name: format!("创新积分贷{i:03}"),
                description: "纯信用".into(),
                credit_type: CreditType::PureCredit,
                terms: Terms {
                    min_amount: Money::from_fen(100).unwrap(),
                    max_amount: Money::from_fen(2_000_000_000).unwrap(),
                    rate_bps_min: RateBps::new(300 + (i % 5) as i64 * 20).unwrap(),
                    rate_bps_max: RateBps::new(600).unwrap(),
                    term_months_min: 6,
                    term_months_max: 36,
                    approval_sla_days: 5,
                    total_quota: Money::from_fen(100_000_000_000_000).unwrap(),
                    eligibility: Eligibility {
                        min_score: Some(Score::clamped(2_000 + (i % 7) as i32 * 800)),
                        park_ids: if i.is_multiple_of(2) { Vec::new() } else { vec![park_ids[i % PARKS]] },
                        sizes: if i.is_multiple_of(5) {
                            vec![EnterpriseSize::Micro, EnterpriseSize::Small]
                        } else {
                            Vec::new()
                        },
                        ..Default::default()
                    },
                    amount_tiers: Vec::new(),
                    revolving: false,
                },
            };
            let product = write(&db, async |w| {
                let product = products::create(w, ADMIN, Some(bank.id), draft).await?;
                products::transition(w, ADMIN, product.id, Transition::Publish).await
            })
            .await;
            products.push((product.id, bank.id));
        }
    }

    // The credit history: applications, lines and disbursements as valid rows, in bulk.
    let terms = r#""{""min_amount"":100,""max_amount"":2000000000,""rate_bps_min"":300,""rate_bps_max"":600,""term_months_min"":6,""term_months_max"":36,""approval_sla_days"":5}""#;
    let mut applications = String::new();
    let mut lines = String::new();
    let mut disbursements = String::new();
    let mut loans = String::new();
    let mut installments = String::new();
    let start = NaiveDate::from_ymd_opt(2021, 1, 4).unwrap();
    let today = Utc::now().date_naive();
    let mut disbursement_id = 0usize;
    // `NATIONAL_DISBURSEMENTS=10000000` for the scale check of the statistics.
    let disbursement_total: usize = std::env::var("NATIONAL_DISBURSEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
        .max(LINES);
    for line in 1..=LINES {
        let park = rng.random_range(0..PARKS);
        let enterprise = enterprise_ids[park][rng.random_range(0..PER_PARK)];
        let (product, bank) = products[rng.random_range(0..products.len())];
        let amount: i64 = rng.random_range(10_000..20_000) * 10_000;
        let granted_on = start + Days::new(rng.random_range(0..700));
        let days: u64 = rng.random_range(1..10);
        let submitted_on = granted_on - Days::new(days);
        let submitted = Utc.from_utc_datetime(&submitted_on.and_hms_opt(10, 0, 0).unwrap()).to_rfc3339();
        let granted = Utc.from_utc_datetime(&granted_on.and_hms_opt(16, 0, 0).unwrap()).to_rfc3339();
        let working = innoloan::domain::credit::approval_time(submitted_on, granted_on).1;
        let park_id = park_ids[park];
        writeln!(applications, "{line},{enterprise},{product},{bank},{park_id},{amount},12,研发,approved,{terms},2022,8000,{amount},{submitted},{submitted},{granted},").unwrap();
        // Ten disbursements a line on average, drawing between half and all of it.
        let count = disbursement_total / LINES;
        let share = amount / 2 / count as i64 + rng.random_range(0..amount / 2 / count as i64);
        let mut drawn = 0;
        for k in 0..count {
            disbursement_id += 1;
            let on = (granted_on + Days::new(1 + k as u64 * 7)).min(today);
            writeln!(disbursements, "{disbursement_id},{line},{bank},{park_id},{enterprise},{product},{share},D{line}-{k},{on},{granted}").unwrap();
            // Each a bullet loan at the line's rate, maturing at its 12-month term.
            let maturity = on.checked_add_months(chrono::Months::new(12)).unwrap();
            let schedule = innoloan::domain::servicing::schedule(
                innoloan::domain::Money::from_fen(share).unwrap(),
                innoloan::domain::RateBps::new(450).unwrap(),
                on,
                maturity,
                innoloan::domain::servicing::RepaymentMethod::Bullet,
            )
            .unwrap();
            writeln!(loans, "{disbursement_id},{line},{enterprise},{bank},{product},{park_id},{share},450,{on},{maturity},bullet,normal,0,0,{granted},{maturity}").unwrap();
            for i in schedule {
                writeln!(
                    installments,
                    "{disbursement_id},{},{},{},{},0,0",
                    i.n,
                    i.due_date,
                    i.principal.fen(),
                    i.interest.fen()
                )
                .unwrap();
            }
            drawn += share;
        }
        writeln!(lines, "{line},{line},{enterprise},{bank},{product},{park_id},{amount},{drawn},{drawn},450,12,{granted},2027-12-31,active,{days},{working},{}", working > 5).unwrap();
    }
    copy(&db, "COPY applications (id, enterprise_id, product_id, bank_id, park_id, amount, term_months, purpose, status, terms, score_period, score_centi, offer_max_amount, submitted_at, reviewed_at, decided_at, decision_reason) FROM STDIN WITH (FORMAT csv)", &applications).await;
    copy(&db, "COPY credit_lines (id, application_id, enterprise_id, bank_id, product_id, park_id, amount, disbursed_total, principal_outstanding, rate_bps, term_months, granted_at, expires_on, status, approval_days, approval_working_days, sla_breached) FROM STDIN WITH (FORMAT csv)", &lines).await;
    copy(&db, "COPY disbursements (id, credit_line_id, bank_id, park_id, enterprise_id, product_id, amount, reference, disbursed_on, created_at) FROM STDIN WITH (FORMAT csv)", &disbursements).await;
    copy(&db, "COPY loans (id, credit_line_id, enterprise_id, bank_id, product_id, park_id, amount, rate_bps, disbursed_on, maturity_date, repayment_method, classification, principal_repaid, interest_repaid, created_at, oldest_unsettled_due) FROM STDIN WITH (FORMAT csv)", &loans).await;
    copy(&db, "COPY loan_installments (loan_id, n, due_date, principal, interest, paid_principal, paid_interest) FROM STDIN WITH (FORMAT csv)", &installments).await;
    for statement in [
        "UPDATE products SET granted_total = COALESCE((SELECT SUM(amount) FROM credit_lines WHERE product_id = products.id), 0)",
        "SELECT setval(pg_get_serial_sequence('applications', 'id'), (SELECT MAX(id) FROM applications))",
        "SELECT setval(pg_get_serial_sequence('credit_lines', 'id'), (SELECT MAX(id) FROM credit_lines))",
        "SELECT setval(pg_get_serial_sequence('disbursements', 'id'), (SELECT MAX(id) FROM disbursements))",
        "VACUUM ANALYZE",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    println!(
        "# {LINES} credit lines and {disbursement_id} disbursements after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The rows went in by COPY, past the use cases: build the statistics' totals from them, as a
    // database that predates the totals gets them.
    let built = std::time::Instant::now();
    innoloan::store::totals::rebuild(&db, chrono::Utc::now().date_naive()).await.unwrap();
    println!("# statistics totals built from the rows in {:.1} s", built.elapsed().as_secs_f64());

    let new = directory::NewKey {
        name: "load-admin".into(),
        role: innoloan::domain::Role::Admin,
        park_id: None,
        bank_id: None,
        enterprise_id: None,
    };
    let admin = write(&db, async |w| directory::create_api_key(w, ADMIN, new).await).await;
    println!("ADMIN_KEY={}", admin.secret);
    println!("ENTERPRISES={}..={}", enterprise_ids[0][0], enterprise_ids[PARKS - 1][PER_PARK - 1]);
    println!("PARKS={}..={}", park_ids[0], park_ids[PARKS - 1]);
    println!("LINES=1..={LINES}");
    println!("LOANS=1..={disbursement_id}");
    println!("# loaded in {:.1} s", started.elapsed().as_secs_f64());
}
