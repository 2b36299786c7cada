//! Loan servicing, as rules: repayment schedules exact to the fen, and the five-tier risk
//! classification's floor by days past due.
//!
//! **Rounding.** Every interest figure is computed in integers and rounded half-up to the fen,
//! once per installment. Principal is never rounded away: the installments' principal sums exactly
//! to the amount, the last installment taking whatever remains.
//!
//! **Rates.** RMB conventions: a daily rate of annual ÷ 360 for a broken period (a bullet loan's
//! whole term, the stub at the end of an interest-only loan), and a monthly rate of annual ÷ 12
//! for a whole month of an installment or interest-only loan.

use chrono::{DateTime, Months, NaiveDate, Utc};

use super::{Money, RateBps, events::Audience, text_enum};

text_enum!(
    /// How a loan is repaid.
    RepaymentMethod {
        Bullet => "bullet",
        MonthlyInterest => "monthly_interest",
        EqualInstallment => "equal_installment",
        EqualPrincipal => "equal_principal",
    }
);

text_enum!(
    /// The five tiers of the 2023 rules for risk classification of commercial banks' financial
    /// assets (商业银行金融资产风险分类办法), best first.
    Classification {
        Normal => "normal",
        SpecialMention => "special_mention",
        Substandard => "substandard",
        Doubtful => "doubtful",
        Loss => "loss",
    }
);

impl Classification {
    /// The best tier a loan this many days past due may have: overdue at all, special mention;
    /// more than 90 days, substandard; more than 270, doubtful; more than 360, loss.
    pub fn floor(days_past_due: u32) -> Classification {
        match days_past_due {
            0 => Classification::Normal,
            1..=90 => Classification::SpecialMention,
            91..=270 => Classification::Substandard,
            271..=360 => Classification::Doubtful,
            _ => Classification::Loss,
        }
    }

    /// Non-performing (不良): substandard, doubtful or loss.
    pub fn is_npl(self) -> bool {
        self >= Classification::Substandard
    }
}

/// One installment of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installment {
    /// 1 for the first.
    pub n: u32,
    pub due_date: NaiveDate,
    pub principal: Money,
    pub interest: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("a loan's amount must be more than zero")]
    NoAmount,
    #[error("the maturity date must be after the disbursement date")]
    MaturesTooSoon,
    #[error(
        "an {0} loan is repaid monthly, so it must mature a whole number of months after its disbursement ({1} or {2}, for instance)"
    )]
    NotWholeMonths(&'static str, NaiveDate, NaiveDate),
    #[error("the schedule's interest is larger than the largest amount this service can hold")]
    Overflow,
}

/// The longest loan, in months: ten years.
pub const MAX_MONTHS: u32 = 120;

/// `numerator / denominator`, rounded half-up; both non-negative.
fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    (numerator + denominator / 2) / denominator
}

fn money(fen: i128) -> Result<Money, ScheduleError> {
    i64::try_from(fen).ok().and_then(|fen| Money::from_fen(fen).ok()).ok_or(ScheduleError::Overflow)
}

/// Interest on `balance` for `days` at the daily rate (annual ÷ 360).
pub fn daily_interest(balance: Money, rate: RateBps, days: i64) -> Result<Money, ScheduleError> {
    money(round_half_up(
        i128::from(balance.fen()) * i128::from(rate.bps()) * i128::from(days.max(0)),
        10_000 * 360,
    ))
}

/// Interest on `balance` for one month at the monthly rate (annual ÷ 12).
pub fn monthly_interest(balance: Money, rate: RateBps) -> Result<Money, ScheduleError> {
    money(round_half_up(i128::from(balance.fen()) * i128::from(rate.bps()), 10_000 * 12))
}

/// `start` plus `months`, on the same day of the month or the month's last day.
fn plus_months(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    start.checked_add_months(Months::new(months))
}

/// The number of whole months from `start` to `end`, if `end` is exactly that many months on.
fn whole_months(start: NaiveDate, end: NaiveDate) -> Option<u32> {
    (1..=MAX_MONTHS).find(|&n| plus_months(start, n) == Some(end))
}

