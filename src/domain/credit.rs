//! Applications, approvals and credit lines: their states and their rules.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    FieldError, Money, RateBps, Score,
    events::{Audience, EventType},
    product::Terms,
    text_enum,
};

text_enum!(
    /// `submitted → under_review → approved | rejected`, and `submitted | under_review → withdrawn`.
    ApplicationStatus {
        Submitted => "submitted",
        UnderReview => "under_review",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

text_enum!(
    /// What a bank or an enterprise does to an application.
    ApplicationAction { Review => "review", Approve => "approve", Reject => "reject", Withdraw => "withdraw" }
);

text_enum!(
    /// `active`, `expired` once past `expires_on`, or `closed`.
    CreditLineStatus { Active => "active", Expired => "expired", Closed => "closed" }
);

impl ApplicationStatus {
    /// The status after `action`, or `None` when the action is not allowed from here.
    pub fn after(self, action: ApplicationAction) -> Option<ApplicationStatus> {
        use ApplicationStatus::*;
        match (self, action) {
            (Submitted, ApplicationAction::Review) => Some(UnderReview),
            (Submitted | UnderReview, ApplicationAction::Approve) => Some(Approved),
            (Submitted | UnderReview, ApplicationAction::Reject) => Some(Rejected),
            (Submitted | UnderReview, ApplicationAction::Withdraw) => Some(Withdrawn),
            _ => None,
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, ApplicationStatus::Submitted | ApplicationStatus::UnderReview)
    }
}

impl CreditLineStatus {
    /// What a stored status means today: an active line past its expiry is expired.
    pub fn on(self, expires_on: NaiveDate, today: NaiveDate) -> CreditLineStatus {
        match self {
            CreditLineStatus::Active if expires_on < today => CreditLineStatus::Expired,
            status => status,
        }
    }
}

/// An enterprise's application for a product, with the terms it was judged on.
#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    pub id: i64,
    pub enterprise_id: i64,
    pub product_id: i64,
    pub bank_id: i64,
    pub park_id: i64,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: String,
    pub status: ApplicationStatus,
    pub terms: JudgedTerms,
    /// The score it was judged on, and its period.
    pub score: Option<(String, Score)>,
    /// What the enterprise could borrow when it applied.
    pub offer_max_amount: Money,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

/// A credit line (授信) granted by approving an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditLine {
    pub id: i64,
    pub application_id: i64,
    pub enterprise_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub park_id: i64,
    pub amount: Money,
    pub disbursed_total: Money,
    pub rate: RateBps,
    pub term_months: i32,
    pub granted_at: DateTime<Utc>,
    pub expires_on: NaiveDate,
    /// As stored: `active` or `closed`. [`CreditLine::status_on`] says whether it has expired.
    pub status: CreditLineStatus,
    pub approval_days: i32,
    pub approval_working_days: i32,
    pub sla_breached: bool,
    /// Repaid principal may be drawn again (循环授信).
    pub revolving: bool,
    /// Drawn less principal repaid.
    pub principal_outstanding: Money,
}

impl ApplicationAction {
    /// The event an action raises.
    pub fn event(self) -> EventType {
        match self {
            ApplicationAction::Review => EventType::ApplicationUnderReview,
            ApplicationAction::Approve => EventType::ApplicationApproved,
            ApplicationAction::Reject => EventType::ApplicationRejected,
            ApplicationAction::Withdraw => EventType::ApplicationWithdrawn,
        }
    }
}

impl Application {
    /// Who may read it: its enterprise, the bank of its product, and its park.
    pub fn audience(&self) -> Audience {
        Audience::loan(self.park_id, self.bank_id, self.enterprise_id)
    }
}

impl CreditLine {
    /// Who may read it, and its disbursements: as its application.
    pub fn audience(&self) -> Audience {
        Audience::loan(self.park_id, self.bank_id, self.enterprise_id)
    }

    /// What is still drawable: the amount less what was drawn, or, on a revolving line, less
    /// what is still outstanding.
    pub fn available(&self) -> Money {
        let used = if self.revolving { self.principal_outstanding } else { self.disbursed_total };
        self.amount.saturating_sub(used)
    }

    pub fn status_on(&self, today: NaiveDate) -> CreditLineStatus {
        self.status.on(self.expires_on, today)
    }
}

/// A disbursement (放款) drawn on a credit line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disbursement {
    pub id: i64,
    pub credit_line_id: i64,
    pub amount: Money,
    pub reference: String,
    pub disbursed_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// The terms an application was judged on, kept with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgedTerms {
    pub min_amount: Money,
    pub max_amount: Money,
    pub rate_bps_min: i32,
    pub rate_bps_max: i32,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub approval_sla_days: i32,
    /// The line it grants is revolving. Absent from applications made before revolving lines.
    #[serde(default)]
    pub revolving: bool,
}

