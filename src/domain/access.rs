//! Who is calling, and what they may see.

use super::text_enum;

text_enum!(
    /// The four kinds of API key.
    Role { Admin => "admin", ParkOffice => "park_office", Bank => "bank", Enterprise => "enterprise" }
);

/// The one park, bank or enterprise a key is confined to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Park(i64),
    Bank(i64),
    Enterprise(i64),
}

impl Scope {
    pub fn role(self) -> Role {
        match self {
            Scope::All => Role::Admin,
            Scope::Park(_) => Role::ParkOffice,
            Scope::Bank(_) => Role::Bank,
            Scope::Enterprise(_) => Role::Enterprise,
        }
    }

    /// The scope's one park, bank or enterprise id, in that order; all `None` for an admin.
    pub fn ids(self) -> (Option<i64>, Option<i64>, Option<i64>) {
        match self {
            Scope::All => (None, None, None),
            Scope::Park(id) => (Some(id), None, None),
            Scope::Bank(id) => (None, Some(id), None),
            Scope::Enterprise(id) => (None, None, Some(id)),
        }
    }

    /// The scope of one park, bank or enterprise id, or none for the admins: the inverse of
    /// [`Scope::ids`]. `None` when more than one is given.
    pub fn from_ids(park_id: Option<i64>, bank_id: Option<i64>, enterprise_id: Option<i64>) -> Option<Scope> {
        match (park_id, bank_id, enterprise_id) {
            (None, None, None) => Some(Scope::All),
            (Some(id), None, None) => Some(Scope::Park(id)),
            (None, Some(id), None) => Some(Scope::Bank(id)),
            (None, None, Some(id)) => Some(Scope::Enterprise(id)),
            _ => None,
        }
    }

    /// Builds a scope from a stored key's role and its one scope id, refusing mismatches.
    pub fn from_parts(
        role: Role,
        park_id: Option<i64>,
        bank_id: Option<i64>,
        enterprise_id: Option<i64>,
    ) -> Option<Scope> {
        match (role, park_id, bank_id, enterprise_id) {
            (Role::Admin, None, None, None) => Some(Scope::All),
            (Role::ParkOffice, Some(id), None, None) => Some(Scope::Park(id)),
            (Role::Bank, None, Some(id), None) => Some(Scope::Bank(id)),
            (Role::Enterprise, None, None, Some(id)) => Some(Scope::Enterprise(id)),
            _ => None,
        }
    }
}

/// An authenticated caller: the key it used and the scope of that key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub key_id: i64,
    pub scope: Scope,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.scope.role()
    }

    /// The command line, the demo and the data set generator: an admin with no key.
    pub const fn command_line() -> Principal {
        Principal { key_id: 0, scope: Scope::All }
    }

    /// Whether the caller may act for this park: an admin, or that park's office.
    pub fn governs_park(&self, park_id: i64) -> bool {
        matches!(self.scope, Scope::All) || self.scope == Scope::Park(park_id)
    }

    /// Whether the caller's role is admin or one of `roles`.
    pub fn acts_as(&self, roles: &[Role]) -> bool {
        self.scope == Scope::All || roles.contains(&self.role())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_roles() {
        assert_eq!(Scope::from_parts(Role::Admin, None, None, None), Some(Scope::All));
        assert_eq!(Scope::from_parts(Role::ParkOffice, Some(3), None, None), Some(Scope::Park(3)));
        assert_eq!(Scope::from_parts(Role::ParkOffice, None, None, None), None);
        assert_eq!(Scope::from_parts(Role::Bank, Some(1), Some(2), None), None);
        assert_eq!(Scope::Enterprise(9).role(), Role::Enterprise);
    }

    #[test]
    fn park_governance() {
        let office = Principal { key_id: 1, scope: Scope::Park(7) };
        assert!(office.governs_park(7));
        assert!(!office.governs_park(8));
        let admin = Principal { key_id: 2, scope: Scope::All };
        assert!(admin.governs_park(8));
    }
}
