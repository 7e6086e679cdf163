//! The gRPC services, inbound only (calls to peers are `federation`'s).
//! Requests are converted to domain types by hand here, and domain errors
//! become statuses in exactly one place (`errors`).

mod admin;
mod auth;
mod consult;
mod consult_convert;
pub mod convert;
mod errors;
mod exchange;
mod exchange_convert;
mod federation;
mod licensing;
mod licensing_convert;
pub mod malformed;
mod paging;
mod risk;
mod screening;
pub mod screening_convert;
mod taskforce;
mod taskforce_convert;
pub mod timing;

pub use admin::AdminApi;
pub use auth::{rate_limit, Guard, RateLimit};
pub use consult::ConsultApi;
pub use exchange::ExchangeApi;
pub use federation::FederationApi;
pub use licensing::LicensingApi;
pub use risk::RiskApi;
pub use screening::ScreeningApi;
pub use taskforce::{query_limit, QueryLimit, TaskForceApi, TaskForcePeerApi};
