//! sea-orm entities, one file per table.

pub mod api_key;
pub mod audit_log;
pub mod bank;
pub mod enterprise;
pub mod park;
pub mod product;
pub mod product_park;
pub mod score;
