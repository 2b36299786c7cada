//! The eligibility engine: one enterprise against 1,000 published products.
//!
//! cargo bench --bench eligibility
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use innoloan::domain::{
    EnterpriseSize, Money, Qualification, RateBps, Score, Stage,
    eligibility::{Applicant, Standing, evaluate},
    product::{AmountTier, CreditType, Eligibility, Product, ProductStatus, Terms},
};

fn money(fen: i64) -> Money {
    Money::from_fen(fen).unwrap()
}

fn products(count: usize) -> Vec<Product> {
    (0..count)
        .map(|i| {
            let i64_i = i as i64;
            let eligibility = Eligibility {
                min_score: (i % 3 != 0).then(|| Score::from_centi((i % 90) as i32 * 100).unwrap()),
                max_park_rank: (i % 5 == 0).then_some(100),
                min_percentile_centi: (i % 7 == 0).then_some(5_000),
                stages: if i % 9 == 0 { vec![Stage::Startup, Stage::Growth] } else { Vec::new() },
                min_stage_percentile_centi: (i % 11 == 0).then_some(7_000),
                park_ids: if i % 2 == 0 { vec![1, 2, 3, (i % 10) as i64] } else { Vec::new() },
                industries: if i % 4 == 0 {
                    vec!["software".into(), "biomedicine".into()]
                } else {
                    Vec::new()
                },
                sizes: if i % 6 == 0 {
                    vec![EnterpriseSize::Small, EnterpriseSize::Micro]
                } else {
                    Vec::new()
                },
                required_qualifications: if i % 8 == 0 {
                    vec![Qualification::HighTechEnterprise]
                } else {
                    Vec::new()
                },
                min_years_established: (i % 9 == 0).then_some(3),
            };
            let amount_tiers = if i % 2 == 0 {
                vec![
                    AmountTier {
                        min_score: Score::from_centi(6_000).unwrap(),
                        max_amount: money(50_000_000),
                    },
                    AmountTier {
                        min_score: Score::from_centi(8_000).unwrap(),
                        max_amount: money(200_000_000),
                    },
                    AmountTier {
                        min_score: Score::from_centi(9_000).unwrap(),
                        max_amount: money(500_000_000),
                    },
                ]
            } else {
                Vec::new()
            };
            Product {
                id: i64_i + 1,
                bank_id: i64_i % 20 + 1,
                code: format!("p{i}"),
                name: format!("积分贷{i}"),
                description: String::new(),
                credit_type: CreditType::PureCredit,
                status: ProductStatus::Published,
                terms: Terms {
                    min_amount: money(1_000_000),
                    max_amount: money(500_000_000),
                    rate_bps_min: RateBps::new(350).unwrap(),
                    rate_bps_max: RateBps::new(450).unwrap(),
                    term_months_min: 6,
                    term_months_max: 36,
                    approval_sla_days: 5,
                    total_quota: money(1_000_000_000_000),
                    eligibility,
                    amount_tiers,
                    revolving: false,
                },
                granted_total: money(i64_i * 1_000_000),
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
                published_at: Some(chrono::Utc::now()),
            }
        })
        .collect()
}

fn one_enterprise_against_1000_products(c: &mut Criterion) {
    let catalogue = products(1_000);
    let qualifications = [Qualification::HighTechEnterprise, Qualification::TechSme];
    let applicant = Applicant {
        park_id: 2,
        industry: "software",
        size: EnterpriseSize::Small,
        qualifications: &qualifications,
        founded_on: NaiveDate::from_ymd_opt(2016, 5, 1).unwrap(),
        standing: Some(Standing {
            score: Score::from_centi(8_250).unwrap(),
            rank: 40,
            percentile_centi: 9_400,
            stage: Stage::Growth,
            stage_percentile_centi: 9_000,
        }),
    };
    let today = NaiveDate::from_ymd_opt(2022, 9, 29).unwrap();
    c.bench_function("eligibility: 1 enterprise x 1,000 products", |b| {
        b.iter(|| {
            let mut eligible = 0usize;
            for product in &catalogue {
                if evaluate(&product.offerable(), black_box(&applicant), today).offer().is_some() {
                    eligible += 1;
                }
            }
            black_box(eligible)
        })
    });
}

criterion_group!(benches, one_enterprise_against_1000_products);
criterion_main!(benches);
