use std::process::ExitCode;

// Ingest builds and drops millions of small JSON nodes; mimalloc makes that
// markedly faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    runtime::cli::main()
}
