//! Shared set-up for the shuttle models: the schedulers, their seeds and budgets, and
//! a quiet hook for the panics a model provokes on purpose.

#![allow(dead_code)]

#[cfg(not(shuttle))]
compile_error!(
    "the shuttle models need `--cfg shuttle`: run `cargo test --release` from inside shuttle-tests/"
);

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::time::{Duration, Instant};

use shuttle::scheduler::{PctScheduler, RandomScheduler};
use shuttle::{Config, Runner};

/// Executions per scheduler and model, unless `SHUTTLE_ITERATIONS` says otherwise: the
/// twelve models then run in about 7 s on two cores (30 s on busy ones, release),
/// which keeps the whole shuttle step of CI, build included, under three minutes.
/// Every planted bug of `scripts/planted/` that a model here catches is caught within
/// it, the hardest (15, a sweep racing a build) at PCT's 3,571st execution
/// (README.md).
pub const ITERATIONS: usize = 10_000;

/// Executions per scheduler: `SHUTTLE_ITERATIONS` when set, else `runs`.
fn iterations(runs: usize) -> usize {
    std::env::var("SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(runs)
}

/// The first seed: `SHUTTLE_SEED` when set, else a fixed one, so a CI failure replays
/// with the same command. Shuttle prints the failing schedule too.
fn seed() -> u64 {
    std::env::var("SHUTTLE_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x1f1_6e7)
}

/// PCT's depth: the number of priority change points, so the bugs it finds for sure
/// (with probability at least 1/(n k^(d-1))) are those that need `depth - 1` ordering
/// constraints. 3 finds the two-step races of a notify protocol (write the outcome,
/// then notify; check, then block).
pub const PCT_DEPTH: usize = 3;

/// Runs `model` as [`check`] does, then prints how often it reached each of `events`
/// (counted by `inflight_shuttle_tests::simfs::reached`), and fails if one was never
/// reached with the full budget: a death that never strikes a lock holder, or a sweep
/// that never finds anything to remove, would make the model pass for nothing.
pub fn check_reaching<F>(name: &str, events: &[&str], model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    check_reaching_with(
        name,
        ITERATIONS,
        events,
        inflight_shuttle_tests::simfs::take_reached,
        model,
    );
}

/// [`check_reaching`] with `runs` executions per scheduler ([`check_with`]) and the
/// counts `take` returns (and resets), per OS thread as shuttle runs a model's
/// executions on its test's thread: `simfs`'s, or the library's
/// (`inflight::model::stream::take_reached`).
pub fn check_reaching_with<F>(
    name: &str,
    runs: usize,
    events: &[&str],
    take: fn() -> BTreeMap<&'static str, u64>,
    model: F,
) where
    F: Fn() + Send + Sync + 'static,
{
    let _ = take();
    check_with(name, runs, model);
    let reached = take();
    let counts: Vec<String> = events
        .iter()
        .map(|event| format!("{} x {event}", reached.get(event).copied().unwrap_or(0)))
        .collect();
    eprintln!("{name}: reached {}", counts.join(", "));
    if full_budget(runs) {
        for event in events {
            assert!(
                reached.contains_key(event),
                "{name}: no execution reached `{event}`"
            );
        }
    }
}

/// Runs `model` under the random scheduler and then under PCT, [`ITERATIONS`]
/// executions each, with fixed seeds, and prints how long each took. When an
/// execution fails, says which scheduler and which execution (after shuttle's own
/// report of the failing schedule, to replay), runs the other scheduler too, so a
/// planted bug shows what each scheduler finds, and then fails.
pub fn check<F>(name: &str, model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    check_with(name, ITERATIONS, model);
}

/// Whether models run with at least `runs` executions per scheduler (no smaller
/// `SHUTTLE_ITERATIONS`), so that what they must reach can be required.
fn full_budget(runs: usize) -> bool {
    iterations(runs) >= runs
}

/// [`check`] with `runs` executions per scheduler instead of [`ITERATIONS`] (unless
/// `SHUTTLE_ITERATIONS` says otherwise), for models whose executions cost more.
pub fn check_with<F>(name: &str, runs: usize, model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    let runs = iterations(runs);
    let model = Arc::new(model);
    let random = run(
        name,
        "random",
        RandomScheduler::new_from_seed(seed(), runs),
        &model,
    );
    let pct = run(
        name,
        "PCT",
        PctScheduler::new_from_seed(seed(), PCT_DEPTH, runs),
        &model,
    );
    match (random, pct) {
        (Ok(random), Ok(pct)) => eprintln!(
            "{name}: {runs} random executions in {random:.2?}, {runs} PCT (depth {PCT_DEPTH}) in {pct:.2?}"
        ),
        (Err(payload), _) | (_, Err(payload)) => resume_unwind(payload),
    }
}

/// One scheduler's run of `model`: how long it took, or the panic of the execution
/// that failed.
fn run<S, F>(
    name: &str,
    scheduler_name: &str,
    scheduler: S,
    model: &Arc<F>,
) -> Result<Duration, Box<dyn Any + Send>>
where
    S: shuttle::scheduler::Scheduler + 'static,
    F: Fn() + Send + Sync + 'static,
{
    // A std atomic, outside the model: counts executions, not a modelled operation.
    let executions = Arc::new(StdAtomicUsize::new(0));
    let started = Instant::now();
    catch_unwind(AssertUnwindSafe(|| {
        let (model, executions) = (Arc::clone(model), Arc::clone(&executions));
        Runner::new(scheduler, config()).run(move || {
            executions.fetch_add(1, StdOrdering::Relaxed);
            model()
        })
    }))
    .map(|_executions| started.elapsed())
    .inspect_err(|_| {
        eprintln!(
            "{name}: the {scheduler_name} scheduler failed at execution {} after {:.2?}",
            executions.load(StdOrdering::Relaxed),
            started.elapsed()
        );
    })
}

fn config() -> Config {
    let mut config = Config::new();
    // The models' panics are assertions; a schedule that fails is printed for replay.
    config.silence_warnings = true;
    config
}

/// Silences the panic messages of panics a model provokes on purpose (an owner that
/// panics inside its job): their message starts with "intended:". Other panics print.
pub fn quiet_intended_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let intended = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|message| message.starts_with("intended:"));
        if !intended {
            default(info);
        }
    }));
}

/// Spawns a model thread that runs `f` with its own handle to `shared`.
pub fn spawn_on<M, T>(
    shared: &Arc<M>,
    f: impl FnOnce(&M) -> T + Send + 'static,
) -> shuttle::thread::JoinHandle<T>
where
    M: Send + Sync + 'static,
    T: Send + 'static,
{
    let shared = Arc::clone(shared);
    shuttle::thread::spawn(move || f(&shared))
}
