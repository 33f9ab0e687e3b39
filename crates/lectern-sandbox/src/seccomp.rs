//! The seccomp filter every sandboxed process runs under, compiled once
//! with `seccompiler` (Firecracker's) into the classic-BPF program
//! `bwrap --seccomp` loads just before it starts the command.
//!
//! Namespaces already leave a script no network and no host files; the
//! filter is the second wall and the one that holds where rlimits do not:
//! `RLIMIT_NPROC` is not enforced for root, so a fork bomb from a site run
//! as root is stopped here. Everything not listed is allowed (CPython,
//! numpy and scipy use a wide, version-dependent set of calls; an allow
//! list would break on the next Debian release). Refused calls fail with
//! `ENOSYS`, which also makes glibc fall back from `clone3` (whose flags a
//! filter cannot read) to `clone`, where threads are told from processes.

use std::collections::BTreeMap;
use std::io;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// Calls refused outright: new processes, tracing other processes, the
/// kernel's administrative and namespace calls, and the interfaces with a
/// history of kernel bugs a script has no use for.
const REFUSED: &[libc::c_long] = &[
    #[cfg(target_arch = "x86_64")]
    libc::SYS_fork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_vfork,
    libc::SYS_clone3,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_kexec_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_acct,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_syslog,
];

/// The compiled filter as the bytes `bwrap --seccomp FD` reads: the BPF
/// instructions in the machine's byte order.
pub fn program() -> io::Result<Vec<u8>> {
    let invalid = |e: seccompiler::BackendError| io::Error::other(e.to_string());
    let arch = std::env::consts::ARCH.try_into().map_err(invalid)?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &call in REFUSED {
        rules.insert(call, Vec::new());
    }
    // `clone` without CLONE_THREAD is a new process; with it, a thread
    // (which numpy's BLAS may start) and allowed.
    let new_process = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
        0,
    )
    .map_err(invalid)?;
    rules.insert(
        libc::SYS_clone,
        vec![SeccompRule::new(vec![new_process]).map_err(invalid)?],
    );
    // Sockets other than Unix ones (which reach nothing outside the
    // sandbox's own namespaces).
    for call in [libc::SYS_socket, libc::SYS_socketpair] {
        let not_unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(invalid)?;
        rules.insert(
            call,
            vec![SeccompRule::new(vec![not_unix]).map_err(invalid)?],
        );
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(invalid)?;
    let program: BpfProgram = filter.try_into().map_err(invalid)?;
    let mut bytes = Vec::with_capacity(program.len() * 8);
    for instruction in program {
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.push(instruction.jt);
        bytes.push(instruction.jf);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filter_compiles_for_this_machine() {
        let bytes = super::program().unwrap();
        assert!(!bytes.is_empty());
        assert_eq!(bytes.len() % 8, 0);
    }
}
