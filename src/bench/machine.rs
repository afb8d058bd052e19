//! What the machine did during a measurement: CPU per thread from `/proc`, the share of the
//! cores stolen by the hypervisor or idle, the bytes written.

/// CPU time used so far, user and system, in seconds: by the whole process (all threads) and
/// by each of the node's named threads (sequencer, syncer, WAL checkpointer). Read from
/// `/proc/self/stat` and `/proc/self/task/*/stat`, in the kernel's ticks of 1/100 s; `None`
/// where there is no `/proc`. Appends per second move with whatever else the machine runs;
/// CPU per append, and how busy the one sequencer thread is, much less so.
pub(super) struct CpuTimes {
    pub(super) process: (f64, f64),
    pub(super) named: Vec<(String, f64)>,
    /// Bytes the sequencer thread has handed to `write` calls (`wchar` of its
    /// `/proc/self/task/*/io`): on SQLite, the frames of its write-ahead log.
    pub(super) sequencer_wrote: Option<u64>,
    /// The whole machine's CPU time so far, from the `cpu` line of `/proc/stat`.
    pub(super) machine: Option<MachineTicks>,
}

/// All cores' time in ticks: in total, idle, and stolen (a virtual machine's cores kept waiting
/// while the hypervisor ran something else). Stolen time is one reason this machine's speed
/// swings from minute to minute; the bench prints its share beside each rate.
#[derive(Clone, Copy)]
pub(super) struct MachineTicks {
    pub(super) total: u64,
    pub(super) idle: u64,
    pub(super) steal: u64,
}

/// The `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq, softirq, steal, …
pub(super) fn machine_ticks(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // Guest time (fields 9 and 10) is already counted in user time.
    Some(MachineTicks {
        total: fields.iter().take(8).sum(),
        idle: fields.get(3)? + fields.get(4)?,
        steal: *fields.get(7)?,
    })
}

/// The `wchar` line of a `/proc/…/io` file.
pub(super) fn written_of_io(io: &str) -> Option<u64> {
    io.lines()
        .find_map(|line| line.strip_prefix("wchar: "))
        .and_then(|bytes| bytes.trim().parse().ok())
}

pub(super) fn cpu_of_stat(stat: &str) -> Option<(String, f64, f64)> {
    const TICKS_PER_SECOND: f64 = 100.0;
    // The command name is in parentheses and may hold spaces; `utime` and `stime` are fields
    // 14 and 15 of the line, 12 and 13 after the name.
    let name = stat.get(stat.find('(')? + 1..stat.rfind(')')?)?.to_owned();
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((
        name,
        ticks(11)? / TICKS_PER_SECOND,
        ticks(12)? / TICKS_PER_SECOND,
    ))
}

pub(super) fn cpu_times() -> Option<CpuTimes> {
    let (_, user, system) = cpu_of_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let mut named = Vec::new();
    let mut sequencer_wrote = None;
    let main_thread = std::process::id().to_string();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        // The main thread bears the program's name, which may itself start with `scelle-`.
        if task.file_name().to_string_lossy() == main_thread.as_str() {
            continue;
        }
        if let Some((name, user, system)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|s| cpu_of_stat(&s))
            && name.starts_with("scelle-")
        {
            if name.starts_with("scelle-sequence") {
                sequencer_wrote = std::fs::read_to_string(task.path().join("io"))
                    .ok()
                    .and_then(|io| written_of_io(&io));
            }
            named.push((name, user + system));
        }
    }
    Some(CpuTimes {
        process: (user, system),
        named,
        sequencer_wrote,
        machine: std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| machine_ticks(&s)),
    })
}

/// One line: CPU per append over the window, split by thread, and how busy each was.
pub(super) fn cpu_report(
    before: &CpuTimes,
    after: &CpuTimes,
    appended: u64,
    elapsed: f64,
) -> String {
    let per_append = |seconds: f64| seconds * 1e6 / appended.max(1) as f64;
    let (user, system) = (
        after.process.0 - before.process.0,
        after.process.1 - before.process.1,
    );
    let mut line = format!(
        "CPU per append: {:.1} µs (user {:.1}, system {:.1}), {:.2} cores busy",
        per_append(user + system),
        per_append(user),
        per_append(system),
        (user + system) / elapsed
    );
    let mut rest = user + system;
    for (name, seconds) in &after.named {
        let start = before
            .named
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, s)| *s);
        let used = seconds - start;
        rest -= used;
        line.push_str(&format!(
            "; {name} {:.1} µs ({:.0}% busy)",
            per_append(used),
            used / elapsed * 100.0
        ));
    }
    line.push_str(&format!("; writers {:.1} µs", per_append(rest)));
    if let (Some(before), Some(after)) = (before.sequencer_wrote, after.sequencer_wrote)
        && after > before
    {
        line.push_str(&format!(
            "; the sequencer wrote {:.2} KiB per append",
            (after - before) as f64 / 1024.0 / appended.max(1) as f64
        ));
    }
    if let (Some(before), Some(after)) = (before.machine, after.machine)
        && after.total > before.total
    {
        let share = |ticks: u64| ticks as f64 * 100.0 / (after.total - before.total) as f64;
        line.push_str(&format!(
            "; the machine's cores {:.0}% stolen by the hypervisor, {:.0}% idle",
            share(after.steal.saturating_sub(before.steal)),
            share(after.idle.saturating_sub(before.idle))
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_ticks_read_the_cpu_line_of_proc_stat() {
        let stat = "cpu  88378 0 9803 45284 711 0 220 9145 0 0\n\
                    cpu0 44000 0 4900 22000 300 0 100 4500 0 0\nintr 1 2 3\n";
        let ticks = machine_ticks(stat).unwrap();
        assert_eq!(
            (ticks.total, ticks.idle, ticks.steal),
            (88378 + 9803 + 45284 + 711 + 220 + 9145, 45284 + 711, 9145)
        );
        // A kernel without the steal column, or a garbled line, gives nothing rather than a guess.
        assert!(machine_ticks("cpu  1 2 3 4 5 6 7\n").is_none());
        assert!(machine_ticks("cpu  1 2 x 4 5 6 7 8\n").is_none());
        assert!(machine_ticks("intr 1 2 3\n").is_none());
    }
}
