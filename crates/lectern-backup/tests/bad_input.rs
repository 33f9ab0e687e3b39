//! Damaged, truncated, foreign and newer archives, and wrong keys: each is
//! refused with a clear error before anything is touched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lectern_app::backup::BackupStore;
use lectern_app::model::NewUser;
use lectern_app::store::{BlobStore, NewBlob, UserStore};
use lectern_backup::archive::{ArchiveWriter, Origin};
use lectern_backup::ops::{self, Opener, RestoreOptions, Silent};
use lectern_backup::{BackupError, Encryption, Keys, LocalTarget};
use lectern_store::SqliteStore;

async fn site(dir: &Path, who: &str) -> SqliteStore {
    let store = SqliteStore::open(&dir.join(format!("{who}.db")))
        .await
        .unwrap();
    store
        .create_user(&NewUser {
            username: who.into(),
            email: format!("{who}@example.org"),
            name: who.into(),
            password_hash: "h".into(),
            is_admin: false,
            is_course_creator: false,
        })
        .await
        .unwrap();
    store
        .put_blob(&NewBlob {
            sha256: &format!("{:064}", 7),
            bytes: &[1u8, 2, 3, 0, 255],
        })
        .await
        .unwrap();
    store
}

fn opener(path: &Path) -> Opener {
    let path = path.to_path_buf();
    Arc::new(move || Ok(Box::new(std::fs::File::open(&path).unwrap()) as Box<dyn Read + Send>))
}

async fn backup(store: &SqliteStore, dir: &Path, enc: Encryption) -> PathBuf {
    let target = Arc::new(LocalTarget::new(dir.join("backups")));
    let made = ops::create(store, target, "http://site", enc, Arc::new(Silent))
        .await
        .unwrap();
    PathBuf::from(made.location)
}

async fn verify(path: &Path, keys: Keys) -> Result<lectern_backup::Manifest, BackupError> {
    ops::verify(opener(path), Arc::new(keys), Arc::new(Silent)).await
}

/// Restores `path` with --force into `store`; returns the error.
async fn restore_err(store: &SqliteStore, path: &Path, keys: Keys) -> BackupError {
    let opts = RestoreOptions {
        dry_run: false,
        force: true,
        safety_target: None,
        site: String::new(),
    };
    ops::restore(store, opener(path), Arc::new(keys), opts, Arc::new(Silent))
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn truncated_archives_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = site(dir.path(), "src").await;
    let path = backup(&source, dir.path(), Encryption::None).await;
    let target = site(dir.path(), "dst").await;
    let before = target.row_counts().await.unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        let short = dir.path().join(format!("short-{cut}.lbk"));
        std::fs::write(&short, &bytes[..cut]).unwrap();
        let err = verify(&short, Keys::default()).await.unwrap_err();
        assert!(
            matches!(err, BackupError::Corrupt(_)),
            "cut at {cut}: {err}"
        );
        let err = restore_err(&target, &short, Keys::default()).await;
        assert!(err.to_string().contains("damaged"), "cut at {cut}: {err}");
        assert_eq!(target.row_counts().await.unwrap(), before);
    }
}

/// Finds each member in the decompressed archive by its `T` record.
fn member_offsets(plain: &[u8], names: &[String]) -> Vec<usize> {
    names
        .iter()
        .map(|name| {
            let mut needle = vec![b'T', name.len() as u8];
            needle.extend_from_slice(name.as_bytes());
            plain
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
                .expect("member found")
                + needle.len()
        })
        .collect()
}

#[tokio::test]
async fn a_flipped_byte_in_any_member_is_caught_by_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let source = site(dir.path(), "src").await;
    let path = backup(&source, dir.path(), Encryption::None).await;
    let manifest = verify(&path, Keys::default()).await.unwrap();
    let plain = zstd::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
    let names: Vec<String> = manifest.tables.iter().map(|t| t.name.clone()).collect();
    let target = site(dir.path(), "dst").await;
    let before = target.row_counts().await.unwrap();
    for (name, at) in names.iter().zip(member_offsets(&plain, &names)) {
        // In a table with rows: a byte of its first value; in an empty
        // table: a byte of its first column's name. Inside the member either way.
        let mut bad = plain.clone();
        let offset = if manifest
            .tables
            .iter()
            .any(|t| &t.name == name && t.rows > 0)
        {
            at + column_bytes(&plain[at..])
        } else {
            at + 2
        };
        bad[offset] ^= 0x01;
        let file = dir.path().join(format!("flipped-{name}.lbk"));
        std::fs::write(&file, zstd::encode_all(&bad[..], 3).unwrap()).unwrap();
        let err = verify(&file, Keys::default()).await.unwrap_err();
        assert!(
            matches!(err, BackupError::Corrupt(_)),
            "flip in {name}: {err}"
        );
        let err = restore_err(&target, &file, Keys::default()).await;
        assert!(err.to_string().contains("damaged"), "{name}: {err}");
        assert_eq!(target.row_counts().await.unwrap(), before, "{name}");
    }
    // And in the compressed file itself (zstd's checksum or the hashes).
    let mut raw = std::fs::read(&path).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0x40;
    let file = dir.path().join("flipped-raw.lbk");
    std::fs::write(&file, raw).unwrap();
    assert!(verify(&file, Keys::default()).await.is_err());
}

