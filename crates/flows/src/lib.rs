//! Flow aggregation for phonehome: bidirectional flows, TCP connection boundaries, the DNS name
//! table, name attribution and the mergeable `CaptureSummary`.
//!
//! This crate is laid down by the workspace issue and filled in by the flow-aggregation issue;
//! until then it exports nothing, so that nothing can depend on behaviour that does not exist.