/// The schedule of a loan of `amount` at `rate`, disbursed on `disbursed_on` and maturing on
/// `maturity`:
/// - `bullet`: one installment at maturity, the whole principal and the interest for the days
///   between, at the daily rate;
/// - `monthly_interest`: interest every month on the disbursement's day of the month (or the
///   month's last day) at the monthly rate, the principal at maturity, and interest at the daily
///   rate for a last period shorter or longer than a month;
/// - `equal_installment` (等额本息): equal monthly payments `P·r(1+r)^n / ((1+r)^n − 1)` rounded to
///   the fen, each first paying the month's interest on the balance; the last payment clears the
///   balance;
/// - `equal_principal` (等额本金): the principal in equal monthly parts (the last taking the
///   remainder), with each month's interest on the balance.
///
/// The installment methods need a maturity a whole number of months after the disbursement.
pub fn schedule(
    amount: Money,
    rate: RateBps,
    disbursed_on: NaiveDate,
    maturity: NaiveDate,
    method: RepaymentMethod,
) -> Result<Vec<Installment>, ScheduleError> {
    if amount == Money::ZERO {
        return Err(ScheduleError::NoAmount);
    }
    if maturity <= disbursed_on {
        return Err(ScheduleError::MaturesTooSoon);
    }
    match method {
        RepaymentMethod::Bullet => Ok(vec![Installment {
            n: 1,
            due_date: maturity,
            principal: amount,
            interest: daily_interest(amount, rate, (maturity - disbursed_on).num_days())?,
        }]),
        RepaymentMethod::MonthlyInterest => interest_only(amount, rate, disbursed_on, maturity),
        RepaymentMethod::EqualInstallment | RepaymentMethod::EqualPrincipal => {
            let months = whole_months(disbursed_on, maturity).ok_or_else(|| {
                let near = |n: u32| plus_months(disbursed_on, n).unwrap_or(maturity);
                let before = (1..=MAX_MONTHS).rev().find(|&n| near(n) < maturity).unwrap_or(1);
                ScheduleError::NotWholeMonths(method.as_str(), near(before), near(before + 1))
            })?;
            if method == RepaymentMethod::EqualInstallment {
                equal_installments(amount, rate, disbursed_on, months)
            } else {
                equal_principal(amount, rate, disbursed_on, months)
            }
        }
    }
}

fn interest_only(
    amount: Money,
    rate: RateBps,
    disbursed_on: NaiveDate,
    maturity: NaiveDate,
) -> Result<Vec<Installment>, ScheduleError> {
    let mut installments = Vec::new();
    let mut start = disbursed_on;
    for n in 1..=MAX_MONTHS + 1 {
        let next = plus_months(disbursed_on, n).filter(|d| *d < maturity);
        let (due_date, interest) = match next {
            Some(due) => (due, monthly_interest(amount, rate)?),
            None if plus_months(disbursed_on, n) == Some(maturity) => {
                (maturity, monthly_interest(amount, rate)?)
            }
            None => (maturity, daily_interest(amount, rate, (maturity - start).num_days())?),
        };
        let last = due_date == maturity;
        installments.push(Installment {
            n,
            due_date,
            principal: if last { amount } else { Money::ZERO },
            interest,
        });
        if last {
            break;
        }
        start = due_date;
    }
    Ok(installments)
}

/// The equal monthly payment, rounded half-up to the fen (the closed form, in floating point;
/// an error of a fen at most, which the last installment absorbs).
fn level_payment(amount: Money, rate: RateBps, months: u32) -> i128 {
    let p = amount.fen() as f64;
    let n = f64::from(months);
    if rate.bps() == 0 {
        return round_half_up(i128::from(amount.fen()), i128::from(months));
    }
    let r = f64::from(rate.bps()) / 10_000.0 / 12.0;
    let growth = (1.0 + r).powf(n);
    (p * r * growth / (growth - 1.0)).round() as i128
}

fn equal_installments(
    amount: Money,
    rate: RateBps,
    disbursed_on: NaiveDate,
    months: u32,
) -> Result<Vec<Installment>, ScheduleError> {
    let payment = level_payment(amount, rate, months);
    let mut balance = i128::from(amount.fen());
    let mut installments = Vec::with_capacity(months as usize);
    for n in 1..=months {
        let interest = i128::from(monthly_interest(money(balance)?, rate)?.fen());
        let principal = if n == months { balance } else { (payment - interest).clamp(0, balance) };
        balance -= principal;
        installments.push(Installment {
            n,
            due_date: plus_months(disbursed_on, n).ok_or(ScheduleError::Overflow)?,
            principal: money(principal)?,
            interest: money(interest)?,
        });
    }
    Ok(installments)
}

