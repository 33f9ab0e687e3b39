//! Lectern's integration tests: one test binary, modules by feature.
//! `TestSite::spawn()` runs the real router on 127.0.0.1:0 over a temporary
//! data folder; `binary` runs the compiled `lectern` itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod authz;
mod backend;
mod backup;
mod backup_pull;
mod backup_s3;
mod backup_schedule;
mod bad_input;
mod binary;
mod bulk_email;
mod bulk_email_kill;
mod checks_kill;
mod containers;
mod correctness;
mod deadline;
mod degraded;
mod discussion_matrix;
mod discussion_pages;
mod discussion_site;
mod discussions;
mod forwarder;
mod idempotency;
mod idempotent_races;
mod idempotent_writes;
mod import_roles;
mod jobs;
mod jobs_kill;
mod journey;
mod limits;
mod mail_outbox;
mod media;
mod moto;
mod nodes;
mod openedx_api;
mod page_answers;
mod passwords;
mod problems;
mod query_counts;
mod responsive;
mod sandbox_doctor;
mod scripted;
mod search;
mod sessions;
mod smtp_sink;
mod static_files;
mod support;
mod transfer;
mod two_nodes;
mod unit_frames;
mod uploads;
mod visibility;
mod websec;
