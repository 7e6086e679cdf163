//! Working days, as the consultation clocks count them (EU Regulation
//! 2021/821 gives consulted member states ten working days): the days of a
//! jurisdiction's week that are not its weekend, minus its holidays. Days
//! are UTC dates; a deadline is the end of its last working day (midnight
//! UTC after it), so an answer signed at any time on that day is in time.

use std::collections::BTreeSet;

use time::{Date, Month, OffsetDateTime, Time, Weekday};

pub use crate::exchange::consultation::MAX_WORKING_DAYS;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    weekend: Vec<Weekday>,
    holidays: BTreeSet<Date>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            weekend: vec![Weekday::Saturday, Weekday::Sunday],
            holidays: BTreeSet::new(),
        }
    }
}

/// The weekday of an English name (`saturday`, case-insensitive).
pub fn weekday(name: &str) -> Result<Weekday, String> {
    let all = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    all.into_iter()
        .find(|d| d.to_string().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| format!("{name:?} is not a weekday (monday … sunday)"))
}

/// A holiday file: one ISO date (`2026-12-25`) per line; `#` starts a
/// comment, blank lines are skipped. Errors name the line.
pub fn parse_holidays(text: &str) -> Result<BTreeSet<Date>, String> {
    let mut out = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        out.insert(parse_date(line).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    Ok(out)
}

fn parse_date(text: &str) -> Result<Date, String> {
    let bad = || format!("{text:?} is not a date like 2026-12-25");
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = d.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// A deadline as messages show it: `2026-12-22 00:00 UTC`.
pub fn time_text(unix_ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => unix_ms.to_string(),
    }
}

fn date_of(unix_ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .map(OffsetDateTime::date)
        .unwrap_or(Date::MIN)
}

fn midnight_ms(d: Date) -> i64 {
    d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp() * 1000
}

impl Calendar {
    pub fn new(weekend: Vec<Weekday>, holidays: BTreeSet<Date>) -> Calendar {
        Calendar { weekend, holidays }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        !self.weekend.contains(&d.weekday()) && !self.holidays.contains(&d)
    }

    /// The end of the `n`th working day after the day of `from_unix_ms`
    /// (the day a request is signed does not count). A week that is all
    /// weekend has no working days: the deadline is then `n` calendar days.
    pub fn deadline(&self, from_unix_ms: i64, n: u32) -> i64 {
        let n = n.min(MAX_WORKING_DAYS);
        let mut day = date_of(from_unix_ms);
        let mut counted = 0;
        let mut steps = 0u32;
        while counted < n {
            let Some(next) = day.next_day() else { break };
            day = next;
            steps += 1;
            // Far more steps than any week with a working day needs: a
            // calendar without one counts calendar days instead.
            if self.is_working_day(day) || steps > n.saturating_mul(8) + 366 {
                counted += 1;
            }
        }
        day.next_day().map_or(i64::MAX, midnight_ms)
    }

    /// Whole working days from `now` until `deadline` (the current day counts
    /// if it is one); 0 once it has passed.
    pub fn working_days_left(&self, now_unix_ms: i64, deadline_unix_ms: i64) -> u32 {
        if now_unix_ms >= deadline_unix_ms {
            return 0;
        }
        let mut day = date_of(now_unix_ms);
        let mut left = 0;
        while midnight_ms(day) < deadline_unix_ms && left <= MAX_WORKING_DAYS * 2 {
            if self.is_working_day(day) {
                left += 1;
            }
            match day.next_day() {
                Some(d) => day = d,
                None => break,
            }
        }
        left
    }
}

/// The consultation clocks, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultClocks {
    pub answer_within_working_days: u32,
    pub max_working_days: u32,
    pub calendar: Calendar,
    /// Silence past the deadline releases the gate as a no-objection.
    pub silence_is_no_objection: bool,
}

impl Default for ConsultClocks {
    fn default() -> Self {
        ConsultClocks {
            answer_within_working_days: 10,
            max_working_days: 30,
            calendar: Default::default(),
            silence_is_no_objection: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(date: &str, hh: u8) -> i64 {
        midnight_ms(parse_date(date).unwrap()) + i64::from(hh) * 3_600_000
    }

    #[test]
    fn deadlines_count_working_days_over_weekends_and_holidays() {
        let holidays =
            parse_holidays("# national\n2026-12-08\n\n2026-12-25 # Christmas\n").unwrap();
        let de = Calendar::new(vec![Weekday::Saturday, Weekday::Sunday], holidays);
        // Friday/Saturday weekend, no holidays.
        let ae = Calendar::new(vec![Weekday::Friday, Weekday::Saturday], BTreeSet::new());
        // (calendar, asked at, working days, deadline: the midnight after its last day)
        let table: [(&Calendar, i64, u32, i64); 8] = [
            // Fri 4 Dec, 10 days: Mon 7, (Tue 8 holiday), Wed 9 … Mon 21 → end of Mon 21.
            (&de, ms("2026-12-04", 16), 10, ms("2026-12-22", 0)),
            // Same without the holiday: ends Fri 18.
            (
                &Calendar::default(),
                ms("2026-12-04", 16),
                10,
                ms("2026-12-19", 0),
            ),
            // Asked on a Saturday: counting starts Monday.
            (
                &Calendar::default(),
                ms("2026-12-05", 9),
                1,
                ms("2026-12-08", 0),
            ),
            // Across Christmas: Mon 21 … Thu 24, (Fri 25), Mon 28 → 5th is Mon 28.
            (&de, ms("2026-12-18", 10), 5, ms("2026-12-29", 0)),
            // A Friday/Saturday weekend: asked Thursday, next working day Sunday.
            (&ae, ms("2026-12-03", 10), 1, ms("2026-12-07", 0)),
            (&ae, ms("2026-12-03", 10), 5, ms("2026-12-11", 0)),
            // Zero days: the end of the day it was asked.
            (&de, ms("2026-12-04", 16), 0, ms("2026-12-05", 0)),
            // 30 working days (the usual maximum) from Fri 4 Dec over both holidays.
            (&de, ms("2026-12-04", 16), 30, ms("2027-01-20", 0)),
        ];
        for (i, (cal, at, n, want)) in table.iter().enumerate() {
            assert_eq!(cal.deadline(*at, *n), *want, "row {i}");
        }
        let deadline = de.deadline(ms("2026-12-04", 16), 10);
        // The day it was asked still counts while it lasts.
        assert_eq!(de.working_days_left(ms("2026-12-04", 17), deadline), 11);
        assert_eq!(de.working_days_left(ms("2026-12-05", 17), deadline), 10);
        assert_eq!(de.working_days_left(ms("2026-12-21", 23), deadline), 1);
        assert_eq!(de.working_days_left(deadline, deadline), 0);
        // A week of weekend still gives a deadline.
        let never = Calendar::new(
            (0..7)
                .map(|_| Weekday::Monday)
                .chain([
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                    Weekday::Saturday,
                    Weekday::Sunday,
                ])
                .collect(),
            BTreeSet::new(),
        );
        assert!(never.deadline(ms("2026-12-04", 0), 3) > ms("2026-12-04", 0));
    }

    #[test]
    fn holiday_files_and_weekdays_are_checked() {
        assert!(parse_holidays("2026-02-30\n")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse_holidays("ok\n").unwrap_err().contains("not a date"));
        assert_eq!(weekday("Saturday").unwrap(), Weekday::Saturday);
        assert!(weekday("caturday").is_err());
    }
}
