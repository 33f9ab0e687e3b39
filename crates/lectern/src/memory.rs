//! Giving memory back to the system after an instance closes.
//!
//! glibc's allocator returns freed memory to the system only from the top
//! of its heaps; what an instance freed in the middle of them stays
//! resident, kept for reuse. Measured on 100 instances (bench/README.md,
//! issue 22), closing them left 2–3 MB of RSS each although the heap they
//! had used was free again (a counting allocator showed live bytes back at
//! the start's level). `malloc_trim(0)` hands those free pages back, so a
//! node serving many instances shrinks again after they go idle.
//!
//! The one `unsafe` block of the workspace lives here: a call into glibc
//! that takes no pointers and locks the allocator's own structures while it
//! runs. Elsewhere (musl, other systems) there is nothing to call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Closes in this window share one trim (a sweep may close many instances).
const SETTLE: Duration = Duration::from_secs(2);

static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Asks for freed memory to go back to the system once closes settle.
/// Cheap to call often: at most one trim is waiting at a time.
pub fn release_freed_soon() {
    if SCHEDULED.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(SETTLE).await;
        SCHEDULED.store(false, Ordering::Release);
        // It walks and locks every arena: off the async workers.
        let released = tokio::task::spawn_blocking(release_freed).await;
        tracing::debug!(
            released = released.unwrap_or(false),
            "freed memory handed back"
        );
    });
}

/// Returns the allocator's free pages to the system now; whether any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "glibc's malloc_trim: no pointers, no caller invariants"
)]
pub fn release_freed() -> bool {
    // SAFETY: malloc_trim takes a padding size, touches only the allocator's
    // own free lists, and serializes itself with every other malloc call.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators return large free blocks themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() -> bool {
    false
}
