//! A licence's terms (validity, conditions, per-item quantity and value
//! limits) and the checks a shipment passes against them. Pure.

use serde::{Deserialize, Serialize};

use super::lifecycle::LicenseState;
use super::model::{invalid, list, License, Money, MAX_LIST, MAX_TEXT};
use crate::error::Error;

/// Days an approval is valid for when the decision names no end.
pub const DEFAULT_VALIDITY_DAYS: u32 = 730;
const DAY_MS: i64 = 86_400_000;

/// What an approval sets: when the licence is valid, under which conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub valid_from_unix_ms: i64,
    pub valid_until_unix_ms: i64,
    pub conditions: Vec<String>,
}

/// Terms as an officer gives them; None: from the decision time, for the
/// node's default validity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsDraft {
    pub valid_from_unix_ms: Option<i64>,
    pub valid_until_unix_ms: Option<i64>,
    pub conditions: Vec<String>,
}

impl TermsDraft {
    pub fn validate(&self) -> Result<(), Error> {
        list("conditions", &self.conditions, MAX_TEXT).map_err(Error::InvalidArgument)?;
        for (field, t) in [
            ("valid_from", self.valid_from_unix_ms),
            ("valid_until", self.valid_until_unix_ms),
        ] {
            if let Some(ms) = t {
                if ms <= 0 || ms > crate::fields::MAX_TIME_UNIX_MS {
                    return Err(invalid(format!(
                        "{field}: {ms} is not a time between 1970 and the year 9999"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The terms an approval at `now` sets.
    pub fn resolve(&self, now: i64, validity_days: u32) -> Result<Terms, Error> {
        let from = self.valid_from_unix_ms.unwrap_or(now);
        let until = match self.valid_until_unix_ms {
            Some(u) => u,
            None => from.saturating_add(i64::from(validity_days).saturating_mul(DAY_MS)),
        };
        if until <= from {
            return Err(invalid(format!(
                "valid_until: {until} is not after valid_from {from}"
            )));
        }
        if until <= now {
            return Err(invalid(
                "valid_until: a licence must be valid for some time after its approval",
            ));
        }
        Ok(Terms {
            valid_from_unix_ms: from,
            valid_until_unix_ms: until,
            conditions: self.conditions.clone(),
        })
    }
}

/// One item of a shipment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedItem {
    pub code: String,
    pub quantity: u64,
    pub value: Money,
}

/// A shipment recorded although it failed checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// The checks it failed, as their refusals read.
    pub failed: Vec<String>,
    pub rationale: String,
    /// The risk alert raised for it.
    pub alert_id: Option<String>,
}

/// Why a licence needs a person to look at it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFlag {
    pub at_unix_ms: i64,
    pub by: String,
    pub reason: String,
    /// The shipment that raised it.
    pub shipment: Option<String>,
}

/// Shipped so far and remaining of one licensed item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemBalance {
    pub code: String,
    pub licensed_quantity: u64,
    pub shipped_quantity: u64,
    pub licensed_value: Money,
    pub shipped_value: i64,
}

impl ItemBalance {
    pub fn remaining_quantity(&self) -> u64 {
        self.licensed_quantity.saturating_sub(self.shipped_quantity)
    }

    pub fn remaining_value(&self) -> i64 {
        self.licensed_value
            .minor_units
            .saturating_sub(self.shipped_value)
    }
}

pub fn validate_items(items: &[ShippedItem]) -> Result<(), Error> {
    if items.is_empty() {
        return Err(invalid(
            "items: a shipment names what it ships (code, quantity, value)",
        ));
    }
    if items.len() > MAX_LIST {
        return Err(invalid(format!("items: at most {MAX_LIST}")));
    }
    for (i, item) in items.iter().enumerate() {
        super::model::check_code(&format!("items[{i}].code"), &item.code)
            .map_err(Error::InvalidArgument)?;
        if item.quantity == 0 {
            return Err(invalid(format!("items[{i}].quantity: must be at least 1")));
        }
        if item.value.minor_units < 0 {
            return Err(invalid(format!("items[{i}].value: must not be negative")));
        }
        super::model::currency(&format!("items[{i}].currency"), &item.value.currency)
            .map_err(Error::InvalidArgument)?;
    }
    Ok(())
}

/// Each licensed item's balance after `shipped` (earlier shipments' items).
pub fn balances<'a>(
    license: &License,
    shipped: impl IntoIterator<Item = &'a ShippedItem>,
) -> Vec<ItemBalance> {
    let mut out: Vec<ItemBalance> = Vec::new();
    for i in &license.items {
        match out.iter_mut().find(|b| b.code == i.code) {
            // One code on two lines: their limits add up.
            Some(b) => {
                b.licensed_quantity = b.licensed_quantity.saturating_add(i.quantity);
                b.licensed_value.minor_units = b
                    .licensed_value
                    .minor_units
                    .saturating_add(i.value.minor_units);
            }
            None => out.push(ItemBalance {
                code: i.code.clone(),
                licensed_quantity: i.quantity,
                shipped_quantity: 0,
                licensed_value: i.value.clone(),
                shipped_value: 0,
            }),
        }
    }
    for s in shipped {
        if let Some(b) = out.iter_mut().find(|b| b.code == s.code) {
            b.shipped_quantity = b.shipped_quantity.saturating_add(s.quantity);
            b.shipped_value = b.shipped_value.saturating_add(s.value.minor_units);
        }
    }
    out
}

/// Every check a shipment of `items` to `destination` at `now` fails
/// against `license`, given the items already shipped under it.
pub fn shipment_problems(
    license: &License,
    destination: &str,
    items: &[ShippedItem],
    balances: &[ItemBalance],
    now: i64,
) -> Vec<String> {
    let mut out = Vec::new();
    match license.state_at(now) {
        LicenseState::Approved => {}
        LicenseState::Expired => out.push(format!(
            "licence {} expired at {}; nothing may be shipped under it",
            license.id,
            license
                .terms
                .as_ref()
                .map(|t| t.valid_until_unix_ms)
                .unwrap_or_default()
        )),
        state => out.push(format!(
            "licence {} is {state}; shipments are recorded only against an approved licence",
            license.id
        )),
    }
    if let Some(t) = &license.terms {
        if now < t.valid_from_unix_ms {
            out.push(format!(
                "licence {} is valid only from {}",
                license.id, t.valid_from_unix_ms
            ));
        }
    }
    if destination != license.destination {
        out.push(format!(
            "destination {destination} differs from licence {}'s destination {}",
            license.id, license.destination
        ));
    }
    // Cumulative within this shipment too: two lines of one code add up.
    let mut this: Vec<(String, u64, i64, String)> = Vec::new();
    for i in items {
        match this.iter_mut().find(|(c, ..)| *c == i.code) {
            Some(t) => {
                t.1 = t.1.saturating_add(i.quantity);
                t.2 = t.2.saturating_add(i.value.minor_units);
            }
            None => this.push((
                i.code.clone(),
                i.quantity,
                i.value.minor_units,
                i.value.currency.clone(),
            )),
        }
    }
    for (code, quantity, value, currency) in this {
        let Some(b) = balances.iter().find(|b| b.code == code) else {
            out.push(format!("item {code} is not on licence {}", license.id));
            continue;
        };
        if quantity > b.remaining_quantity() {
            out.push(format!(
                "item {code}: shipping {quantity} would exceed the licensed quantity {} \
                 ({} shipped, {} remaining)",
                b.licensed_quantity,
                b.shipped_quantity,
                b.remaining_quantity()
            ));
        }
        if currency != b.licensed_value.currency {
            out.push(format!(
                "item {code}: value in {currency}, licensed in {}",
                b.licensed_value.currency
            ));
        } else if value > b.remaining_value() {
            out.push(format!(
                "item {code}: shipping {value} {currency} would exceed the licensed value {} \
                 ({} shipped, {} remaining)",
                b.licensed_value.minor_units,
                b.shipped_value,
                b.remaining_value()
            ));
        }
    }
    out
}
