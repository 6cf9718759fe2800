//! Domain categorization for phonehome: maps a host name or an address to its owner,
//! category (vendor, third-party, local, unknown) and role, from `data/domains.toml`.
//!
//! This crate is laid down by the workspace issue and filled in by the categorization issue;
//! until then it exports nothing, so that nothing can depend on behaviour that does not exist.
