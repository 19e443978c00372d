//! Partner networks: other networks, local and national, that the network works with. They are
//! open to read; admins keep them. A meeting can be joint with one and a news post can come from
//! one.

pub mod loaders;
pub mod schema;
pub mod service;
