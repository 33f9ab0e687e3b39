//! Hostile archives.
