//! Lock files that their holder removes (`src/fs/lock.rs`), and the staging slots built
//! on them (`src/fs/slots.rs`), run over a simulated directory
//! (`inflight_shuttle_tests::simfs`) by processes that may die before any of their
//! operations, as a `SIGKILL` would stop them: the system releases their locks, and
//! none of their own cleanup runs.

mod common;

use std::time::Duration;

use inflight::FsError;
use inflight::model::lock::{self, Acquired, LockSpace, Wait};
use inflight::model::{Space, slots};
use inflight_shuttle_tests::simfs::{self, Death, Look, Process, SimFs};
use shuttle::rand::{Rng, thread_rng};

/// The lock every process of the first model takes.
const NAME: &str = ".id.lock";

/// Takes and releases `NAME` `rounds` times, waiting for it without a deadline or with
/// `timeout`, and working (one pause) while it holds it.
fn lock_rounds(p: &Process, rounds: usize, timeout: Option<Duration>) {
    for _ in 0..rounds {
        let wait = Wait::Until(timeout.map(|timeout| p.now() + timeout));
        let held = match lock::lock(p, NAME, wait, || {}) {
            Ok(Acquired::Held(held)) => held,
            Ok(Acquired::Busy) => unreachable!("only `Wait::No` gives up on a busy lock"),
            Err(FsError::LockTimeout { .. }) if timeout.is_some() => {
                simfs::reached("a waiter times out");
                continue;
            }
            Err(error) => return p.must_be_dead(&error),
        };
        // In the role from the moment `lock` says we hold it to the moment before we
        // release it: two processes in it at once hold one lock together.
        p.enter(NAME);
        p.pause(Duration::from_millis(1));
        p.leave(NAME);
        if p.survives(held.release()).is_none() {
            return;
        }
    }
}

#[test]
fn three_processes_that_may_die_never_hold_one_lock_together_and_leave_no_lock_file() {
    const REACHED: &[&str] = &[
        "a lock is busy",
        "a locker finds its lock file's name gone after locking",
        "a waiter times out",
        "a process dies holding a lock",
    ];
    common::check_reaching(
        "fs locks: 3 processes, one lock, deaths, a timeout",
        REACHED,
        || {
            let fs = SimFs::new();
            // Two wait as long as it takes, one gives up after 1 ms (one pause): a waiter
            // that times out must leave the lock file alone.
            let processes: Vec<_> = [None, None, Some(Duration::from_millis(1))]
                .into_iter()
                .map(|timeout| fs.spawn(Death::Within(16), move |p| lock_rounds(p, 3, timeout)))
                .collect();
            for process in processes {
                process.join().unwrap();
            }
            // The dead leave their lock file; the next locker removes it on release.
            let survivor = fs.process(Death::Never);
            let Ok(Acquired::Held(held)) = lock::lock(&survivor, NAME, Wait::No, || {}) else {
                panic!("nobody is left to hold {NAME}\n{}", fs.trace());
            };
            held.release().unwrap();
            drop(survivor);
            assert_eq!(fs.names(), Vec::<String>::new(), "{}", fs.trace());
            assert_eq!(fs.open_handles(), 0);
        },
    );
}

/// The stem of the staging slots, and the destination the slots are published to.
const STEM: &str = "pkg";

/// One job staged in a slot, as `Staging::in_slot` and `Staging::publish` do it:
/// take the lowest free slot, make its directory, sweep the dead slots, fill the
/// directory, then publish it (a rename that fails if another job published first:
/// then remove it) or give up (remove it), and release the slot. `false` if the
/// process died.
fn stage(p: &Process, publish: bool) -> bool {
    let Some((k, held)) = p.survives(slots::take(p, STEM)) else {
        return false;
    };
    let (dir, lock_name) = slots::slot_names(STEM, k);
    p.enter(&lock_name);
    if k > 0 {
        simfs::reached("a job takes slot 1 or above");
    }
    let staged = (|| {
        p.make_dir(&dir)?;
        slots::sweep(p, STEM, Some(k)).map_err(std::io::Error::other)?;
        p.write(&dir, "a")?;
        p.write(&dir, "b")?;
        if publish {
            match p.rename_noreplace(&dir, STEM) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => p.remove_tree(&dir),
                other => other,
            }
        } else {
            p.remove_tree(&dir)
        }
    })();
    if p.survives(staged).is_none() {
        return false;
    }
    p.leave(&lock_name);
    p.survives(held.release()).is_some()
}

#[test]
fn slots_of_three_stagers_and_a_sweeper_that_may_die_are_touched_by_their_owner_only() {
    const REACHED: &[&str] = &[
        "a job takes slot 1 or above",
        "a process dies holding a lock",
        "a process dies leaving a directory it made",
        "a dead process's directory is removed",
        "a rename finds its destination there",
    ];
    common::check_reaching(
        "fs slots: 3 stagers x 2 jobs, 1 sweeper, deaths",
        REACHED,
        || {
            let fs = SimFs::new();
            let mut processes: Vec<_> = (0..3)
                .map(|_| {
                    fs.spawn(Death::Within(24), |p| {
                        for _ in 0..2 {
                            let publish = thread_rng().gen_bool(0.5);
                            if !stage(p, publish) {
                                return;
                            }
                        }
                    })
                })
                .collect();
            processes.push(fs.spawn(Death::Within(8), |p| {
                for _ in 0..2 {
                    if p.survives(slots::sweep(p, STEM, None)).is_none() {
                        return;
                    }
                }
            }));
            for process in processes {
                process.join().unwrap();
            }
            let survivor = fs.process(Death::Never);
            slots::sweep(&survivor, STEM, None).unwrap();
            drop(survivor);
            let names = fs.names();
            assert!(
                names.is_empty() || names == [STEM],
                "left behind: {names:?}\n{}",
                fs.trace()
            );
            if !names.is_empty() {
                let Look::Dir { files, .. } = fs.look(STEM) else {
                    panic!("{STEM} is not a directory\n{}", fs.trace());
                };
                assert_eq!(files, ["a", "b"], "{STEM} was published incomplete");
            }
            assert_eq!(fs.open_handles(), 0);
        },
    );
}
