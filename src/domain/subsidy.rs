//! Interest subsidies (贴息): a park's programme returns a share of the interest its enterprises
//! actually repaid, as servicing recorded it, from a fixed budget. An enterprise (or its park
//! office for it) claims for a window; each repayment's interest in the window that no claim of
//! the programme has counted yet earns `share_bps`, plus `first_loan_bonus_bps` when it was repaid
//! on the enterprise's first loan (Suizhou pays first-time borrowers more). Each line is rounded
//! down to the fen, since public money never pays a fraction more, and the claim stops at what is
//! left of the enterprise's cap. Recoveries on written-off loans are not interest paid in the
//! ordinary course and do not count.

use chrono::{DateTime, NaiveDate, Utc};

use super::{FieldError, Money, product::Eligibility, risk_pool::ClaimStatus};

/// A share is at most 100%, the share and the bonus together too.
pub const MAX_SHARE_BPS: i32 = 10_000;
pub const MAX_NAME: usize = 128;
pub const MAX_REASON: usize = 500;
/// The most a programme's budget may be, in fen (¥10 trillion).
pub const MAX_BUDGET: i64 = 1_000_000_000_000_000;

/// A programme's terms, as the park office writes them.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramTerms {
    pub name: String,
    pub share_bps: i32,
    pub first_loan_bonus_bps: i32,
    pub per_enterprise_cap: Money,
    pub budget: Money,
    pub eligibility: Eligibility,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl ProgramTerms {
    /// Every broken rule, each at its field; the name comes back trimmed.
    pub fn check(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        match super::text::line_within("name", &self.name, MAX_NAME) {
            Ok(name) => self.name = name,
            Err(e) => errors.push(e),
        }
        if !(1..=MAX_SHARE_BPS).contains(&self.share_bps) {
            errors.push(FieldError::new("share_bps", "a share is 1 to 10000 basis points (0.01% to 100%)"));
        }
        if !(0..=MAX_SHARE_BPS).contains(&self.first_loan_bonus_bps) {
            errors.push(FieldError::new("first_loan_bonus_bps", "a bonus is 0 to 10000 basis points"));
        } else if i64::from(self.share_bps) + i64::from(self.first_loan_bonus_bps) > i64::from(MAX_SHARE_BPS)
        {
            errors.push(FieldError::new(
                "first_loan_bonus_bps",
                format!(
                    "share_bps {} and the bonus {} return more than the interest paid; together they are at most 10000",
                    self.share_bps, self.first_loan_bonus_bps
                ),
            ));
        }
        if self.budget == Money::ZERO || self.budget.fen() > MAX_BUDGET {
            errors.push(FieldError::new("budget", format!("a budget is 1 to {MAX_BUDGET} fen")));
        }
        // A cap above the budget is allowed: the budget binds first.
        if self.per_enterprise_cap == Money::ZERO {
            errors.push(FieldError::new("per_enterprise_cap", "a cap is at least 1 fen"));
        }
        if self.to < self.from {
            errors.push(FieldError::new("to", format!("{} is before from {}", self.to, self.from)));
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubsidyProgram {
    pub id: i64,
    pub park_id: i64,
    pub terms: ProgramTerms,
    /// Approved claims; never more than the budget.
    pub paid: Money,
    pub created_at: DateTime<Utc>,
}

impl SubsidyProgram {
    /// What the budget can still pay.
    pub fn remaining(&self) -> Money {
        self.terms.budget.saturating_sub(self.paid)
    }

    /// Whether `day` is in the programme's window.
    pub fn open_on(&self, day: NaiveDate) -> bool {
        (self.terms.from..=self.terms.to).contains(&day)
    }

    /// Checks a claim's window: inside the programme's, `from` not after `to`.
    pub fn check_window(&self, from: NaiveDate, to: NaiveDate) -> Result<(), Vec<FieldError>> {
        let (start, end) = (self.terms.from, self.terms.to);
        let mut errors = Vec::new();
        if !(start..=end).contains(&from) {
            errors.push(FieldError::new(
                "from",
                format!("{from} is outside the programme's window {start} to {end}"),
            ));
        }
        if !(start..=end).contains(&to) {
            errors.push(FieldError::new(
                "to",
                format!("{to} is outside the programme's window {start} to {end}"),
            ));
        }
        if to < from {
            errors.push(FieldError::new("to", format!("{to} is before from {from}")));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// One repayment's interest, not yet counted by the programme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repaid {
    pub repayment_id: i64,
    pub loan_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub paid_on: NaiveDate,
    pub interest: Money,
    /// Repaid on the enterprise's first loan.
    pub first_loan: bool,
}

/// A repayment counted by a claim, and what it adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub repaid: Repaid,
    pub amount: Money,
}

/// What a claim pays, line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subsidy {
    pub lines: Vec<Line>,
    /// The interest the lines count, and the part of it on the first loan.
    pub interest_basis: Money,
    pub bonus_basis: Money,
    pub amount: Money,
}

/// The subsidy on `repaid` (oldest first): each line's interest × (share + the bonus on the first
/// loan) ÷ 10,000, rounded down to the fen, until `cap_left` is reached; the line that reaches it
/// pays only what is left, and later lines are not counted (they stay free for a later claim,
/// should a rejection free the cap). Lines that would pay nothing are not counted either.
pub fn subsidy(repaid: &[Repaid], share_bps: i32, bonus_bps: i32, cap_left: Money) -> Subsidy {
    let mut out = Subsidy::default();
    let mut left = cap_left.fen();
    for r in repaid {
        if left == 0 {
            break;
        }
        let bps = share_bps + if r.first_loan { bonus_bps } else { 0 };
        let share = i128::from(r.interest.fen()) * i128::from(bps) / 10_000;
        let amount = i64::try_from(share).unwrap_or(i64::MAX).min(left);
        if amount <= 0 {
            continue;
        }
        left -= amount;
        let add = |total: Money, fen: i64| Money::from_fen(total.fen().saturating_add(fen)).unwrap_or(total);
        out.interest_basis = add(out.interest_basis, r.interest.fen());
        if r.first_loan {
            out.bonus_basis = add(out.bonus_basis, r.interest.fen());
        }
        out.amount = add(out.amount, amount);
        out.lines.push(Line { repaid: *r, amount: Money::from_fen(amount).unwrap_or(Money::ZERO) });
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsidyClaim {
    pub id: i64,
    pub program_id: i64,
    pub park_id: i64,
    pub enterprise_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interest_basis: Money,
    pub bonus_basis: Money,
    pub repayments: i32,
    pub amount: Money,
    pub status: ClaimStatus,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(f: i64) -> Money {
        Money::from_fen(f).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn repaid(id: i64, loan_id: i64, interest: i64, first_loan: bool) -> Repaid {
        Repaid {
            repayment_id: id,
            loan_id,
            bank_id: 1,
            product_id: 1,
            paid_on: day(id as u32),
            interest: fen(interest),
            first_loan,
        }
    }

    #[test]
    fn the_subsidy_by_hand() {
        // 30% of interest, 10 points more on the first loan (loan 1).
        let paid = [repaid(1, 1, 333_333, true), repaid(2, 1, 250_000, true), repaid(3, 2, 1_000_001, false)];
        let s = subsidy(&paid, 3_000, 1_000, fen(100_000_000));
        // ¥3,333.33 × 40% = ¥1,333.332 → ¥1,333.33;
        // ¥2,500.00 × 40% = ¥1,000.00;
        // ¥10,000.01 × 30% = ¥3,000.003 → ¥3,000.00.
        let amounts: Vec<i64> = s.lines.iter().map(|l| l.amount.fen()).collect();
        assert_eq!(amounts, [133_333, 100_000, 300_000]);
        assert_eq!(s.amount, fen(533_333));
        assert_eq!(s.interest_basis, fen(1_583_334));
        assert_eq!(s.bonus_basis, fen(583_333));
        // With ¥5,000 left of the cap, the third line pays ¥5,000 − ¥2,333.33 = ¥2,666.67.
        let capped = subsidy(&paid, 3_000, 1_000, fen(500_000));
        assert_eq!(capped.lines.last().unwrap().amount, fen(266_667));
        assert_eq!(capped.amount, fen(500_000));
        // With ¥2,000 left, the second line reaches the cap and the third is not counted.
        let capped = subsidy(&paid, 3_000, 1_000, fen(200_000));
        assert_eq!(capped.lines.len(), 2);
        assert_eq!((capped.lines[1].amount, capped.amount), (fen(66_667), fen(200_000)));
        // Nothing left of the cap counts nothing; 30% of 3 fen is nothing and is not counted.
        assert_eq!(subsidy(&paid, 3_000, 1_000, Money::ZERO), Subsidy::default());
        assert_eq!(subsidy(&[repaid(9, 2, 3, false)], 3_000, 0, fen(100)).lines.len(), 0);
    }

    #[test]
    fn terms_and_windows_are_checked_whole() {
        let terms = ProgramTerms {
            name: "\u{0}".into(),
            share_bps: 8_000,
            first_loan_bonus_bps: 3_000,
            per_enterprise_cap: fen(2_000),
            budget: fen(1_000),
            eligibility: Eligibility::default(),
            from: day(10),
            to: day(1),
        };
        let fields: Vec<String> = terms.check().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "first_loan_bonus_bps", "to"]);
        let program = SubsidyProgram {
            id: 1,
            park_id: 1,
            terms: ProgramTerms {
                name: " 贴息 ".into(),
                share_bps: 3_000,
                first_loan_bonus_bps: 0,
                per_enterprise_cap: fen(1_000),
                budget: fen(10_000),
                eligibility: Eligibility::default(),
                from: day(1),
                to: day(31),
            }
            .check()
            .unwrap(),
            paid: fen(4_000),
            created_at: Utc::now(),
        };
        assert_eq!(program.terms.name, "贴息");
        assert_eq!(program.remaining(), fen(6_000));
        assert!(program.check_window(day(1), day(31)).is_ok());
        let outside = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let fields: Vec<String> =
            program.check_window(day(5), outside).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["to"]);
        assert!(program.check_window(day(9), day(8)).is_err());
    }
}