impl From<&Terms> for JudgedTerms {
    fn from(t: &Terms) -> Self {
        Self {
            min_amount: t.min_amount,
            max_amount: t.max_amount,
            rate_bps_min: t.rate_bps_min.bps(),
            rate_bps_max: t.rate_bps_max.bps(),
            term_months_min: t.term_months_min,
            term_months_max: t.term_months_max,
            approval_sla_days: t.approval_sla_days,
            revolving: t.revolving,
        }
    }
}

impl JudgedTerms {
    /// Problems with a requested amount and term.
    pub fn request_problems(&self, amount: Money, offer: Money, term_months: i32) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if amount < self.min_amount {
            problems.push(FieldError::new(
                "amount",
                format!("{amount} is below the product's minimum {}", self.min_amount),
            ));
        }
        if amount > offer {
            problems.push(FieldError::new(
                "amount",
                format!("{amount} is above what the enterprise may borrow, {offer}"),
            ));
        }
        if !(self.term_months_min..=self.term_months_max).contains(&term_months) {
            problems.push(FieldError::new(
                "term_months",
                format!(
                    "{term_months} months is outside the product's {} to {} months",
                    self.term_months_min, self.term_months_max
                ),
            ));
        }
        problems
    }

    /// Problems with an approval's terms.
    pub fn approval_problems(&self, offer: Money, approval: &Approval, today: NaiveDate) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if approval.amount < self.min_amount {
            problems.push(FieldError::new(
                "amount",
                format!("{} is below the product's minimum {}", approval.amount, self.min_amount),
            ));
        }
        if approval.amount > offer {
            problems.push(FieldError::new(
                "amount",
                format!("{} is above the enterprise's offer {offer}", approval.amount),
            ));
        }
        let rate = approval.rate.bps();
        if !(self.rate_bps_min..=self.rate_bps_max).contains(&rate) {
            problems.push(FieldError::new(
                "rate_bps",
                format!(
                    "{rate} bps is outside the product's {} to {} bps",
                    self.rate_bps_min, self.rate_bps_max
                ),
            ));
        }
        if !(self.term_months_min..=self.term_months_max).contains(&approval.term_months) {
            problems.push(FieldError::new(
                "term_months",
                format!(
                    "{} months is outside the product's {} to {} months",
                    approval.term_months, self.term_months_min, self.term_months_max
                ),
            ));
        }
        if approval.expires_on <= today {
            problems
                .push(FieldError::new("expires_on", format!("{} is not in the future", approval.expires_on)));
        }
        problems
    }
}

/// What a bank grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approval {
    pub amount: Money,
    pub rate: RateBps,
    pub term_months: i32,
    pub expires_on: NaiveDate,
}

/// How long an approval took: calendar days, and Chinese working days ([`super::calendar`]) after
/// the day of submission up to and including the day of decision.
pub fn approval_time(submitted: NaiveDate, decided: NaiveDate) -> (i32, i32) {
    let calendar = (decided - submitted).num_days().max(0);
    let working = super::calendar::china().working_days_between(submitted, decided);
    (i32::try_from(calendar).unwrap_or(i32::MAX), working)
}

