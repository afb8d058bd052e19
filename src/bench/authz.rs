//! The cost of asking Cedar: appends and reads with the policies and with the Cedar call
//! bypassed, in short paired rounds.

use std::sync::Arc;
use std::time::Instant;

use crate::authz::{self, AuthUser, Target};
use crate::node::Node;
use crate::policy::cedar::{AccessContext, Action, Principal, Resource};
use crate::storage::DatabaseUrl;
use crate::usecases::cases::{self};
use crate::usecases::custody::{self};
use crate::usecases::evidence::{self};

use super::args::*;
use super::setup::*;

/// Rates measured in rounds, each round once with a feature and once without, back to back.
#[derive(Default)]
pub(super) struct PairedRates {
    pub(super) with: Vec<f64>,
    pub(super) without: Vec<f64>,
}

impl PairedRates {
    fn add(&mut self, with: f64, without: f64) {
        self.with.push(with);
        self.without.push(without);
    }

    /// Each round's ratio, with over without, sorted (rounds where either side did nothing are
    /// left out).
    fn sorted_ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self
            .with
            .iter()
            .zip(&self.without)
            .filter(|(with, without)| **with > 0.0 && **without > 0.0)
            .map(|(with, without)| with / without)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    /// The median of the rounds' ratios (the mean of the middle two for an even count).
    fn median_ratio(&self) -> f64 {
        let ratios = self.sorted_ratios();
        match ratios.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        }
    }

    /// "W with / O without (means), ratio R (median of N paired rounds, A–B)".
    fn summary(&self) -> String {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let ratios = self.sorted_ratios();
        format!(
            "{:.0} with / {:.0} without (means), ratio {:.2} (median of {} paired rounds, {:.2}–{:.2})",
            mean(&self.with),
            mean(&self.without),
            self.median_ratio(),
            ratios.len(),
            ratios.first().copied().unwrap_or(f64::NAN),
            ratios.last().copied().unwrap_or(f64::NAN),
        )
    }
}

/// The cost of asking Cedar: appends and reads with the policies on, and on the same request
/// path with the Cedar call bypassed, in short paired phases.
pub(super) fn authorization(
    args: &BenchArgs,
    work: &std::path::Path,
    db: &DatabaseUrl,
) -> Result<(), String> {
    let s = setup(args, work, db)?;
    let case_id = {
        let (user, item) = s.writers.first().ok_or("no writer")?;
        evidence::read(&s.ledger, user, item, None)
            .map_err(err)?
            .case_id
    };
    // Short phases, many rounds, the order flipped every round, and the ratio read in each round
    // from its two adjacent phases: drift on a shared machine (WAL checkpoints, other services)
    // then falls on both sides alike, and a phase that one of them hit moves one round's ratio,
    // not the median. (The ratio of the totals went from 0.86 to 1.03 over four runs of the
    // same binary.)
    const ROUNDS: usize = 8;
    let phase = (args.seconds as f64 / ROUNDS as f64).max(0.5);
    let append =
        |l: &Node, u: &AuthUser, item: &str| custody::record(l, u, item, examined()).is_ok();
    let read_case = case_id.clone();
    let read = move |l: &Node, u: &AuthUser, _: &str| cases::read(l, u, &read_case, None).is_ok();
    let mut appends = PairedRates::default();
    let mut reads = PairedRates::default();
    for round in 0..ROUNDS {
        let (mut append_round, mut read_round) = ([0.0; 2], [0.0; 2]);
        for bypass in [round % 2 == 0, round % 2 == 1] {
            s.ledger.policies().bypass_for_benchmark(bypass);
            append_round[usize::from(bypass)] = rate_of(&s, phase, append);
            read_round[usize::from(bypass)] = rate_of(&s, phase, read.clone());
        }
        appends.add(append_round[0], append_round[1]);
        reads.add(read_round[0], read_round[1]);
    }
    s.ledger.policies().bypass_for_benchmark(false);
    // One decision on its own, single-threaded.
    let (user, _) = s.writers.first().ok_or("no writer")?;
    let n = 20_000;
    let started = Instant::now();
    for _ in 0..n {
        let verdict = authz::verdict(
            &s.ledger,
            user,
            Action::CaseRead,
            Target::Case(&case_id),
            &Default::default(),
        )
        .map_err(err)?;
        if !verdict.allowed {
            return Err("the bench investigator was refused its own case".into());
        }
    }
    let per_decision_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    // The same decision without the verdict cache: what Cedar itself costs.
    let principal = Principal {
        user: &user.id,
        role: user.role,
        agency: &user.agency,
        state: user.state,
        agency_is_lab: user.agency_is_lab,
    };
    let resource = Resource::Case {
        id: &case_id,
        agency: &user.agency,
        state: user.state,
    };
    let started = Instant::now();
    for i in 0..n {
        let context = AccessContext {
            now: i64::from(i),
            ..Default::default()
        };
        let verdict =
            s.ledger
                .policies()
                .decide_uncached(&principal, Action::CaseRead, &resource, &context);
        if !verdict.allowed {
            return Err("the bench investigator was refused its own case".into());
        }
    }
    let uncached_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "authorization (Cedar, {} policies): appends/s {}; reads/s {} (target >= 0.9); one \
         decision {:.1} µs through the service ({:.1} µs for Cedar alone, uncached)",
        s.ledger.policies().len(),
        appends.summary(),
        reads.summary(),
        per_decision_us,
        uncached_us
    );
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_rates_read_the_median_of_each_rounds_ratio() {
        let mut rates = PairedRates::default();
        // One round whose "with" phase met a stall: its ratio, not the median, shows it.
        for (with, without) in [(90.0, 100.0), (50.0, 100.0), (100.0, 100.0), (95.0, 100.0)] {
            rates.add(with, without);
        }
        rates.add(10.0, 0.0); // a round where one side did nothing is left out
        assert_eq!(rates.sorted_ratios(), vec![0.5, 0.9, 0.95, 1.0]);
        assert!((rates.median_ratio() - 0.925).abs() < 1e-12);
        let summary = rates.summary();
        assert!(
            summary.contains("ratio 0.93 (median of 4 paired rounds, 0.50–1.00)"),
            "{summary}"
        );
        rates.add(80.0, 100.0);
        assert!((rates.median_ratio() - 0.9).abs() < 1e-12);
        assert!(PairedRates::default().median_ratio().is_nan());
    }
}
