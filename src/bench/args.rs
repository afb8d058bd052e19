//! The bench's arguments and its phases.

use std::path::PathBuf;

/// `scelle bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Entries of the log the proofs and the audit are measured on.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    /// Seconds each timed loop runs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent writers appending.
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Threads for writers as tasks (default: all cores but one).
    #[arg(long)]
    pub writer_threads: Option<usize>,
    /// MiB of the file `scelle hash` is measured on.
    #[arg(long, default_value_t = 1024)]
    pub hash_mib: u64,
    /// Items of the case whose dossier is measured.
    #[arg(long, default_value_t = 1_000)]
    pub dossier_items: u64,
    /// Custody events, over all those items.
    #[arg(long, default_value_t = 20_000)]
    pub dossier_events: u64,
    /// Where the bench's databases go (default: a fresh folder in the temporary directory).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Minutes the soak runs.
    #[arg(long, default_value_t = 10)]
    pub soak_minutes: u64,
    /// Requests per second the soak offers (half custody events, half reads).
    #[arg(long, default_value_t = 400)]
    pub soak_rate: u64,
    /// The phases to run.
    #[arg(long, value_delimiter = ',', default_values_t = Phase::ALL)]
    pub phases: Vec<Phase>,
}

/// One group of figures of the bench.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Appends,
    Authz,
    Proofs,
    Hash,
    Dossier,
    /// Custody events over HTTP against the same appends in-process.
    Http,
    /// Minutes of mixed events and reads over HTTP at a fixed rate (not in the default set).
    Soak,
    /// Five node processes witnessing each other: append to cosigned publication, and a
    /// witness's requests per second.
    Network,
}

impl Phase {
    const ALL: [Phase; 7] = [
        Phase::Appends,
        Phase::Authz,
        Phase::Proofs,
        Phase::Hash,
        Phase::Dossier,
        Phase::Http,
        Phase::Network,
    ];
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum as _;
        match self.to_possible_value() {
            Some(v) => f.write_str(v.get_name()),
            None => Ok(()),
        }
    }
}
