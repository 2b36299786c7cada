use clap::{Parser, Subcommand, ValueEnum};
use innoloan::{cli, config::Config, domain::Role, telemetry};

/// innoloan: the marketplace behind innovation-points credit loans (创新积分贷).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the migrations, then serve HTTP on BIND_ADDR.
    Serve,
    /// Serve the demo data set (four parks, the reported 2022 figures) on a fresh database, and
    /// print one API key per role.
    Demo,
    /// Apply pending migrations and exit.
    Migrate,
    /// Recompute every maintained statistics total from the rows and report any difference;
    /// exits 1 when one differs. With --repair, then replace them all with what the rows say.
    Verify {
        #[arg(long)]
        repair: bool,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print the OpenAPI document.
    Openapi {
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key; its secret is printed alone on the last line.
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Who or what uses the key.
        #[arg(long)]
        name: String,
        /// The park code, for a park_office key.
        #[arg(long)]
        park: Option<String>,
        /// The bank code, for a bank key.
        #[arg(long)]
        bank: Option<String>,
        /// The enterprise's USCC, for an enterprise key.
        #[arg(long)]
        uscc: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum RoleArg {
    Admin,
    ParkOffice,
    Bank,
    Enterprise,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::ParkOffice => Role::ParkOffice,
            RoleArg::Bank => Role::Bank,
            RoleArg::Enterprise => Role::Enterprise,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Cli::parse();
    if let Command::Openapi { format } = args.command {
        print!("{}", cli::openapi(if matches!(format, Format::Json) { "json" } else { "yaml" }));
        return Ok(());
    }
    let config = Config::from_env()?;
    telemetry::init(&config.log_format, &config.log_filter);
    match args.command {
        Command::Serve => cli::serve(config).await,
        Command::Demo => cli::demo(config).await,
        Command::Migrate => cli::migrate(&config).await,
        Command::Verify { repair } => {
            if !cli::verify(&config, repair).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Keys { command: KeysCommand::Create { role, name, park, bank, uscc } } => {
            let scope = cli::KeyScope { park, bank, uscc };
            let (description, secret) = cli::create_key(&config, role.into(), &name, scope).await?;
            println!("{description}");
            println!("{secret}");
            Ok(())
        }
        Command::Openapi { .. } => Ok(()),
    }
}
