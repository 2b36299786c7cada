//! Prospects agree with the eligibility engine: the SQL pre-filter followed by the engine gives
//! exactly the scored enterprises for which `evaluate` says eligible, for any enterprises and any
//! rules. Run on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Utc};
use innoloan::{
    domain::{
        EnterpriseSize, Money, Period, Principal, Qualification, RateBps, Score, Stage, Uscc,
        eligibility::{Verdict, evaluate},
        product::{CreditType, Eligibility, Terms},
        score_import::{Batch, ScoreRow},
    },
    service::{Write, directory, products, scores},
    store::{self, audit::Actor, enterprises::NewEnterprise, parks::NewPark, products::Draft},
};
use proptest::prelude::*;
use sea_orm::TransactionTrait;

const ADMIN: Principal = Principal::command_line();
const INDUSTRIES: [&str; 3] = ["software", "biomedicine", "new_energy"];
const SIZES: [EnterpriseSize; 4] =
    [EnterpriseSize::Micro, EnterpriseSize::Small, EnterpriseSize::Medium, EnterpriseSize::Large];
const QUALIFICATIONS: [Qualification; 4] = [
    Qualification::HighTechEnterprise,
    Qualification::SpecializedSme,
    Qualification::LittleGiant,
    Qualification::TechSme,
];

#[derive(Clone, Debug)]
struct Firm {
    park: usize,
    industry: usize,
    size: usize,
    qualifications: Vec<bool>,
    years: u32,
    /// Scores in an older and the latest period; the latest decides.
    scores: (Option<i32>, Option<i32>),
    stage: usize,
}

const STAGES: [Stage; 3] = [Stage::Startup, Stage::Growth, Stage::Mature];

#[derive(Clone, Debug)]
struct Rules {
    min_score: Option<i32>,
    max_park_rank: Option<i32>,
    min_percentile_centi: Option<i32>,
    parks: Vec<usize>,
    industries: Vec<usize>,
    sizes: Vec<usize>,
    qualifications: Vec<usize>,
    min_years: Option<u32>,
    stages: Vec<usize>,
    min_stage_percentile_centi: Option<i32>,
}

fn firm() -> impl Strategy<Value = Firm> {
    let score = prop::option::weighted(0.8, (0..=20i32).prop_map(|s| s * 500));
    (
        0..2usize,
        0..3usize,
        0..4usize,
        prop::collection::vec(any::<bool>(), 4),
        0..12u32,
        (score.clone(), score),
        0..3usize,
    )
        .prop_map(|(park, industry, size, qualifications, years, scores, stage)| Firm {
            park,
            industry,
            size,
            qualifications,
            years,
            scores,
            stage,
        })
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        prop::option::of((0..=20i32).prop_map(|s| s * 500)),
        prop::option::of(1..6i32),
        prop::option::of((0..=10i32).prop_map(|p| p * 1_000)),
        prop::collection::btree_set(0..2usize, 0..=2),
        prop::collection::btree_set(0..3usize, 0..=2),
        prop::collection::btree_set(0..4usize, 0..=3),
        prop::collection::btree_set(0..4usize, 0..=2),
        prop::option::of(0..10u32),
        prop::collection::btree_set(0..3usize, 0..=2),
        prop::option::of((0..=10i32).prop_map(|p| p * 1_000)),
    )
        .prop_map(
            |(
                min_score,
                max_park_rank,
                min_percentile_centi,
                parks,
                industries,
                sizes,
                qualifications,
                min_years,
                stages,
                min_stage_percentile_centi,
            )| {
                Rules {
                    min_score,
                    max_park_rank,
                    min_percentile_centi,
                    parks: parks.into_iter().collect(),
                    industries: industries.into_iter().collect(),
                    sizes: sizes.into_iter().collect(),
                    qualifications: qualifications.into_iter().collect(),
                    min_years,
                    stages: stages.into_iter().collect(),
                    min_stage_percentile_centi,
                }
            },
        )
}

fn money(fen: i64) -> Money {
    Money::from_fen(fen).unwrap()
}

