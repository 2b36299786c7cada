//! What the command line does, apart from parsing it.

use anyhow::{Context, bail};
use sea_orm::TransactionTrait;

use crate::{
    Application,
    config::{Config, redacted},
    domain::{Principal, Role, Scope, Uscc},
    service::{
        Write,
        directory::{self, NewKey},
    },
    store::{self, audit::Actor},
};

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await?;
    Ok(())
}

/// Serves the demo data set on a fresh database: a temporary SQLite file unless `DATABASE_URL`
/// names one. Prints one key per role and a few requests to try.
pub async fn demo(mut config: Config) -> anyhow::Result<()> {
    if !config.database_url_given {
        let path = std::env::temp_dir().join(format!("innoloan-demo-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        config.database_url = format!("sqlite://{}?mode=rwc", path.display());
    }
    if config.secrets_key.is_none() {
        // The demo's database lives no longer than the process, and so may its secrets key.
        config.secrets_key = Some(crate::secrets::SecretBox::generate_key());
    }
    let started = std::time::Instant::now();
    let db = store::connect(&config.database_url, config.database_max_connections).await?;
    store::migrate(&db).await?;
    if !store::parks::list(&db, None, 1).await?.items.is_empty() {
        bail!("{} already holds data; the demo needs a fresh database", redacted(&config.database_url));
    }
    eprintln!("seeding the demo data set into {} …", redacted(&config.database_url));
    let keys = crate::demo::seed(&db).await.context("seeding the demo data set")?;
    let app = Application::build_with_db(config.clone(), db).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let chengdu = keys.chengdu_park_id;
    println!(
        "\ninnoloan demo: 4 parks, 15,427 enterprises, 3,496 credit lines, seeded in {:.1} s\n\
         serving on {base} (Swagger UI: {base}/docs; the console: {base}/console/)\n\n\
         API keys, one per role:\n  \
         admin                          {admin}\n  \
         park office, 成都高新区         {office}\n  \
         bank, 成都银行                   {bank}\n  \
         enterprise, 成都美洽网络科技     {firm}\n\n\
         Try:\n  \
         curl -s -H 'Authorization: Bearer {office}' {base}/api/v1/parks/{chengdu}/stats\n  \
         curl -s -H 'Authorization: Bearer {office}' -H 'Accept: text/csv' {base}/api/v1/parks/{chengdu}/stats\n  \
         curl -s -H 'Authorization: Bearer {firm}' {base}/api/v1/enterprises/{meiqia}/matches\n  \
         curl -s -H 'Authorization: Bearer {bank}' '{base}/api/v1/products/{product}/prospects?limit=5'\n  \
         curl -s -H 'Authorization: Bearer {admin}' {base}/api/v1/stats\n",
        started.elapsed().as_secs_f64(),
        admin = keys.admin,
        office = keys.park_office,
        bank = keys.bank,
        firm = keys.enterprise,
        meiqia = keys.meiqia_id,
        product = keys.jinxiongmao_id,
    );
    app.run_until_stopped().await?;
    Ok(())
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = store::connect(&config.database_url, 1).await?;
    store::migrate(&db).await?;
    println!("migrations applied to {}", redacted(&config.database_url));
    Ok(())
}

/// `innoloan verify`: recomputes the maintained totals from the rows and prints what differs;
/// answers whether nothing did. With `repair`, rebuilds them afterwards (and answers true).
pub async fn verify(config: &Config, repair: bool) -> anyhow::Result<bool> {
    let db = store::connect(&config.database_url, 2).await?;
    store::migrate(&db).await?;
    let today = chrono::Utc::now().date_naive();
    let started = std::time::Instant::now();
    let found = store::totals::verify(&db, today).await?;
    for drift in &found.drift {
        println!("drift: {drift}");
    }
    println!(
        "verify: {} totals checked in {:.1} s, {} differ from the rows",
        found.checked,
        started.elapsed().as_secs_f64(),
        found.drift.len()
    );
    if repair && !found.drift.is_empty() {
        store::totals::rebuild(&db, today).await?;
        println!("verify: rebuilt every total from the rows");
        return Ok(true);
    }
    Ok(found.drift.is_empty())
}

/// The scope a new key is confined to, named by codes as an operator would know them.
pub struct KeyScope {
    pub park: Option<String>,
    pub bank: Option<String>,
    pub uscc: Option<String>,
}

/// Creates an API key and returns its description and its secret.
pub async fn create_key(
    config: &Config,
    role: Role,
    name: &str,
    scope: KeyScope,
) -> anyhow::Result<(String, String)> {
    let db = store::connect(&config.database_url, 1).await?;
    store::migrate(&db).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        bail!("--name must have 1 to 100 characters");
    }
    let resolved = match (role, scope.park, scope.bank, scope.uscc) {
        (Role::Admin, None, None, None) => Scope::All,
        (Role::ParkOffice, Some(code), None, None) => Scope::Park(
            store::parks::find_by_code(&db, &code)
                .await
                .with_context(|| format!("no park has code {code:?}"))?
                .id,
        ),
        (Role::Bank, None, Some(code), None) => Scope::Bank(
            store::banks::find_by_code(&db, &code)
                .await
                .with_context(|| format!("no bank has code {code:?}"))?
                .id,
        ),
        (Role::Enterprise, None, None, Some(uscc)) => {
            let uscc = Uscc::parse(&uscc).with_context(|| format!("{uscc:?} is not a valid USCC"))?;
            let found = store::enterprises::find_by_uscc(&db, &uscc).await;
            Scope::Enterprise(found.with_context(|| format!("no enterprise has USCC {uscc}"))?.id)
        }
        (Role::Admin, ..) => bail!("an admin key takes none of --park, --bank or --uscc"),
        (Role::ParkOffice, ..) => bail!("a park_office key needs --park CODE, and nothing else"),
        (Role::Bank, ..) => bail!("a bank key needs --bank CODE, and nothing else"),
        (Role::Enterprise, ..) => bail!("an enterprise key needs --uscc USCC, and nothing else"),
    };
    let (park_id, bank_id, enterprise_id) = match resolved {
        Scope::All => (None, None, None),
        Scope::Park(id) => (Some(id), None, None),
        Scope::Bank(id) => (None, Some(id), None),
        Scope::Enterprise(id) => (None, None, Some(id)),
    };
    let new = NewKey { name: name.to_owned(), role, park_id, bank_id, enterprise_id };
    let txn = db.begin().await?;
    let mut write = Write::new(&txn, Actor::command_line());
    let created = directory::create_api_key(&mut write, Principal::command_line(), new).await?;
    write.close().await?;
    txn.commit().await?;
    let description = format!(
        "created {role} key {} ({name}); store the secret below now, it cannot be shown again",
        created.key.id
    );
    Ok((description, created.secret))
}

pub fn openapi(format: &str) -> String {
    match format {
        "json" => crate::api::document::json(),
        _ => crate::api::document::yaml(),
    }
}
