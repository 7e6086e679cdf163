//! Screening: one name, or a batch of names (one per line, or the first
//! column of a CSV; uploaded as a file or pasted) with a results table and
//! a CSV download.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Extension;
use http::header;
use maud::{html, Markup};

use crate::policy::{self, ScreeningAction};
use crate::screening::{ScreenRequest, ScreenResult};
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::layout::{csrf, page, Section};
use crate::web::Console;

fn results(r: &ScreenResult) -> Markup {
    html! {
        @if r.matches.is_empty() { p.no-match { "No match for “" (r.query) "” at or above " (format!("{:.2}", r.threshold)) "." } } @else {
            table.matches { thead { tr { th { "Query" } th { "Listed name" } th { "Matched" } th { "List" } th { "Score" } th { "Why" } } }
            tbody { @for m in &r.matches {
                tr { td { (r.query) } td { (m.name) @if m.expired { " (expired)" } } td { (m.matched_name) } td { (m.list) " " (m.source_id) }
                     td { (format!("{:.2}", m.score)) } td { (m.explanation) } }
            } } }
        }
    }
}

fn forms(person: &Person, name: &str) -> Markup {
    html! {
        form.box method="get" action="/screen" {
            label for="name" { "Name to screen" } input #name type="text" name="name" value=(name) required;
            button #screen type="submit" { "Screen" }
        }
        // multipart: the batch may come as a file.
        form.box method="post" action="/screen" enctype="multipart/form-data" {
            (csrf(person))
            label for="file" { "Batch file: a text file of names, one per line, or a CSV (its first column is screened)" }
            input #file type="file" name="file" accept=".csv,.txt,text/csv,text/plain";
            label for="names" { "… or paste the names here" }
            textarea #names name="names" {}
            button #screen-batch type="submit" { "Screen the batch" }
            " " button #download-csv formaction="/screen/results.csv" type="submit" { "Download results as CSV" }
        }
    }
}

pub async fn screen(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    policy::authorize_screening(&person.caller, ScreeningAction::Query)?;
    let name = q.get("name").map_or("", |n| n.trim());
    let result = if name.is_empty() {
        None
    } else {
        Some(console.screening.query(&ScreenRequest {
            name: name.to_owned(),
            limit: 0,
            threshold: None,
            countries: Vec::new(),
            lists: Vec::new(),
        })?)
    };
    let body = html! {
        (forms(&person, name))
        @if let Some(r) = &result { h2 { "Results" } (results(r)) }
    };
    Ok(page(&person, Section::Screening, "Screening", body))
}

/// The names of a batch: one per line, or the first column of CSV rows.
fn names(text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(0).map(|n| n.trim().to_owned()))
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("name"))
        .collect()
}

fn run(
    console: &Console,
    person: &Person,
    form: &FormData,
) -> Result<Vec<ScreenResult>, PageError> {
    policy::authorize_screening(&person.caller, ScreeningAction::Query)?;
    let mut names = names(form.get("names"));
    for file in form.all("file") {
        names.extend(self::names(file));
    }
    if names.is_empty() {
        return Err(PageError::bad_request("the batch holds no names"));
    }
    let options = ScreenRequest {
        name: String::new(),
        limit: 0,
        threshold: None,
        countries: Vec::new(),
        lists: Vec::new(),
    };
    Ok(console.screening.query_batch(&names, &options)?)
}

pub async fn batch(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
) -> PageResult {
    let all = run(&console, &person, &form)?;
    let hits = all.iter().filter(|r| !r.matches.is_empty()).count();
    let body = html! {
        (forms(&person, ""))
        h2 { "Results" }
        p #batch-summary { (all.len()) " names screened, " (hits) " with matches." }
        @for r in &all { (results(r)) }
    };
    Ok(page(&person, Section::Screening, "Screening", body))
}

pub async fn batch_csv(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
) -> PageResult {
    let all = run(&console, &person, &form)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal =
        |e: csv::Error| PageError::from(crate::error::Error::Internal(format!("CSV: {e}")));
    w.write_record([
        "query",
        "listed_name",
        "matched_name",
        "list",
        "source_id",
        "score",
        "explanation",
    ])
    .map_err(internal)?;
    for r in &all {
        if r.matches.is_empty() {
            w.write_record([r.query.as_str(), "", "", "", "", "", "no match"])
                .map_err(internal)?;
        }
        for m in &r.matches {
            let score = format!("{:.3}", m.score);
            w.write_record([
                &r.query,
                &m.name,
                &m.matched_name,
                &m.list,
                &m.source_id,
                &score,
                &m.explanation,
            ])
            .map_err(internal)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| PageError::from(crate::error::Error::Internal(format!("CSV: {e}"))))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"screening-results.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_lines_or_a_csv_first_column() {
        assert_eq!(
            names("Ivan Petrov\n\n  Acme Ltd  \n"),
            ["Ivan Petrov", "Acme Ltd"]
        );
        assert_eq!(
            names("name,country\n\"Smith, John\",GB\nAcme,DE\n"),
            ["Smith, John", "Acme"]
        );
    }
}
