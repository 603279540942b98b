//! Shared set-up for the models.

#![allow(dead_code)]

#[cfg(not(loom))]
compile_error!(
    "the loom models need `--cfg loom`: run `cargo test --release` from inside loom-tests/"
);

/// Explores every interleaving of `f` up to the preemption bound: `LOOM_MAX_PREEMPTIONS`
/// when set, else `bound`. Small models (two or three threads) pass `None` to run
/// unbounded.
pub fn check_with_bound<F>(bound: Option<usize>, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = bound;
    }
    builder.check(f);
}

/// The default for this suite: preemption bound 3, at which the suite catches every
/// planted bug of `scripts/planted/` that a loom model can reach (loom-tests/README.md).
pub fn check<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    check_with_bound(Some(3), f);
}

/// Silences the panic messages of panics a model provokes on purpose (an owner that
/// panics inside its job), which would otherwise print once per execution. Panics
/// with any other message still print.
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
    shared: &std::sync::Arc<M>,
    f: impl FnOnce(&M) -> T + Send + 'static,
) -> loom::thread::JoinHandle<T>
where
    M: Send + Sync + 'static,
    T: Send + 'static,
{
    let shared = std::sync::Arc::clone(shared);
    loom::thread::spawn(move || f(&shared))
}