fn equal_principal(
    amount: Money,
    rate: RateBps,
    disbursed_on: NaiveDate,
    months: u32,
) -> Result<Vec<Installment>, ScheduleError> {
    let part = i128::from(amount.fen()) / i128::from(months);
    let mut balance = i128::from(amount.fen());
    let mut installments = Vec::with_capacity(months as usize);
    for n in 1..=months {
        let interest = monthly_interest(money(balance)?, rate)?;
        let principal = if n == months { balance } else { part };
        balance -= principal;
        installments.push(Installment {
            n,
            due_date: plus_months(disbursed_on, n).ok_or(ScheduleError::Overflow)?,
            principal: money(principal)?,
            interest,
        });
    }
    Ok(installments)
}

/// An installment and what has been paid on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleLine {
    pub installment: Installment,
    pub paid_principal: Money,
    pub paid_interest: Money,
}

impl ScheduleLine {
    pub fn new(installment: Installment) -> Self {
        Self { installment, paid_principal: Money::ZERO, paid_interest: Money::ZERO }
    }

    fn unpaid_principal(&self) -> i64 {
        self.installment.principal.fen() - self.paid_principal.fen()
    }

    fn unpaid_interest(&self) -> i64 {
        self.installment.interest.fen() - self.paid_interest.fen()
    }

    fn settled(&self) -> bool {
        self.unpaid_principal() <= 0 && self.unpaid_interest() <= 0
    }
}

/// Where a loan stands on a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The principal not yet repaid.
    pub principal_outstanding: Money,
    /// The interest owed that day: what is unpaid of installments past their due date, and the
    /// current installment's interest accrued so far (按日计息: in proportion to the days of its
    /// period gone by, rounded half-up), less what was paid on it.
    pub interest_outstanding: Money,
    /// What is unpaid of installments past their due date.
    pub overdue_principal: Money,
    pub overdue_interest: Money,
    /// Days since the due date of the oldest installment still unpaid after it; 0 when none is.
    pub days_past_due: u32,
}

fn fen_sum(values: impl Iterator<Item = i64>) -> Money {
    Money::from_fen(values.map(|v| v.max(0)).sum()).unwrap_or(Money::ZERO)
}

/// The index of the current installment on `day`: the first not yet past its due date.
fn current_index(lines: &[ScheduleLine], day: NaiveDate) -> usize {
    lines.iter().position(|l| l.installment.due_date >= day).unwrap_or(lines.len())
}

/// The current installment's interest accrued by `day` and not yet paid: its interest in
/// proportion to the days of its period gone by (the period starts at the previous due date, or
/// at the disbursement), rounded half-up.
fn accrued_unpaid(lines: &[ScheduleLine], current: usize, disbursed_on: NaiveDate, day: NaiveDate) -> i64 {
    let Some(line) = lines.get(current) else { return 0 };
    let start =
        current.checked_sub(1).and_then(|k| lines.get(k)).map_or(disbursed_on, |l| l.installment.due_date);
    let period = (line.installment.due_date - start).num_days().max(1);
    let gone = (day - start).num_days().clamp(0, period);
    let accrued =
        round_half_up(i128::from(line.installment.interest.fen()) * i128::from(gone), i128::from(period));
    (i64::try_from(accrued).unwrap_or(i64::MAX) - line.paid_interest.fen()).max(0)
}

/// The due date of the oldest installment not yet settled, principal and interest; `None` once
/// every one is. Days past due count from it.
pub fn oldest_unsettled_due(lines: &[ScheduleLine]) -> Option<NaiveDate> {
    lines.iter().filter(|l| !l.settled()).map(|l| l.installment.due_date).min()
}

/// Where a loan disbursed on `disbursed_on`, with these lines, stands on `as_of`. An
/// installment is overdue from the day after its due date.
pub fn standing(lines: &[ScheduleLine], disbursed_on: NaiveDate, as_of: NaiveDate) -> Standing {
    let overdue = || lines.iter().filter(move |l| l.installment.due_date < as_of);
    let oldest = overdue().filter(|l| !l.settled()).map(|l| l.installment.due_date).min();
    let overdue_interest = fen_sum(overdue().map(ScheduleLine::unpaid_interest));
    let accrued = accrued_unpaid(lines, current_index(lines, as_of), disbursed_on, as_of);
    Standing {
        principal_outstanding: fen_sum(lines.iter().map(ScheduleLine::unpaid_principal)),
        interest_outstanding: Money::from_fen(overdue_interest.fen() + accrued).unwrap_or(overdue_interest),
        overdue_principal: fen_sum(overdue().map(ScheduleLine::unpaid_principal)),
        overdue_interest,
        days_past_due: oldest.map_or(0, |due| u32::try_from((as_of - due).num_days()).unwrap_or(u32::MAX)),
    }
}

