//! The `scelle` binary: parse, run, map the result to an exit code.

/// The allocator: mimalloc frees across threads without the locking and consolidation of the
/// system allocator's arenas (the audit's readers allocate what its main thread frees), see
/// docs/PERFORMANCE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SCELLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = scelle::cli::parse();
    if let Err(e) = scelle::cli::run(cli) {
        eprintln!("{e}");
        std::process::exit(e.exit_code());
    }
}
