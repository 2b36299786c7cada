//! Calendar days as clients send them: `YYYY-MM-DD`, within the years this service deals in.
//!
//! Bounding every date keeps comparisons exact on both databases (SQLite compares dates as text,
//! which is only right for four-digit years) and keeps date arithmetic far from chrono's limits.

use chrono::NaiveDate;

/// The earliest day accepted anywhere (a founding date, a statistics window).
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// The latest day accepted anywhere (a credit line's expiry, a statistics window).
pub const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(2200, 12, 31) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// Parses `YYYY-MM-DD` exactly: four-digit year, no sign, no time, within [`EARLIEST`] and
/// [`LATEST`].
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let shaped = text.len() == 10
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(format!("{text:?} is not a date of the form YYYY-MM-DD"));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text} is not a day of the calendar"))?;
    if !(EARLIEST..=LATEST).contains(&day) {
        return Err(format!("{text} is outside the dates this service accepts, {EARLIEST} to {LATEST}"));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_days_within_bounds() {
        assert_eq!(parse("2022-05-17"), Ok(NaiveDate::from_ymd_opt(2022, 5, 17).unwrap()));
        assert!(parse("1900-01-01").is_ok());
        assert!(parse("2200-12-31").is_ok());
        for bad in [
            "+10000-01-01",
            "0000-01-01",
            "9999-12-31",
            "1899-12-31",
            "2201-01-01",
            "2022-02-30",
            "2022-5-17",
            "2022-05-17T00:00:00",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
