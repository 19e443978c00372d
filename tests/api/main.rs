//! Integration tests: every test spawns the real server on a random port with its own fresh
//! database (SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set) and talks to it over
//! real HTTP and WebSocket connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dovecot;
mod helpers;
mod proxy;
mod smtp;
mod sso;

mod accounts;
mod admin;
mod admin_pages;
mod agenda;
mod announcements;
mod architecture;
mod attacks;
mod auth;
mod authorization;
mod bad_input;
mod binary;
mod browser;
mod directory;
mod email;
mod events;
mod hardening;
mod imap;
mod inquiries;
mod meetings;
mod news;
mod pages;
mod partners;
mod plans;
mod privacy;
mod projects;
mod questions;
mod replies;
mod scale_out;
mod schema;
mod server;
mod staff_import;
mod subscriptions;
mod tips;
mod trainings;
mod visitors;
mod websocket;
