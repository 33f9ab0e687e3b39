//! `lectern doctor` on the sandbox of Python-scripted problems: it says
//! whether scripted problems can run here, and why not when they cannot.

use std::os::unix::fs::PermissionsExt;

use crate::backend::lectern_in;

fn doctor(cmd: &mut std::process::Command) -> String {
    let out = cmd.arg("doctor").output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn doctor_says_whether_scripted_problems_can_run_and_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // This machine has bubblewrap, user namespaces and Debian's numpy.
    let text = doctor(&mut lectern_in(&data));
    assert!(
        text.contains("ok    scripted problems: sandbox works") && text.contains("numpy"),
        "{text}"
    );
    // A kernel that refuses user namespaces: bwrap fails the way it does there.
    let fake = dir.path().join("bin");
    std::fs::create_dir_all(&fake).unwrap();
    let bwrap = fake.join("bwrap");
    std::fs::write(
        &bwrap,
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&bwrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", fake.display());
    let text = doctor(lectern_in(&data).env("PATH", &path));
    assert!(
        text.contains("FAIL  scripted problems: scripted problems cannot run: no sandbox: bwrap: No permissions to creating new namespace"),
        "{text}"
    );
    assert!(text.contains("docs/sandbox.md"), "{text}");
    // No bwrap at all.
    let text = doctor(lectern_in(&data).env("PATH", dir.path().join("empty")));
    assert!(
        text.contains("FAIL  scripted problems") && text.contains("apt-get install bubblewrap"),
        "{text}"
    );
    // Switched off: said so, not a failure.
    let text = doctor(lectern_in(&data).env("LECTERN_SCRIPTS_ENABLED", "false"));
    assert!(
        text.contains("ok    scripted problems: switched off"),
        "{text}"
    );
}
