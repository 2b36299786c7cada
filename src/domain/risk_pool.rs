//! Risk-compensation pools (风险补偿资金池): public money that repays part of a bank's loss on a
//! covered loan, so that banks lend on credit alone. A pool is a ledger; its balance never goes
//! below zero. What a claim pays is computed, never typed: the loan's unpaid principal × the
//! pool's coverage, capped per loan. Recoveries after a paid claim return the pool's share.

use chrono::{DateTime, NaiveDate, Utc};

use super::{FieldError, Money, text_enum};

text_enum!(
    /// A claim is `filed` by the bank, then `approved` (paid from the pool) or `rejected` by the
    /// park office.
    ClaimStatus { Filed => "filed", Approved => "approved", Rejected => "rejected" }
);

text_enum!(
    /// A line of a pool's ledger.
    EntryKind { TopUp => "top_up", ClaimPaid => "claim_paid", RecoveryReturned => "recovery_returned" }
);

/// Coverage is at most 100%.
pub const MAX_COVERAGE_BPS: i32 = 10_000;
pub const MAX_NAME: usize = 128;
/// The most characters in a top-up's reference.
pub const MAX_REFERENCE: usize = 64;
/// The most characters in a decision's reason.
pub const MAX_REASON: usize = 500;
pub const MAX_PRODUCTS: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskPool {
    pub id: i64,
    pub park_id: i64,
    pub name: String,
    pub product_ids: Vec<i64>,
    pub coverage_bps: i32,
    pub per_loan_cap: Money,
    pub enrol_from: NaiveDate,
    pub enrol_to: NaiveDate,
    pub balance: Money,
    pub created_at: DateTime<Utc>,
}

/// A new pool's terms, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolTerms {
    pub name: String,
    pub product_ids: Vec<i64>,
    pub coverage_bps: i32,
    pub per_loan_cap: Money,
    pub enrol_from: NaiveDate,
    pub enrol_to: NaiveDate,
}

impl PoolTerms {
    /// Every broken rule, each at its field.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(e) = super::text::line_within("name", &self.name, MAX_NAME) {
            errors.push(e);
        }
        if self.product_ids.is_empty() || self.product_ids.len() > MAX_PRODUCTS {
            errors
                .push(FieldError::new("product_ids", format!("a pool covers 1 to {MAX_PRODUCTS} products")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, id) in self.product_ids.iter().enumerate() {
            if !seen.insert(id) {
                errors.push(FieldError::new(
                    format!("product_ids[{i}]"),
                    format!("product {id} is named twice"),
                ));
            }
        }
        if !(1..=MAX_COVERAGE_BPS).contains(&self.coverage_bps) {
            errors
                .push(FieldError::new("coverage_bps", "coverage is 1 to 10000 basis points (0.01% to 100%)"));
        }
        if self.per_loan_cap == Money::ZERO {
            errors.push(FieldError::new("per_loan_cap", "a cap is at least 1 fen"));
        }
        if self.enrol_to < self.enrol_from {
            errors.push(FieldError::new(
                "enrol_to",
                format!("{} is before enrol_from {}", self.enrol_to, self.enrol_from),
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// What a claim on a loan with `unpaid` principal pays: unpaid × coverage ÷ 10,000, rounded down
/// to the fen (public money never pays a fraction more), capped at `cap`.
pub fn claim_amount(unpaid: Money, coverage_bps: i32, cap: Money) -> Money {
    let share = i128::from(unpaid.fen()) * i128::from(coverage_bps) / 10_000;
    let share = i64::try_from(share).unwrap_or(i64::MAX);
    Money::from_fen(share.min(cap.fen())).unwrap_or(Money::ZERO)
}

/// The pool's share of principal recovered after its claim was paid: the share of the loss it
/// bore (what it paid ÷ the unpaid principal it paid on, so a capped claim returns less), rounded
/// down, and never more in all than the claim paid (`left` is what it has not yet had back).
pub fn recovery_share(recovered_principal: Money, paid: Money, paid_on: Money, left: Money) -> Money {
    if paid_on == Money::ZERO {
        return Money::ZERO;
    }
    let share = i128::from(recovered_principal.fen()) * i128::from(paid.fen()) / i128::from(paid_on.fen());
    let share = i64::try_from(share).unwrap_or(i64::MAX);
    Money::from_fen(share.min(left.fen())).unwrap_or(Money::ZERO)
}

/// The most a pool may hold, and one top-up add, in fen (¥10 trillion and ¥1 trillion).
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000;
pub const MAX_TOP_UP: i64 = 100_000_000_000_000;

/// Leverage (放大倍数): enrolled principal outstanding ÷ the pool's balance; `None` for an empty
/// pool.
pub fn leverage(enrolled_outstanding: Money, balance: Money) -> Option<f64> {
    (balance.fen() > 0).then(|| enrolled_outstanding.fen() as f64 / balance.fen() as f64)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskClaim {
    pub id: i64,
    pub pool_id: i64,
    pub loan_id: i64,
    pub park_id: i64,
    pub bank_id: i64,
    pub enterprise_id: i64,
    pub unpaid_principal: Money,
    pub amount: Money,
    pub returned: Money,
    pub status: ClaimStatus,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(y: i64) -> Money {
        Money::from_fen(y * 100).unwrap()
    }

    #[test]
    fn a_claim_pays_coverage_of_the_unpaid_principal_capped() {
        // Zhuhai's top tier: 90%, at most ¥3 m a loan.
        let cap = yuan(3_000_000);
        // ¥1,234,567.89 unpaid × 90% = ¥1,111,111.101 → ¥1,111,111.10 (down to the fen).
        assert_eq!(claim_amount(Money::from_fen(123_456_789).unwrap(), 9_000, cap).fen(), 111_111_110);
        // ¥5 m unpaid × 90% = ¥4.5 m → capped at ¥3 m.
        assert_eq!(claim_amount(yuan(5_000_000), 9_000, cap), cap);
        // 50% of ¥0.01 is nothing.
        assert_eq!(claim_amount(Money::from_fen(1).unwrap(), 5_000, cap), Money::ZERO);
    }

    #[test]
    fn recoveries_return_the_pool_s_share_never_more_than_it_paid() {
        // The pool paid ¥900,000 on ¥1 m unpaid (90%). ¥200,000 recovered → 90% = ¥180,000 back.
        let paid = yuan(900_000);
        assert_eq!(recovery_share(yuan(200_000), paid, yuan(1_000_000), paid), yuan(180_000));
        // A capped claim bore less: ¥3 m paid on ¥5 m unpaid is 60%, so ¥1 m recovered returns
        // ¥600,000, not 90%.
        assert_eq!(
            recovery_share(yuan(1_000_000), yuan(3_000_000), yuan(5_000_000), yuan(3_000_000)),
            yuan(600_000)
        );
        // With ¥100,000 left to return, a ¥500,000 recovery returns only that.
        assert_eq!(recovery_share(yuan(500_000), paid, yuan(1_000_000), yuan(100_000)), yuan(100_000));
        assert_eq!(leverage(yuan(10_000_000), yuan(1_000_000)), Some(10.0));
        assert_eq!(leverage(yuan(10), Money::ZERO), None);
    }

    #[test]
    fn terms_are_checked_whole() {
        let terms = PoolTerms {
            name: " ".into(),
            product_ids: vec![1, 1],
            coverage_bps: 12_000,
            per_loan_cap: Money::ZERO,
            enrol_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            enrol_to: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        };
        let fields: Vec<String> = terms.check().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "product_ids[1]", "coverage_bps", "per_loan_cap", "enrol_to"]);
    }
}
