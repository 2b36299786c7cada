//! Chinese working days (工作日). "Within 5 working days" counts the State Council's calendar:
//! statutory holidays are off, and some weekends are working days (调休) that make up for bridged
//! holidays. Each year's calendar is data, `src/domain/calendar/<year>.json`, with its holidays
//! (as published, weekends included) and its make-up working days, taken from the State Council's
//! notice named in the file (and checked against the `chinese-calendar` package on PyPI).
//!
//! A year with no file yet (the notice comes out in November or December) counts Monday to
//! Friday: [`Calendar::is_published`] says which, and every reply that counts working days
//! says so.

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

/// The published years, embedded in the binary.
const YEARS: &[&str] = &[
    include_str!("calendar/2022.json"),
    include_str!("calendar/2023.json"),
    include_str!("calendar/2024.json"),
    include_str!("calendar/2025.json"),
    include_str!("calendar/2026.json"),
];

#[derive(Deserialize)]
struct YearFile {
    year: i32,
    #[allow(dead_code)]
    source: String,
    holidays: Vec<Holiday>,
    workdays: Vec<NaiveDate>,
}

#[derive(Deserialize)]
struct Holiday {
    #[allow(dead_code)]
    name: String,
    from: NaiveDate,
    to: NaiveDate,
}

/// The working-day calendar of every published year.
#[derive(Debug, Default)]
pub struct Calendar {
    years: BTreeSet<i32>,
    off: HashSet<NaiveDate>,
    on: HashSet<NaiveDate>,
}

/// Why a year's file cannot be read: a bug in the data, caught by the tests.
#[derive(Debug, thiserror::Error)]
#[error("the working-day calendar {0}")]
pub struct CalendarError(String);

impl Calendar {
    /// Reads year files; each must be well-formed, and its make-up days weekends that are not
    /// also holidays.
    pub fn from_files(files: &[&str]) -> Result<Calendar, CalendarError> {
        let mut calendar = Calendar::default();
        for text in files {
            let file: YearFile =
                serde_json::from_str(text).map_err(|e| CalendarError(format!("cannot be read: {e}")))?;
            if !calendar.years.insert(file.year) {
                return Err(CalendarError(format!("has {} twice", file.year)));
            }
            for holiday in &file.holidays {
                if holiday.to < holiday.from || (holiday.to - holiday.from).num_days() > 15 {
                    return Err(CalendarError(format!(
                        "{}: {} to {} is not a holiday",
                        file.year, holiday.from, holiday.to
                    )));
                }
                calendar.off.extend(holiday.from.iter_days().take_while(|d| *d <= holiday.to));
            }
            for day in &file.workdays {
                if !is_weekend(*day) || day.year() != file.year {
                    return Err(CalendarError(format!("{}: {day} is not a weekend of the year", file.year)));
                }
                calendar.on.insert(*day);
            }
        }
        if let Some(both) = calendar.on.intersection(&calendar.off).next() {
            return Err(CalendarError(format!("has {both} both off and on")));
        }
        Ok(calendar)
    }

    /// Whether the State Council's calendar of `year` is known here; otherwise Monday to Friday
    /// counts.
    pub fn is_published(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.off.contains(&day) {
            return false;
        }
        !is_weekend(day) || self.on.contains(&day)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i32 {
        let count =
            from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count();
        i32::try_from(count).unwrap_or(i32::MAX)
    }

    /// The `n`-th working day after `from` (`from` itself for n ≤ 0).
    pub fn add_working_days(&self, from: NaiveDate, n: i32) -> NaiveDate {
        let mut left = n.max(0);
        let mut day = from;
        while left > 0 {
            let Some(next) = day.succ_opt() else { break };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The calendar of the published years. The files are embedded and checked by the tests; were
/// one unreadable all the same, every year would count Monday to Friday, and say so.
pub fn china() -> &'static Calendar {
    static CALENDAR: LazyLock<Calendar> = LazyLock::new(|| Calendar::from_files(YEARS).unwrap_or_default());
    &CALENDAR
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn every_year_file_reads() {
        let calendar = Calendar::from_files(YEARS).unwrap();
        for year in 2022..=2026 {
            assert!(calendar.is_published(year), "{year}");
        }
        assert!(!calendar.is_published(2027));
    }

    #[test]
    fn holidays_are_off_and_make_up_weekends_are_on() {
        let c = china();
        // National Day 2022: 1–7 October off; Saturday 8 and Sunday 9 October worked.
        assert!(!c.is_working_day(date(2022, 10, 3)));
        assert!(c.is_working_day(date(2022, 10, 8)) && c.is_working_day(date(2022, 10, 9)));
        // Spring Festival 2026: 15–23 February off; Saturdays 14 and 28 February worked.
        assert!(!c.is_working_day(date(2026, 2, 16)) && !c.is_working_day(date(2026, 2, 23)));
        assert!(c.is_working_day(date(2026, 2, 14)) && c.is_working_day(date(2026, 2, 28)));
        // An ordinary week.
        assert!(c.is_working_day(date(2022, 5, 10)) && !c.is_working_day(date(2022, 5, 14)));
        // 2027 is not published yet: Monday to Friday.
        assert!(c.is_working_day(date(2027, 2, 8)) && !c.is_working_day(date(2027, 2, 6)));
    }

    #[test]
    fn five_working_days_across_national_day() {
        let c = china();
        // Submitted on Thursday 29 September 2022: Friday 30 September, then (after the holiday)
        // Saturday 8 and Sunday 9 October, Monday 10 and Tuesday 11 October.
        assert_eq!(c.add_working_days(date(2022, 9, 29), 5), date(2022, 10, 11));
        assert_eq!(c.working_days_between(date(2022, 9, 29), date(2022, 10, 11)), 5);
        assert_eq!(c.working_days_between(date(2022, 10, 11), date(2022, 9, 29)), 0);
    }

    #[test]
    fn counting_and_adding_agree() {
        let c = china();
        for start in date(2022, 1, 1).iter_days().step_by(3).take_while(|d| *d < date(2027, 3, 1)) {
            for n in [1, 3, 5, 10] {
                let due = c.add_working_days(start, n);
                assert_eq!(c.working_days_between(start, due), n, "{start} + {n}");
                assert!(c.is_working_day(due), "{start} + {n} = {due}");
            }
        }
    }

    #[test]
    fn bad_files_are_refused() {
        let weekday = r#"{"year": 2030, "source": "", "holidays": [], "workdays": ["2030-01-02"]}"#;
        assert!(Calendar::from_files(&[weekday]).is_err());
        let twice = r#"{"year": 2030, "source": "", "holidays": [], "workdays": []}"#;
        assert!(Calendar::from_files(&[twice, twice]).is_err());
        let backwards = r#"{"year": 2030, "source": "", "holidays": [{"name": "x", "from": "2030-01-03", "to": "2030-01-01"}], "workdays": []}"#;
        assert!(Calendar::from_files(&[backwards]).is_err());
    }
}