/// What a repayment paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub interest_paid: Money,
    pub principal_paid: Money,
    /// The lines after the repayment.
    pub lines: Vec<ScheduleLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("{paid} is more than the {outstanding} it takes to settle the loan on that day")]
    ExceedsOutstanding { paid: Money, outstanding: Money },
    #[error("a repayment must be more than zero")]
    NoAmount,
}

/// Allocates a repayment made on `paid_on`: first overdue interest, then overdue principal
/// (oldest installment first, each), then the current installment's interest accrued so far,
/// then its principal. Anything more is a prepayment, and **shortens the term**: it repays the
/// last installments' principal first, and an installment whose principal is repaid in full
/// owes no interest any more. A repayment that settles the principal settles the loan: no
/// interest is owed for days to come. More than it takes to settle the loan that day is refused.
pub fn allocate(
    lines: &[ScheduleLine],
    disbursed_on: NaiveDate,
    paid_on: NaiveDate,
    amount: Money,
) -> Result<Allocation, AllocationError> {
    if amount == Money::ZERO {
        return Err(AllocationError::NoAmount);
    }
    let now = standing(lines, disbursed_on, paid_on);
    let settle = now.principal_outstanding.fen() + now.interest_outstanding.fen();
    if amount.fen() > settle {
        return Err(AllocationError::ExceedsOutstanding {
            paid: amount,
            outstanding: Money::from_fen(settle).unwrap_or(Money::ZERO),
        });
    }
    let current = current_index(lines, paid_on);
    let accrued = accrued_unpaid(lines, current, disbursed_on, paid_on);
    let mut lines = lines.to_vec();
    let mut left = amount.fen();
    let (mut interest, mut principal) = (0i64, 0i64);
    let interest_of = |line: &mut ScheduleLine, left: &mut i64, at_most: i64| {
        let take = line.unpaid_interest().min(at_most).clamp(0, *left);
        line.paid_interest = Money::from_fen(line.paid_interest.fen() + take).unwrap_or(line.paid_interest);
        *left -= take;
        take
    };
    let principal_of = |line: &mut ScheduleLine, left: &mut i64| {
        let take = line.unpaid_principal().clamp(0, *left);
        line.paid_principal =
            Money::from_fen(line.paid_principal.fen() + take).unwrap_or(line.paid_principal);
        *left -= take;
        take
    };
    for line in &mut lines[..current] {
        interest += interest_of(line, &mut left, i64::MAX);
    }
    for line in &mut lines[..current] {
        principal += principal_of(line, &mut left);
    }
    if let Some(line) = lines.get_mut(current) {
        interest += interest_of(line, &mut left, accrued);
        principal += principal_of(line, &mut left);
    }
    // A prepayment: the last installments' principal first.
    for line in lines.iter_mut().skip(current + 1).rev() {
        if left == 0 {
            break;
        }
        principal += principal_of(line, &mut left);
        if line.unpaid_principal() <= 0 {
            line.installment.interest = line.paid_interest;
        }
    }
    // Settled: nothing is owed for the days to come.
    if lines.iter().all(|l| l.unpaid_principal() <= 0) {
        for line in lines.iter_mut().skip(current) {
            line.installment.interest = line.paid_interest;
        }
    }
    Ok(Allocation {
        interest_paid: Money::from_fen(interest).unwrap_or(Money::ZERO),
        principal_paid: Money::from_fen(principal).unwrap_or(Money::ZERO),
        lines,
    })
}

/// A loan (借据): a disbursement, with its terms, its schedule and what has been repaid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loan {
    /// The disbursement's id.
    pub id: i64,
    pub credit_line_id: i64,
    pub enterprise_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub park_id: i64,
    pub amount: Money,
    pub rate: RateBps,
    pub disbursed_on: NaiveDate,
    pub maturity_date: NaiveDate,
    pub method: RepaymentMethod,
    /// The bank's own classification; the floor by days past due applies over it.
    pub bank_classification: Classification,
    pub principal_repaid: Money,
    pub interest_repaid: Money,
    pub last_paid_on: Option<NaiveDate>,
    /// 核销: the day the bank wrote the loan off.
    pub written_off_on: Option<NaiveDate>,
    pub lines: Vec<ScheduleLine>,
    pub created_at: DateTime<Utc>,
}

impl Loan {
    pub fn standing(&self, as_of: NaiveDate) -> Standing {
        standing(&self.lines, self.disbursed_on, as_of)
    }

