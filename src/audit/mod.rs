//! The audit log: every administrator action, who took it, when, and the record it touched
//! before and after. Entries are written in the action's own transaction, so an action and
//! its entry commit or roll back together. Snapshots are the row as JSON with secrets (password
//! hashes, token hashes, email bodies) left out.

pub mod schema;
pub mod service;
