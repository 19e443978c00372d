//! Digimentor: the GraphQL service of a university's digimentor network.
//!
//! See `README.md` for running it and `../shared/DESIGN.md` (in the project) for the domain.

// The merged GraphQL root of every feature is one deeply nested async type.
#![recursion_limit = "256"]

pub mod agenda;
pub mod announcements;
pub mod app;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod doctor;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod inbound;
pub mod inquiries;
pub mod meetings;
pub mod metrics;
pub mod network;
pub mod news;
pub mod notify;
pub mod partners;
pub mod plans;
pub mod projects;
pub mod questions;
pub mod scheduler;
pub mod schema;
pub mod state;
pub mod subscriptions;
pub mod telemetry;
pub mod tips;
pub mod topics;
pub mod trainings;
pub mod values;