/// Seeds the world, asks for the product's prospects, and judges every scored enterprise with
/// the engine; returns (the prospects, the enterprises the engine finds eligible).
async fn both_answers(firms: &[Firm], rules: &Rules) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let config = crate::helpers::test_config().await;
    let db = store::connect(&config.database_url, 2).await.unwrap();
    store::migrate(&db).await.unwrap();
    let today = Utc::now().date_naive();
    let txn = db.begin().await.unwrap();
    let mut write = Write::new(&txn, Actor::command_line());
    let w = &mut write;
    let mut park_ids = Vec::new();
    for p in 0..2 {
        let park = NewPark { code: format!("p{p}"), name: format!("园区{p}"), region: "四川".into() };
        park_ids.push(directory::create_park(w, ADMIN, park).await.unwrap().id);
    }
    let mut enterprise_ids = vec![0; firms.len()];
    for (p, park_id) in park_ids.iter().enumerate() {
        let members: Vec<usize> = (0..firms.len()).filter(|&i| firms[i].park == p).collect();
        let batch = members
            .iter()
            .map(|&i| {
                let f = &firms[i];
                NewEnterprise {
                    uscc: Uscc::with_check_character(&format!("91510100MA{:07}", i + 1)).unwrap(),
                    name: format!("企业{i}"),
                    park_id: *park_id,
                    industry: INDUSTRIES[f.industry].into(),
                    size: SIZES[f.size],
                    founded_on: NaiveDate::from_ymd_opt(today.year() - f.years as i32, 1, 1).unwrap(),
                    qualifications: (0..4)
                        .filter(|&q| f.qualifications[q])
                        .map(|q| QUALIFICATIONS[q])
                        .collect(),
                }
            })
            .collect();
        let ids = directory::register_enterprises(w, ADMIN, *park_id, batch).await.unwrap();
        for (i, id) in members.iter().zip(ids) {
            enterprise_ids[*i] = id;
        }
        for (period, latest) in [("2021", false), ("2022", true)] {
            let rows: Vec<ScoreRow> = members
                .iter()
                .filter_map(|&i| {
                    let centi = if latest { firms[i].scores.1 } else { firms[i].scores.0 }?;
                    Some(ScoreRow {
                        row: i as u32 + 1,
                        uscc: Uscc::with_check_character(&format!("91510100MA{:07}", i + 1)).unwrap(),
                        score: Score::from_centi(centi).unwrap(),
                        stage: STAGES[firms[i].stage],
                        indicators: Default::default(),
                    })
                })
                .collect();
            if !rows.is_empty() {
                let period = Period::parse(period).unwrap();
                scores::import(w, ADMIN, *park_id, &period, Batch { rows, errors: Vec::new() })
                    .await
                    .unwrap();
            }
        }
    }
    let bank =
        directory::create_bank(w, ADMIN, store::banks::NewBank { code: "b".into(), name: "银行".into() })
            .await
            .unwrap();
    let eligibility = Eligibility {
        min_score: rules.min_score.map(|c| Score::from_centi(c).unwrap()),
        max_park_rank: rules.max_park_rank,
        min_percentile_centi: rules.min_percentile_centi,
        park_ids: rules.parks.iter().map(|&p| park_ids[p]).collect(),
        industries: rules.industries.iter().map(|&i| INDUSTRIES[i].to_owned()).collect(),
        sizes: rules.sizes.iter().map(|&s| SIZES[s]).collect(),
        required_qualifications: rules.qualifications.iter().map(|&q| QUALIFICATIONS[q]).collect(),
        min_years_established: rules.min_years,
        stages: rules.stages.iter().map(|&s| STAGES[s]).collect(),
        min_stage_percentile_centi: rules.min_stage_percentile_centi,
    };
    let draft = Draft {
        code: "p".into(),
        name: "积分贷".into(),
        description: String::new(),
        credit_type: CreditType::PureCredit,
        terms: Terms {
            min_amount: money(1),
            max_amount: money(1_000_000),
            rate_bps_min: RateBps::new(300).unwrap(),
            rate_bps_max: RateBps::new(400).unwrap(),
            term_months_min: 6,
            term_months_max: 12,
            approval_sla_days: 5,
            total_quota: money(100_000_000),
            eligibility,
            amount_tiers: Vec::new(),
            revolving: false,
        },
    };
    let product = products::create(w, ADMIN, Some(bank.id), draft).await.unwrap();
    write.close().await.unwrap();
    txn.commit().await.unwrap();

    let (found, _) = store::products::prospects(&db, &product, None, 1_000, today).await.unwrap();
    let prospects = found.iter().map(|p| p.enterprise.id).collect();
    let mut engine = BTreeSet::new();
    for id in enterprise_ids {
        let Some(score) = store::scores::latest(&db, id).await.unwrap() else { continue };
        let enterprise = store::enterprises::get(&db, id).await.unwrap();
        let profile = enterprise.profile();
        if let Verdict::Eligible { .. } =
            evaluate(&product.offerable(), &profile.applicant(Some(score.standing())), today)
        {
            engine.insert(id);
        }
    }
    let _ = db.close().await;
    (prospects, engine)
}

#[test]
fn prospects_are_exactly_the_scored_enterprises_the_engine_finds_eligible() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let cases = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { 24 } else { 48 };
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases, ..ProptestConfig::default() });
    let strategy = (prop::collection::vec(firm(), 1..12), rules());
    let outcome = runner.run(&strategy, |(firms, rules)| {
        let (prospects, engine) = runtime.block_on(both_answers(&firms, &rules));
        prop_assert_eq!(prospects, engine, "firms {:?}, rules {:?}", firms, rules);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