    /// The worse of the bank's classification and the floor its days past due set.
    pub fn classification(&self, as_of: NaiveDate) -> Classification {
        self.bank_classification.max(Classification::floor(self.standing(as_of).days_past_due))
    }

    /// Who may read it: as its credit line, its park, its bank and its enterprise.
    pub fn audience(&self) -> Audience {
        Audience::loan(self.park_id, self.bank_id, self.enterprise_id)
    }

    /// Whether the loan as stored is the loan as it stood at the end of `day`: no repayment was
    /// recorded after it. Otherwise [`Loan::as_of`] replays its repayments.
    pub fn is_current_on(&self, day: NaiveDate) -> bool {
        self.last_paid_on.is_none_or(|last| last <= day)
    }

    /// The loan as it stood at the end of `day`: a write-off after it is not yet made, and, when
    /// repayments were recorded after it, the schedule as made is allocated again with the
    /// repayments paid by then, in the order they were recorded. Allocation is a function of the
    /// lines and the repayment alone, so replaying every repayment gives the stored lines again
    /// (a property test says so). The bank's classification is its classification now: no
    /// history of it is kept. `repayments` may hold other loans' and later ones; they are left
    /// out.
    pub fn as_of(&self, day: NaiveDate, repayments: &[Repayment]) -> Result<Loan, ReplayError> {
        let mut loan = self.clone();
        loan.written_off_on = self.written_off_on.filter(|on| *on <= day);
        if self.is_current_on(day) {
            return Ok(loan);
        }
        let made = schedule(self.amount, self.rate, self.disbursed_on, self.maturity_date, self.method)
            .map_err(|e| ReplayError { loan_id: self.id, why: e.to_string() })?;
        let mut paid: Vec<&Repayment> =
            repayments.iter().filter(|r| r.loan_id == self.id && r.paid_on <= day).collect();
        paid.sort_by_key(|r| r.id);
        loan.lines = made.into_iter().map(ScheduleLine::new).collect();
        let (mut principal, mut interest) = (Money::ZERO, Money::ZERO);
        loan.last_paid_on = None;
        for r in paid {
            let allocation = allocate(&loan.lines, self.disbursed_on, r.paid_on, r.amount)
                .map_err(|e| ReplayError { loan_id: self.id, why: format!("repayment {}: {e}", r.id) })?;
            loan.lines = allocation.lines;
            let overflow = |_| ReplayError { loan_id: self.id, why: "the repayments overflow".into() };
            principal = principal.checked_add(r.principal_paid).map_err(overflow)?;
            interest = interest.checked_add(r.interest_paid).map_err(overflow)?;
            loan.last_paid_on = Some(r.paid_on);
        }
        loan.principal_repaid = principal;
        loan.interest_repaid = interest;
        Ok(loan)
    }
}

/// A loan whose repayments cannot be allocated again: its rows disagree with each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("loan {loan_id} cannot be replayed: {why}")]
pub struct ReplayError {
    pub loan_id: i64,
    pub why: String,
}

