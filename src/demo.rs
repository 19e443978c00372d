//! The demo network: `demo/network.toml`, loaded through the network import like any
//! university's own file. Loading it twice changes nothing.

use crate::changes::Changes;
use crate::error::AppResult;
use crate::network::{self, ImportOptions, ImportReport};

/// The demo network, built into the binary.
pub const NETWORK: &str = include_str!("../demo/network.toml");

/// The demo admin's login; every demo user shares the password.
pub struct Credentials {
    pub admin_email: String,
    pub password: String,
    /// What this load added (nothing when the demo was already there).
    pub report: ImportReport,
}

const PASSWORD: &str = "digimentor-demo-2026";
const ADMIN_EMAIL: &str = "admin@demo.digimentor.fi";
/// A staff member of the demo network (no role but membership), for trying the pages.
pub const STAFF_EMAIL: &str = "juha.kinnunen@demo.digimentor.fi";

/// Loads the demo network in one unit of work and returns the admin's credentials. Instances
/// that load it at the same time take turns; the second adds nothing.
pub async fn load(changes: &Changes) -> AppResult<Credentials> {
    let network = network::parse(NETWORK)?;
    let options = ImportOptions {
        password: Some(PASSWORD.to_owned()),
    };
    let report = changes
        .run_exclusive(async |txn| network::import(txn, &network, &options).await)
        .await?;
    Ok(Credentials {
        admin_email: ADMIN_EMAIL.to_owned(),
        password: PASSWORD.to_owned(),
        report,
    })
}
