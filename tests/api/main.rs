//! Integration tests through real HTTP: one binary, one fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
#[path = "../common/server.rs"]
mod server;

mod auth;
mod credit;
mod demo;
mod directory;
mod events;
mod hardening;
mod loans;
mod matrix;
mod outage;
mod outside;
mod processes;
mod products;
mod prospects;
mod receiver;
mod recommendations;
mod risk_pools;
mod score_models;
mod scores;
mod service;
mod stats;
mod subsidies;