/// A repayment recorded on a loan, and how it was allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repayment {
    pub id: i64,
    pub loan_id: i64,
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub reference: String,
    pub interest_paid: Money,
    pub principal_paid: Money,
    /// Paid after the loan was written off: a recovery, counted apart.
    pub recovery: bool,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fen(n: i64) -> Money {
        Money::from_fen(n).unwrap()
    }

    fn rate(bps: i64) -> RateBps {
        RateBps::new(bps).unwrap()
    }

    #[test]
    fn classification_floors_at_the_boundaries() {
        use Classification::*;
        for (days, floor) in [
            (0, Normal),
            (1, SpecialMention),
            (90, SpecialMention),
            (91, Substandard),
            (270, Substandard),
            (271, Doubtful),
            (360, Doubtful),
            (361, Loss),
        ] {
            assert_eq!(Classification::floor(days), floor, "{days} days past due");
        }
        assert!(!SpecialMention.is_npl() && Substandard.is_npl() && Loss.is_npl());
        assert!(Normal < SpecialMention && Doubtful < Loss);
    }

    #[test]
    fn a_bullet_loan_pays_its_days_at_the_daily_rate() {
        // ¥100,000 at 4.35% for 365 days: 100,000 × 4.35% × 365 / 360 = ¥4,410.416… → ¥4,410.42.
        let s =
            schedule(fen(10_000_000), rate(435), day(2022, 3, 1), day(2023, 3, 1), RepaymentMethod::Bullet)
                .unwrap();
        assert_eq!(
            s,
            [Installment {
                n: 1,
                due_date: day(2023, 3, 1),
                principal: fen(10_000_000),
                interest: fen(441_042)
            }]
        );
    }

    #[test]
    fn equal_installments_match_the_closed_form() {
        // ¥10,000 at 12% over 12 months: r = 1%, A = 10,000 × 0.01 × 1.01¹² / (1.01¹² − 1)
        // = ¥888.4878… → ¥888.49; the first month's interest is ¥100.00.
        let s = schedule(
            fen(1_000_000),
            rate(1_200),
            day(2022, 1, 15),
            day(2023, 1, 15),
            RepaymentMethod::EqualInstallment,
        )
        .unwrap();
        assert_eq!(s.len(), 12);
        assert_eq!((s[0].principal.fen(), s[0].interest.fen()), (78_849, 10_000));
        assert_eq!(s[0].due_date, day(2022, 2, 15));
        for i in &s[..11] {
            assert_eq!(i.principal.fen() + i.interest.fen(), 88_849, "{i:?}");
        }
        assert_eq!(s.iter().map(|i| i.principal.fen()).sum::<i64>(), 1_000_000);
        let last = &s[11];
        assert!((last.principal.fen() + last.interest.fen() - 88_849).abs() <= 2, "{last:?}");
    }

    #[test]
    fn equal_principal_pays_interest_on_the_balance() {
        // ¥12,000 at 6% over 12 months: ¥1,000 of principal a month; interest ¥60.00 on the
        // first month's ¥12,000, ¥5.00 on the last month's ¥1,000.
        let s = schedule(
            fen(1_200_000),
            rate(600),
            day(2022, 1, 31),
            day(2023, 1, 31),
            RepaymentMethod::EqualPrincipal,
        )
        .unwrap();
        assert!(s.iter().all(|i| i.principal == fen(100_000)));
        assert_eq!((s[0].interest.fen(), s[11].interest.fen()), (6_000, 500));
        // The 31st falls back to the month's last day.
        assert_eq!(s[0].due_date, day(2022, 2, 28));
        assert_eq!(s[1].due_date, day(2022, 3, 31));
    }

    #[test]
    fn interest_only_loans_pay_a_stub_at_the_daily_rate() {
        // ¥1,000,000 at 3.6% from 10 January to 25 April: three whole months at ¥3,000.00, then
        // 15 days at ¥100.00 a day.
        let s = schedule(
            fen(100_000_000),
            rate(360),
            day(2022, 1, 10),
            day(2022, 4, 25),
            RepaymentMethod::MonthlyInterest,
        )
        .unwrap();
        let rows: Vec<(NaiveDate, i64, i64)> =
            s.iter().map(|i| (i.due_date, i.principal.fen(), i.interest.fen())).collect();
        assert_eq!(
            rows,
            [
                (day(2022, 2, 10), 0, 300_000),
                (day(2022, 3, 10), 0, 300_000),
                (day(2022, 4, 10), 0, 300_000),
                (day(2022, 4, 25), 100_000_000, 150_000),
            ]
        );
    }

    #[test]
    fn installment_loans_need_whole_months() {
        let refused = schedule(
            fen(100),
            rate(100),
            day(2022, 1, 10),
            day(2022, 4, 25),
            RepaymentMethod::EqualPrincipal,
        );
        assert_eq!(
            refused,
            Err(ScheduleError::NotWholeMonths("equal_principal", day(2022, 4, 10), day(2022, 5, 10)))
        );
        assert_eq!(
            schedule(fen(100), rate(100), day(2022, 1, 10), day(2022, 1, 10), RepaymentMethod::Bullet),
            Err(ScheduleError::MaturesTooSoon)
        );
        assert_eq!(
            schedule(Money::ZERO, rate(100), day(2022, 1, 10), day(2022, 2, 10), RepaymentMethod::Bullet),
            Err(ScheduleError::NoAmount)
        );
    }

    const START: NaiveDate = match NaiveDate::from_ymd_opt(2022, 1, 15) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };

    fn lines(method: RepaymentMethod) -> Vec<ScheduleLine> {
        // ¥12,000 at 6% over 12 months from 15 January 2022.
        schedule(fen(1_200_000), rate(600), day(2022, 1, 15), day(2023, 1, 15), method)
            .unwrap()
            .into_iter()
            .map(ScheduleLine::new)
            .collect()
    }

    #[test]
    fn standing_counts_days_from_the_oldest_unpaid_due_date() {
        let l = lines(RepaymentMethod::EqualPrincipal);
        // Due 15 February; on the 15th it is due, not overdue; on the 16th, 1 day past due.
        assert_eq!(standing(&l, START, day(2022, 2, 15)).days_past_due, 0);
        let late = standing(&l, START, day(2022, 2, 16));
        assert_eq!(late.days_past_due, 1);
        assert_eq!((late.overdue_principal.fen(), late.overdue_interest.fen()), (100_000, 6_000));
        assert_eq!(late.principal_outstanding.fen(), 1_200_000);
        // Overdue interest, and March's interest for the 1 day of its 28 gone by: 5,500 / 28.
        assert_eq!(late.interest_outstanding.fen(), 6_000 + 196);
        // 91 days after 15 February is 17 May: substandard.
        assert_eq!(
            Classification::floor(standing(&l, START, day(2022, 5, 17)).days_past_due),
            Classification::Substandard
        );
    }

    #[test]
    fn repayments_go_to_overdue_interest_then_principal_then_current() {
        let l = lines(RepaymentMethod::EqualPrincipal);
        // Two installments overdue on 20 March: February's (100,000 + 6,000) and March's
        // (100,000 + 5,500); April's is current (100,000 + 5,000).
        let paid = allocate(&l, START, day(2022, 3, 20), fen(20_000)).unwrap();
        assert_eq!((paid.interest_paid.fen(), paid.principal_paid.fen()), (11_500, 8_500));
        assert_eq!(paid.lines[0].paid_principal.fen(), 8_500);
        assert_eq!(paid.lines[1].paid_principal.fen(), 0);
        let after = standing(&paid.lines, START, day(2022, 3, 20));
        assert_eq!(after.overdue_interest, Money::ZERO);
        assert_eq!(after.days_past_due, 33, "February's installment is still short");
        // Enough for both overdue installments and April's: the loan is current again.
        let paid = allocate(&l, START, day(2022, 3, 20), fen(106_000 + 105_500 + 105_000)).unwrap();
        assert_eq!(standing(&paid.lines, START, day(2022, 3, 20)).days_past_due, 0);
        assert_eq!(paid.lines[2].paid_principal.fen(), 100_000);
    }

    #[test]
    fn a_prepayment_shortens_the_term_and_overpaying_is_refused() {
        let l = lines(RepaymentMethod::EqualPrincipal);
        // On 1 February nothing is overdue; February's installment is current, 17 of its 31
        // days gone: 6,000 × 17 / 31 = 3,290 of interest accrued.
        let paid = allocate(&l, START, day(2022, 2, 1), fen(106_000 + 250_000)).unwrap();
        assert_eq!((paid.interest_paid.fen(), paid.lines[0].paid_principal.fen()), (3_290, 100_000));
        // The last two installments are repaid, and owe no interest; the tenth, in part.
        assert_eq!(paid.lines[11].paid_principal.fen(), 100_000);
        assert_eq!(paid.lines[11].installment.interest, Money::ZERO);
        assert_eq!(paid.lines[10].paid_principal.fen(), 100_000);
        assert_eq!(paid.lines[9].paid_principal.fen(), 52_710);
        assert_eq!(
            paid.lines[9].installment.interest.fen(),
            1_500,
            "a part-repaid installment keeps its interest"
        );
        // Settling: the principal and the interest accrued, and not a fen more; then nothing is
        // owed for the days to come.
        let settle = 1_200_000 + 3_290;
        let settled = allocate(&l, START, day(2022, 2, 1), fen(settle)).unwrap();
        let after = standing(&settled.lines, START, day(2022, 6, 1));
        assert_eq!(
            (after.principal_outstanding, after.interest_outstanding, after.days_past_due),
            (Money::ZERO, Money::ZERO, 0)
        );
        assert_eq!(
            allocate(&l, START, day(2022, 2, 1), fen(settle + 1)),
            Err(AllocationError::ExceedsOutstanding { paid: fen(settle + 1), outstanding: fen(settle) })
        );
        assert_eq!(allocate(&l, START, day(2022, 2, 1), Money::ZERO), Err(AllocationError::NoAmount));
    }

    fn any_method() -> impl Strategy<Value = RepaymentMethod> {
        prop_oneof![
            Just(RepaymentMethod::Bullet),
            Just(RepaymentMethod::MonthlyInterest),
            Just(RepaymentMethod::EqualInstallment),
            Just(RepaymentMethod::EqualPrincipal),
        ]
    }

    proptest! {
        #[test]
        fn principal_always_sums_to_the_amount(
            amount in 1i64..10_000_000_000,
            bps in 0i64..=2_400,
            months in 1u32..=120,
            method in any_method(),
        ) {
            let start = day(2022, 1, 31);
            let maturity = plus_months(start, months).unwrap();
            let s = schedule(fen(amount), rate(bps), start, maturity, method).unwrap();
            prop_assert_eq!(s.iter().map(|i| i.principal.fen()).sum::<i64>(), amount);
            prop_assert_eq!(s.last().unwrap().due_date, maturity);
            prop_assert!(s.windows(2).all(|w| w[0].due_date < w[1].due_date));
        }

        #[test]
        fn a_repayment_is_allocated_to_the_fen(
            amount in 1i64..2_000_000,
            days in 0i64..400,
            method in any_method(),
        ) {
            let l = lines(method);
            let paid_on = START + chrono::Duration::days(days);
            let before = standing(&l, START, paid_on);
            match allocate(&l, START, paid_on, fen(amount)) {
                Ok(paid) => {
                    prop_assert_eq!(paid.interest_paid.fen() + paid.principal_paid.fen(), amount);
                    let after = standing(&paid.lines, START, paid_on);
                    prop_assert_eq!(
                        after.principal_outstanding.fen(),
                        before.principal_outstanding.fen() - paid.principal_paid.fen()
                    );
                    prop_assert!(after.days_past_due <= before.days_past_due);
                }
                Err(AllocationError::ExceedsOutstanding { outstanding, .. }) => {
                    prop_assert!(amount > outstanding.fen());
                }
                Err(other) => prop_assert!(false, "{other}"),
            }
        }

        #[test]
        fn replaying_repayments_gives_the_loan_as_it_stood_on_any_day(
            payments in proptest::collection::vec((0i64..40, 1i64..400_000), 1..12),
            method in any_method(),
        ) {
            let made = lines(method);
            let maturity = made.last().unwrap().installment.due_date;
            let mut loan = Loan {
                id: 1, credit_line_id: 1, enterprise_id: 1, bank_id: 1, product_id: 1, park_id: 1,
                amount: fen(made.iter().map(|l| l.installment.principal.fen()).sum()),
                rate: rate(600), disbursed_on: START, maturity_date: maturity, method,
                bank_classification: Classification::Normal, principal_repaid: Money::ZERO,
                interest_repaid: Money::ZERO, last_paid_on: None, written_off_on: None,
                lines: made, created_at: chrono::DateTime::UNIX_EPOCH,
            };
            // Record the repayments one after another, as the use case does, keeping each day's loan.
            let mut recorded = Vec::new();
            let mut on = START;
            let mut snapshots = vec![(START - chrono::Duration::days(1), loan.clone())];
            for (n, (gap, amount)) in payments.into_iter().enumerate() {
                on += chrono::Duration::days(gap);
                let Ok(paid) = allocate(&loan.lines, START, on, fen(amount)) else { continue };
                recorded.push(Repayment {
                    id: n as i64, loan_id: 1, amount: fen(amount), paid_on: on, reference: String::new(),
                    interest_paid: paid.interest_paid, principal_paid: paid.principal_paid, recovery: false,
                    created_at: chrono::DateTime::UNIX_EPOCH,
                });
                loan.lines = paid.lines;
                loan.principal_repaid = loan.principal_repaid.checked_add(paid.principal_paid).unwrap();
                loan.interest_repaid = loan.interest_repaid.checked_add(paid.interest_paid).unwrap();
                loan.last_paid_on = Some(on);
                snapshots.retain(|(day, _)| *day != on);
                snapshots.push((on, loan.clone()));
            }
            for (day, then) in &snapshots {
                let replayed = loan.as_of(*day, &recorded).unwrap();
                prop_assert_eq!(&replayed, then, "as of {}", day);
            }
        }

        #[test]
        fn equal_installments_differ_by_a_fen_at_most_but_the_last(
            amount in 10_000i64..10_000_000_000,
            bps in 1i64..=2_400,
            months in 2u32..=120,
        ) {
            let start = day(2022, 3, 15);
            let maturity = plus_months(start, months).unwrap();
            let s = schedule(fen(amount), rate(bps), start, maturity, RepaymentMethod::EqualInstallment).unwrap();
            let payments: Vec<i64> = s[..s.len() - 1].iter().map(|i| i.principal.fen() + i.interest.fen()).collect();
            let (low, high) = (payments.iter().min().unwrap(), payments.iter().max().unwrap());
            prop_assert!(high - low <= 1, "{:?}", payments);
        }
    }
}
