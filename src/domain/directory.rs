//! The directory's records: parks, banks, enterprises and API keys.

use chrono::{DateTime, NaiveDate, Utc};

use super::{EnterpriseSize, Qualification, Scope, Uscc, eligibility::Profile, events::Audience};

/// A high-tech park (高新区).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Park {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
}

/// A bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bank {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A tech enterprise, registered in one park. Never edited, moved or deleted once registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enterprise {
    pub id: i64,
    pub uscc: Uscc,
    pub name: String,
    pub park_id: i64,
    pub industry: String,
    pub size: EnterpriseSize,
    pub founded_on: NaiveDate,
    pub qualifications: Vec<Qualification>,
    pub created_at: DateTime<Utc>,
}

impl Enterprise {
    /// Who hears of its registration: its park and itself. (A bank may read it only once it
    /// has applied to one of the bank's products.)
    pub fn audience(&self) -> Audience {
        Audience { park_id: Some(self.park_id), enterprise_id: Some(self.id), ..Audience::default() }
    }

    /// What eligibility looks at in the record.
    pub fn profile(&self) -> Profile {
        Profile {
            park_id: self.park_id,
            industry: self.industry.clone(),
            size: self.size,
            qualifications: self.qualifications.clone(),
            founded_on: self.founded_on,
        }
    }
}

/// An API key, without its secret (only a hash of which is stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
