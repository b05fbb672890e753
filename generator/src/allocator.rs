//! The allocator: mimalloc, and how long it keeps memory that was freed.

/// Rendering allocates many small strings on several threads; mimalloc handles that
/// pattern markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mimalloc.h` (v2 and v3 alike); the sys crate names only
/// some options. The test below notices a renumbering.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for reuse instead of handing it back to the system a second after
/// it is free (mimalloc 3's default). A build frees and allocates every portal's pages
/// and index in turn, `lotse serve` the index after each edit; memory given back comes
/// back zeroed by page faults. Measured on the 18,200-service corpus (A/B): `lotse build`
/// 0.2-0.35 s faster (up to 0.6 s less system time), and under `lotse serve` a reload's
/// render after an index 73-80 ms instead of 104-130 ms. The peak memory stays within
/// the runs' spread: what is kept is reused.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores an integer option; any value is allowed, and
    // -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

/// Asks the kernel not to back this process's memory with transparent huge pages.
/// mimalloc advises them for its arenas, and each first touch of a 2 MiB page then
/// zeroes all of it: on `lotse build` after one edit that zeroing was a quarter of the
/// CPU time (`perf`), for memory the build mostly never used. Measured on the
/// 18,200-service corpus (A/B, docs/benchmarks.md): peak memory 262–273 MB instead of
/// 282–315 MB (380 instead of 437 MB on 54,600 services), and no slower. Only Linux has the switch; elsewhere this does nothing, and a kernel
/// that refuses it costs only that speed, so its answer is not checked.
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of the calling process; the
    // remaining arguments must be zero.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // SAFETY: reading and setting an integer option.
        unsafe {
            // mimalloc 3's default purge delay is 1000 ms; the option before it
            // (`deprecated_eager_commit_delay`) is 1.
            assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 1000);
            assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY - 1), 1);
        }
        keep_freed_memory();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, -1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_switched_off_for_the_process() {
        no_huge_pages();
        // SAFETY: PR_GET_THP_DISABLE only reads the flag; the remaining arguments
        // must be zero.
        let flag = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(flag, 1);
    }
}
