//! `executor migrate`: brings the database's schema up to date, explicitly
//! (the service does the same when it starts). Safe to run again, and from
//! several replicas at once: PostgreSQL migrations take an advisory lock.

use clap::Args;

use crate::home::Home;
use crate::store::{PostgresStore, SqliteStore};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database shared by replicas (`postgres://user@host/db`);
    /// without it, the SQLite file in EXECUTOR_HOME
    #[arg(
        long,
        env = "EXECUTOR_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    match args
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => {
            let store = PostgresStore::open(url)?;
            let host = url.split('@').next_back().unwrap_or(url);
            println!(
                "PostgreSQL at {host}: schema version {}, up to date",
                store.version()?
            );
        }
        None => {
            let home = Home::from_env()?;
            home.ensure()?;
            let path = home.database();
            SqliteStore::open(&path)?;
            println!("SQLite at {}: up to date", path.display());
        }
    }
    Ok(())
}
