//! The dashboard's charts, drawn on the server as SVG (plotters): alerts
//! and denials received or issued per week, and decision timeliness (days
//! from submission to first decision, median and 90th percentile) per week.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header;
use plotters::prelude::*;

use super::door::Person;
use super::error::PageError;
use super::Console;
use crate::clock::now_unix_ms;
use crate::exchange::RecordKind;
use crate::licensing::{LicenseAction, LicenseFilter};
use crate::policy::{self, ExchangeAction, LicensingAction};

/// Weeks a chart covers, the current one last.
pub const WEEKS: usize = 12;
const WEEK_MS: i64 = 7 * 86_400_000;

/// Which of the last `WEEKS` weeks `at` falls in (0 = oldest), if any.
fn week_index(now: i64, at: i64) -> Option<usize> {
    let ago = now.checked_sub(at)?.div_euclid(WEEK_MS);
    (0..WEEKS as i64)
        .contains(&ago)
        .then(|| WEEKS - 1 - ago as usize)
}

pub async fn weekly(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> Result<Response, PageError> {
    policy::authorize_exchange(&person.caller, ExchangeAction::Read)?;
    let now = now_unix_ms();
    let since = now - WEEKS as i64 * WEEK_MS;
    let mut series = Vec::new();
    for kind in [RecordKind::Alert, RecordKind::Denial] {
        let mut counts = [0u32; WEEKS];
        for (at, _) in console.exchange.issued_since(kind, since, usize::MAX)? {
            if let Some(i) = week_index(now, at) {
                counts[i] += 1;
            }
        }
        series.push((kind.as_str(), counts.map(f64::from).to_vec()));
    }
    svg(draw(
        "Alerts and denials per week (issued)",
        "records",
        &series,
    ))
}

pub async fn timeliness(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> Result<Response, PageError> {
    policy::authorize_licensing(&person.caller, LicensingAction::Read)?;
    let now = now_unix_ms();
    let mut days: Vec<Vec<f64>> = vec![Vec::new(); WEEKS];
    for l in console.licensing.licenses(&LicenseFilter::default())? {
        let decided = l.history.iter().find(|d| {
            matches!(
                d.action,
                LicenseAction::Approve | LicenseAction::Deny | LicenseAction::Return
            )
        });
        if let Some(d) = decided {
            if let Some(i) = week_index(now, d.at_unix_ms) {
                let took = (d.at_unix_ms - l.submitted_at_unix_ms).max(0) as f64 / 86_400_000.0;
                days[i].push(took);
            }
        }
    }
    let quantile = |q: f64| -> Vec<f64> {
        days.iter()
            .map(|d| {
                let mut d = d.clone();
                d.sort_by(f64::total_cmp);
                if d.is_empty() {
                    return 0.0;
                }
                let rank = (q * d.len() as f64).ceil() as usize;
                d[rank.clamp(1, d.len()) - 1]
            })
            .collect()
    };
    svg(draw(
        "Days from submission to decision, by week decided",
        "days",
        &[
            ("median", quantile(0.5)),
            ("90th percentile", quantile(0.9)),
        ],
    ))
}

fn svg(drawn: Result<String, String>) -> Result<Response, PageError> {
    let body =
        drawn.map_err(|e| PageError::from(crate::error::Error::Internal(format!("chart: {e}"))))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], body).into_response())
}

const COLOURS: [RGBColor; 3] = [
    RGBColor(20, 50, 79),
    RGBColor(164, 14, 38),
    RGBColor(17, 99, 41),
];

/// A line chart of `series` over the last `WEEKS` weeks.
pub fn draw(title: &str, y_label: &str, series: &[(&str, Vec<f64>)]) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0f64, f64::max)
            .max(1.0)
            * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0..(WEEKS as i32 - 1), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("weeks ago")
            .y_desc(y_label)
            .x_label_formatter(&|w| format!("{}", WEEKS as i32 - 1 - w))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (name, values)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(w, v)| (w as i32, *v)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_count_back_from_now() {
        let now = 100 * WEEK_MS;
        assert_eq!(week_index(now, now), Some(WEEKS - 1));
        assert_eq!(week_index(now, now - WEEK_MS), Some(WEEKS - 2));
        assert_eq!(week_index(now, now - WEEKS as i64 * WEEK_MS), None);
        assert_eq!(week_index(now, now + 1), None);
    }

    #[test]
    fn a_chart_is_an_svg_with_its_series_named() {
        let svg = draw(
            "t",
            "n",
            &[("alert", vec![1.0; WEEKS]), ("denial", vec![0.0; WEEKS])],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("alert") && svg.contains("denial"));
        assert!(!svg.contains("<script"));
    }
}
