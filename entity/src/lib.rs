//! sea-orm entities, one file per table.

pub mod api_key;
pub mod application;
pub mod audit_log;
pub mod bank;
pub mod credit_line;
pub mod daily_run;
pub mod disbursement;
pub mod enterprise;
pub mod event;
pub mod idempotency_key;
pub mod loan;
pub mod loan_installment;
pub mod park;
pub mod product;
pub mod product_park;
pub mod recommendation_entry;
pub mod recommendation_list;
pub mod recommendation_list_bank;
pub mod recommendation_task;
pub mod repayment;
pub mod score;
pub mod score_model;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
