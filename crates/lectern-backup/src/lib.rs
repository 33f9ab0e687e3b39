//! Backups of a whole Lectern site: one archive per backup holding every
//! row of every table (files included, as they are rows of `blobs` and
//! `blob_chunks`), a manifest with the hash of every member, compressed and
//! optionally encrypted; where archives live (`Target`); which ones to keep
//! (`retention`); and the create, verify and restore use cases.
//!
//! The database side is `lectern_app::backup::BackupStore`, which each
//! backend implements; this crate never sees SQL, so a backup made on one
//! backend restores onto the other.

pub mod archive;
pub mod crypt;
mod error;
pub mod manifest;
pub mod ops;
pub mod retention;
pub mod s3;
pub mod target;
pub mod transfer;
mod wire;

pub use crypt::{Encryption, Keys};
pub use error::BackupError;
pub use manifest::{Manifest, FORMAT_VERSION};
pub use s3::{S3Settings, S3Target};
pub use target::{Entry, LocalTarget, Target};
