//! executor's global allocator, and the one request the service makes of it
//! beyond allocating.
//!
//! mimalloc gives freed memory back to the OS lazily: a second after it is
//! freed, and only when the allocator is next called. A service that goes
//! idle right after a burst (loading a catalog of thousands of tools, which
//! parses and drops tens of megabytes of JSON) would keep that memory until
//! its next request. [`release_free_memory`] gives it back at once.
//!
//! A crate of its own because it calls mimalloc's C API, which Rust sees as
//! `unsafe`; every other crate of the workspace forbids unsafe code. The
//! `mimalloc` crate has no safe wrapper for it.

/// The global allocator the executor binary installs.
pub use mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`; the
/// `libmimalloc-sys` crate names only some options).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets how the allocator gives memory back; call first thing in `main`.
///
/// mimalloc 3 purges freed memory a second after it is freed (its
/// `purge_delay` of 1,000 ms). Adding a large spec parses and drops tens of
/// megabytes in well under a second, then builds the search index and the
/// definition graphs: with the long delay their memory came on top of
/// what had just been freed (GitHub's add peaked at 122 MB), with 10 ms
/// (mimalloc 2's default) it reuses it (113 MB), at no cost in time.
/// `MIMALLOC_PURGE_DELAY` in the environment still overrides it.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: called before any other thread exists (the first line of
    // `main`), as mimalloc asks of option changes; takes no pointers.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 10) }
}

/// Returns the memory freed so far to the OS now (mimalloc's
/// `mi_collect(true)`: this thread's free pages, and every pending purge of
/// the process's arenas). Costs about a millisecond; call it after a burst
/// of work, not per request.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any
    // thread at any time; with `force` it only collects free memory.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
