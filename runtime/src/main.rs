use std::process::ExitCode;

// Ingest builds and drops millions of small JSON nodes; mimalloc makes that
// markedly faster than glibc's allocator (see BENCHMARKS.md). It is built
// without transparent huge pages (the `no_thp` feature): with them, every
// 2 MiB region faulted in after a purge was zeroed whole, which took half
// the time of adding GitHub's spec and 25 MB more memory (`perf`, issue 17).
#[global_allocator]
static GLOBAL: alloc_shim::MiMalloc = alloc_shim::MiMalloc;

fn main() -> ExitCode {
    alloc_shim::configure();
    runtime::cli::main()
}
