//! What the command line does, apart from parsing it.

use anyhow::{Context, bail};

use crate::{
    Application,
    config::Config,
    domain::{Role, Scope, Uscc},
    store::{self, audit::Actor},
};

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await?;
    Ok(())
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = store::connect(&config.database_url, 1).await?;
    store::migrate(&db).await?;
    println!("migrations applied to {}", redact(&config.database_url));
    Ok(())
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
    let created = store::api_keys::create(&db, &Actor::command_line(), name.to_owned(), resolved).await?;
    let description = format!(
        "created {role} key {} ({name}); store the secret below now, it cannot be shown again",
        created.key.id
    );
    Ok((description, created.secret))
}

pub fn openapi(format: &str) -> String {
    let service = crate::api::openapi_service();
    match format {
        "json" => service.spec(),
        _ => service.spec_yaml(),
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
