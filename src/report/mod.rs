//! What an operator reads of an invocation: a WARN line for every record the answer names, with
//! its code and reason ([`warn`]), one summary line ([`summary`]) and the EMF metrics made of
//! the same figures ([`metrics`]). They name records and count codes; none ever holds a payload.

pub mod metrics;
pub mod summary;
pub mod warn;

pub use summary::Summary;
pub use warn::log_reported;