/// The last day a decision keeps within an SLA of `sla_days` working days, counted as
/// [`approval_time`] counts them: the `sla_days`-th Chinese working day after submission.
pub fn sla_due_on(submitted: NaiveDate, sla_days: i32) -> NaiveDate {
    super::calendar::china().add_working_days(submitted, sla_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sla_falls_due_on_its_last_working_day() {
        // Submitted on Tuesday 10 May 2022: five working days run to Tuesday 17 May.
        assert_eq!(sla_due_on(date(2022, 5, 10), 5), date(2022, 5, 17));
        // Submitted on Friday 29 April 2022: 30 April to 4 May is the Labour Day holiday, and
        // Saturday 7 May a make-up working day: 5, 6, 7, 9 and 10 May.
        assert_eq!(sla_due_on(date(2022, 4, 29), 5), date(2022, 5, 10));
        // Submitted on a Friday: one working day is the Monday after.
        assert_eq!(sla_due_on(date(2022, 5, 13), 1), date(2022, 5, 16));
        for submitted in (1..=14).map(|d| date(2022, 5, d)) {
            for sla in 1..=12 {
                let due = sla_due_on(submitted, sla);
                assert_eq!(approval_time(submitted, due).1, sla, "{submitted} + {sla}");
                let next = due + chrono::Days::new(1);
                let more = i32::from(crate::domain::calendar::china().is_working_day(next));
                assert_eq!(approval_time(submitted, next).1, sla + more, "{submitted} + {sla}");
            }
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn application_transitions() {
        use ApplicationAction::*;
        use ApplicationStatus::*;
        assert_eq!(Submitted.after(Review), Some(UnderReview));
        assert_eq!(UnderReview.after(Review), None);
        assert_eq!(Submitted.after(Approve), Some(Approved));
        assert_eq!(UnderReview.after(Reject), Some(Rejected));
        assert_eq!(UnderReview.after(Withdraw), Some(Withdrawn));
        for closed in [Approved, Rejected, Withdrawn] {
            for action in [Review, Approve, Reject, Withdraw] {
                assert_eq!(closed.after(action), None, "{closed} {action}");
            }
        }
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2022-05-09 is a Monday.
        assert_eq!(approval_time(date(2022, 5, 9), date(2022, 5, 9)), (0, 0));
        assert_eq!(approval_time(date(2022, 5, 9), date(2022, 5, 13)), (4, 4));
        assert_eq!(approval_time(date(2022, 5, 13), date(2022, 5, 16)), (3, 1), "Friday to Monday");
        assert_eq!(approval_time(date(2022, 5, 9), date(2022, 5, 23)), (14, 10));
        assert_eq!(approval_time(date(2022, 5, 14), date(2022, 5, 15)), (1, 0), "a weekend only");
    }

    #[test]
    fn lines_expire_after_their_date() {
        let expires = date(2023, 5, 17);
        assert_eq!(CreditLineStatus::Active.on(expires, date(2023, 5, 17)), CreditLineStatus::Active);
        assert_eq!(CreditLineStatus::Active.on(expires, date(2023, 5, 18)), CreditLineStatus::Expired);
        assert_eq!(CreditLineStatus::Closed.on(expires, date(2020, 1, 1)), CreditLineStatus::Closed);
    }

    #[test]
    fn approval_bounds() {
        let terms = JudgedTerms {
            min_amount: Money::from_fen(100).unwrap(),
            max_amount: Money::from_fen(10_000).unwrap(),
            rate_bps_min: 300,
            rate_bps_max: 450,
            term_months_min: 6,
            term_months_max: 36,
            approval_sla_days: 5,
            revolving: false,
        };
        let today = date(2022, 5, 17);
        let good = Approval {
            amount: Money::from_fen(5_000).unwrap(),
            rate: RateBps::new(450).unwrap(),
            term_months: 12,
            expires_on: date(2023, 5, 17),
        };
        let offer = Money::from_fen(5_000).unwrap();
        assert!(terms.approval_problems(offer, &good, today).is_empty());
        let bad = Approval {
            amount: Money::from_fen(5_001).unwrap(),
            rate: RateBps::new(451).unwrap(),
            term_months: 37,
            expires_on: today,
        };
        let fields: Vec<String> =
            terms.approval_problems(offer, &bad, today).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["amount", "rate_bps", "term_months", "expires_on"]);
    }
}
