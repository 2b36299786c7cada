//! Money in fen and interest rates in basis points: integers, never floats.

use std::fmt;

/// An amount of CNY in fen (1 yuan = 100 fen). Never negative.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(fen: i64) -> Result<Self, MoneyError> {
        Self::from_fen(fen)
    }
}

impl From<Money> for i64 {
    fn from(money: Money) -> i64 {
        money.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount cannot be negative, got {0} fen")]
    Negative(i64),
    #[error("the total is larger than the largest amount this service can hold")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_fen(fen: i64) -> Result<Self, MoneyError> {
        if fen < 0 { Err(MoneyError::Negative(fen)) } else { Ok(Self(fen)) }
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// Adds two amounts, refusing to wrap at `i64::MAX`.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_add(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    /// Subtracts, saturating at zero: what is left of `self` after `other`.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0).max(0))
    }
}

impl fmt::Display for Money {
    /// Yuan with two decimals and thousands separators, e.g. `¥66,485,000,000.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan = self.0 / 100;
        let fen = self.0 % 100;
        let digits = yuan.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "¥{grouped}.{fen:02}")
    }
}

/// An annual interest rate in basis points (4.5% = 450).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RateBps(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a rate is between 0 and {max} basis points, got {got}")]
pub struct RateError {
    pub got: i64,
    pub max: i32,
}

impl RateBps {
    /// The rate cap, for every rate the service takes: 24% a year, the ceiling above which Chinese
    /// courts have not protected interest on lending, far above any innovation-points loan.
    pub const MAX: i32 = 2_400;

    pub fn new(bps: i64) -> Result<Self, RateError> {
        match i32::try_from(bps) {
            Ok(v) if (0..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(RateError { got: bps, max: Self::MAX }),
        }
    }

    pub fn bps(self) -> i32 {
        self.0
    }
}

impl fmt::Display for RateBps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_refuses_negative_and_overflow() {
        assert_eq!(Money::from_fen(-1), Err(MoneyError::Negative(-1)));
        let max = Money::from_fen(i64::MAX).unwrap();
        assert_eq!(max.checked_add(Money::from_fen(1).unwrap()), Err(MoneyError::Overflow));
        assert_eq!(max.checked_add(Money::ZERO), Ok(max));
    }

    #[test]
    fn money_displays_as_yuan() {
        assert_eq!(Money::from_fen(6_648_500_000_000).unwrap().to_string(), "¥66,485,000,000.00");
        assert_eq!(Money::from_fen(5).unwrap().to_string(), "¥0.05");
        assert_eq!(Money::from_fen(123_456).unwrap().to_string(), "¥1,234.56");
    }

    #[test]
    fn rates() {
        assert_eq!(RateBps::new(450).unwrap().to_string(), "4.50%");
        assert!(RateBps::new(-1).is_err());
        assert!(RateBps::new(10_001).is_err());
        assert!(RateBps::new(i64::MAX).is_err());
    }
}