/// The number of bytes of a member's column list, then one into its first
/// row: a byte of row data when the table has rows.
fn column_bytes(member: &[u8]) -> usize {
    let n = member[0] as usize;
    let mut i = 1;
    for _ in 0..n {
        i += 1 + member[i] as usize;
    }
    // Skip the 'R' tag and the first value's type tag: land in its data.
    i + 2
}

#[tokio::test]
async fn wrong_passphrases_and_missing_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = site(dir.path(), "src").await;
    let path = backup(&source, dir.path(), Encryption::passphrase("right one")).await;
    let err = verify(&path, Keys::passphrase("wrong one"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    let err = verify(&path, Keys::default()).await.unwrap_err();
    assert!(err.to_string().contains("--passphrase-file"), "{err}");
    let target = site(dir.path(), "dst").await;
    let before = target.row_counts().await.unwrap();
    let err = restore_err(&target, &path, Keys::passphrase("wrong one")).await;
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert_eq!(target.row_counts().await.unwrap(), before);
    assert!(verify(&path, Keys::passphrase("right one")).await.is_ok());

    // Encrypted to a public key: the secret key opens it, nothing else does.
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let enc = Encryption::recipients(&[public]).unwrap();
    let path = backup(&source, dir.path(), enc).await;
    let err = verify(&path, Keys::default()).await.unwrap_err();
    assert!(err.to_string().contains("--identity-file"), "{err}");
    let other = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret;
    let err = verify(
        &path,
        Keys::identity_text(other.to_string().expose_secret()).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("wrong passphrase or key"), "{err}");
    let keys = Keys::identity_text(id.to_string().expose_secret()).unwrap();
    assert_eq!(verify(&path, keys).await.unwrap().backend, "sqlite");
}

#[tokio::test]
async fn archives_from_a_newer_lectern_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = site(dir.path(), "dst").await;
    let before = target.row_counts().await.unwrap();
    let origin = |schema| Origin {
        schema_version: schema,
        backend: "sqlite".into(),
        site: "x".into(),
        created_at: chrono::Utc::now(),
    };
    // A newer archive format.
    let file = dir.path().join("format.lbk");
    let w = ArchiveWriter::with_format(Vec::new(), &Encryption::None, 2).unwrap();
    std::fs::write(&file, w.finish(origin(4)).unwrap().0).unwrap();
    let err = verify(&file, Keys::default()).await.unwrap_err();
    assert!(matches!(err, BackupError::TooNew(_)), "{err}");
    assert!(err.to_string().contains("newer Lectern"), "{err}");
    // A newer database schema.
    let file = dir.path().join("schema.lbk");
    let w = ArchiveWriter::new(Vec::new(), &Encryption::None).unwrap();
    std::fs::write(&file, w.finish(origin(9999)).unwrap().0).unwrap();
    let err = restore_err(&target, &file, Keys::default()).await;
    assert!(err.to_string().contains("newer lectern"), "{err}");
    assert_eq!(target.row_counts().await.unwrap(), before);
    // Not a backup at all.
    let file = dir.path().join("junk.lbk");
    std::fs::write(
        &file,
        zstd::encode_all(&b"hello world, this is not a backup at all"[..], 3).unwrap(),
    )
    .unwrap();
    let err = verify(&file, Keys::default()).await.unwrap_err();
    assert!(err.to_string().contains("not a Lectern backup"), "{err}");
}

#[tokio::test]
async fn a_target_that_is_a_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let source = site(dir.path(), "src").await;
    let file = dir.path().join("occupied");
    std::fs::write(&file, b"keep me").unwrap();
    let target = Arc::new(LocalTarget::new(&file));
    let err = ops::create(&source, target, "x", Encryption::None, Arc::new(Silent))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot write backups"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}
