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

/// Returns the memory freed so far to the OS now (mimalloc's
/// `mi_collect(true)`: this thread's free pages, and every pending purge of
/// the process's arenas). Costs about a millisecond; call it after a burst
/// of work, not per request.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any
    // thread at any time; with `force` it only collects free memory.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
