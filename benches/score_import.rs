//! Times score imports on PostgreSQL: 70,000 scores for one period across 10 parks (7,000 each,
//! one request per park), and 70,000 scores for one park in a single request.
//!
//! cargo bench --bench score_import
//!
//! It makes a fresh database from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1/test)
//! and drops it afterwards. Set REDIS_URL to invalidate through Redis as production does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::NaiveDate;
use innoloan::{
    Application,
    config::Config,
    domain::{EnterpriseSize, Qualification, Scope, Uscc},
    store::{self, enterprises::NewEnterprise},
};
use sea_orm::ConnectionTrait;
use serde_json::json;

const INDICATORS: [&str; 18] = [
    "研发费用金额",
    "研发费用增速",
    "研发费用占营业收入比例",
    "科技人员占比",
    "发明专利申请量",
    "PCT专利申请量",
    "技术合同成交额",
    "高新技术产品收入",
    "营业收入",
    "营业收入增长率",
    "研究生以上人员占比",
    "研发费用加计扣除所得税减免额",
    "净资产利润率",
    "吸纳应届毕业生人数",
    "省级及以上研发平台",
    "省级及以上科技奖励",
    "省级及以上科技计划项目",
    "获得风险投资金额",
];

fn uscc(n: u32) -> String {
    Uscc::with_check_character(&format!("91420100MA{n:07}")).unwrap().to_string()
}

async fn seed_park(db: &sea_orm::DatabaseConnection, code: &str, first: u32, count: u32) -> String {
    let park = store::parks::create(
        db,
        store::parks::NewPark {
            code: code.into(), name: format!("{code} 高新区"), region: "湖北省".into()
        },
    )
    .await
    .unwrap();
    let batch = (first..first + count)
        .map(|n| NewEnterprise {
            uscc: Uscc::parse(&uscc(n)).unwrap(),
            name: format!("企业{n}"),
            park_id: park.id,
            industry: "software".into(),
            size: EnterpriseSize::Small,
            founded_on: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
            qualifications: vec![Qualification::TechSme],
        })
        .collect();
    store::enterprises::create_many(db, park.id, batch).await.unwrap();
    park.id.to_string()
}

fn body(first: u32, count: u32) -> String {
    let rows: Vec<_> = (first..first + count)
        .map(|n| {
            let indicators: serde_json::Map<String, serde_json::Value> =
                INDICATORS.iter().enumerate().map(|(i, name)| ((*name).to_owned(), json!((n as usize * 7 + i) % 1000))).collect();
            json!({"uscc": uscc(n), "score": f64::from(n % 100_000) / 100.0, "stage": "growth", "indicators": indicators})
        })
        .collect();
    json!({"period": "2022", "scores": rows}).to_string()
}

#[tokio::main]
async fn main() {
    let base =
        std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".into());
    let name = format!("innoloan_bench_{}", std::process::id());
    let admin = sea_orm::Database::connect(&base).await.expect("BENCH_DATABASE_URL must be reachable");
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);

    let db = store::connect(&url, 16).await.unwrap();
    store::migrate(&db).await.unwrap();
    let started = Instant::now();
    let mut parks = Vec::new();
    for p in 0..10u32 {
        parks.push(seed_park(&db, &format!("park-{p}"), p * 7_000, 7_000).await);
    }
    let big_park = seed_park(&db, "park-big", 100_000, 70_000).await;
    println!("seeded 140,000 enterprises in {:.1} s", started.elapsed().as_secs_f64());

    let key = store::api_keys::create(&db, "bench".into(), Scope::All).await.unwrap().secret;
    let config = Config {
        database_url: url.clone(),
        bind_addr: "127.0.0.1:0".into(),
        redis_url: std::env::var("REDIS_URL").ok(),
        redis_key_prefix: name.clone(),
        secrets_key: Some(innoloan::secrets::SecretBox::generate_key()),
        ..Config::default()
    };
    let app = Application::build_with_db(config, db.clone()).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let import = |park: String, body: String| {
        let request = client
            .post(format!("{address}/api/v1/parks/{park}/scores"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap());
        }
    };

    let bodies: Vec<String> = (0..10u32).map(|p| body(p * 7_000, 7_000)).collect();
    let started = Instant::now();
    for (park, body) in parks.iter().zip(bodies) {
        import(park.clone(), body).await;
    }
    let ten_parks = started.elapsed();
    println!("70,000 scores, one period, 10 parks (10 requests of 7,000): {:.2} s", ten_parks.as_secs_f64());

    let big = body(100_000, 70_000);
    println!("one request of 70,000 rows: {:.1} MiB of JSON", big.len() as f64 / 1_048_576.0);
    let started = Instant::now();
    import(big_park.clone(), big.clone()).await;
    println!("70,000 scores, one park, one request: {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    import(big_park, big).await;
    println!("the same period re-imported (replacing 70,000 rows): {:.2} s", started.elapsed().as_secs_f64());

    db.close().await.unwrap();
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}
