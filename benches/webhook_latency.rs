//! Times webhook delivery: from the commit of an event to its receipt by a real HTTP receiver,
//! with events written at a steady 200 a second.
//!
//! cargo bench --bench webhook_latency
//!
//! It makes a fresh PostgreSQL database from BENCH_DATABASE_URL (default
//! postgres://postgres@127.0.0.1/test), starts the service in process with one admin endpoint
//! subscribed to `enterprise.registered`, registers enterprises through HTTP at RATE a second for
//! SECONDS seconds (defaults 200 and 15), and drops the database. An event's commit happens
//! before its registration answers 201, so the time from that answer to the receipt is a lower
//! bound of the latency, and the time from sending the registration an upper bound; both are
//! printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use innoloan::{Application, config::Config, domain::Scope, secrets::SecretBox, store};
use poem::{
    EndpointExt, Route, Server, handler,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

#[handler]
fn receive(body: String, arrivals: Data<&Arrivals>) -> &'static str {
    let now = Instant::now();
    if let Ok(event) = serde_json::from_str::<Value>(&body)
        && let Some(id) = event["data"]["id"].as_str()
    {
        arrivals.lock().unwrap().entry(id.to_owned()).or_insert(now);
    }
    "ok"
}

fn uscc(n: u32) -> String {
    innoloan::domain::Uscc::with_check_character(&format!("91510100MA{n:07}")).unwrap().to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let env =
        |name: &str, default: u32| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (rate, seconds) = (env("RATE", 200), env("SECONDS", 15));
    let base =
        std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".into());
    let name = format!("innoloan_bench_hooks_{}", std::process::id());
    let admin = sea_orm::Database::connect(&base).await.expect("BENCH_DATABASE_URL must be reachable");
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let db = store::connect(&url, 16).await.unwrap();
    store::migrate(&db).await.unwrap();
    let key = store::api_keys::create(&db, "bench".into(), Scope::All).await.unwrap().secret;
    let park = store::parks::create(
        &db,
        store::parks::NewPark {
            code: "bench".into(), name: "成都高新区".into(), region: "四川省".into()
        },
    )
    .await
    .unwrap();

    let arrivals: Arrivals = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let receiver_port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    let receiver = Route::new().at("/hook", poem::post(receive)).data(arrivals.clone());
    tokio::spawn(Server::new_with_acceptor(acceptor).run(receiver));

    let config = Config {
        database_url: url.clone(),
        bind_addr: "127.0.0.1:0".into(),
        secrets_key: Some(SecretBox::generate_key()),
        webhook_allow_private_networks: true,
        ..Config::default()
    };
    let app = Application::build_with_db(config, db.clone()).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let endpoint = json!({"url": format!("http://127.0.0.1:{receiver_port}/hook"), "event_types": ["enterprise.registered"]});
    let made = client
        .post(format!("{address}/api/v1/webhook-endpoints"))
        .bearer_auth(&key)
        .json(&endpoint)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status().as_u16(), 201);

    let total = rate * seconds;
    println!("registering {total} enterprises at {rate}/s; each raises enterprise.registered");
    let tick = Duration::from_secs_f64(1.0 / f64::from(rate));
    let started = Instant::now();
    let mut requests = Vec::new();
    for n in 0..total {
        tokio::time::sleep_until((started + tick * n).into()).await;
        let request = client.post(format!("{address}/api/v1/enterprises")).bearer_auth(&key).json(&json!({
            "uscc": uscc(n + 1), "name": format!("企业{n}"), "park_id": park.id.to_string(), "industry": "software",
            "size": "small", "founded_on": "2015-01-01",
        }));
        requests.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = request.send().await.unwrap();
            let answered = Instant::now();
            assert_eq!(response.status().as_u16(), 201);
            let body: Value = response.json().await.unwrap();
            (body["id"].as_str().unwrap().to_owned(), sent, answered)
        }));
    }
    let mut registered = Vec::new();
    for request in requests {
        registered.push(request.await.unwrap());
    }
    let offered = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < registered.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrivals = arrivals.lock().unwrap().clone();
    let (mut from_answer, mut from_send) = (Vec::new(), Vec::new());
    for (id, sent, answered) in &registered {
        if let Some(at) = arrivals.get(id) {
            from_answer.push(at.saturating_duration_since(*answered));
            from_send.push(at.saturating_duration_since(*sent));
        }
    }
    from_answer.sort();
    from_send.sort();
    println!(
        "{} of {} events received; offered {:.0} events/s",
        from_answer.len(),
        registered.len(),
        f64::from(total) / offered.as_secs_f64()
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if !from_answer.is_empty() {
        println!(
            "commit to receipt, from the 201: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(percentile(&from_answer, 0.5)),
            ms(percentile(&from_answer, 0.99)),
            ms(*from_answer.last().unwrap())
        );
        println!(
            "commit to receipt, from sending the request: p50 {:.1} ms, p99 {:.1} ms",
            ms(percentile(&from_send, 0.5)),
            ms(percentile(&from_send, 0.99))
        );
    }
    db.close().await.ok();
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}
