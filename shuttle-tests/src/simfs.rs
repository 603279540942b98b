//! A simulated directory shared by simulated processes, for the models of the file
//! system protocols (`inflight::model`: lock files, staging slots, build-once entries).
//!
//! What it simulates, and how each part behaves:
//!
//! | part        | behaviour                                                              |
//! |-------------|------------------------------------------------------------------------|
//! | names       | one flat directory: a name names an inode (a file, or a directory with a few file names in it) |
//! | inodes      | outlive their names while a handle is open; identity is the inode number, never reused |
//! | handles     | `open_lock` opens (creating an empty file if nothing is there) one open file description, owned by one process |
//! | locks       | `flock`: an exclusive lock belongs to a handle; a second handle on the same inode cannot take it, even in the same process; closing the handle (dropping [`SimFile`]) releases it |
//! | processes   | each a shuttle thread with a [`Pid`]; one may die before any of its operations (chosen per execution from shuttle's random choices, see [`Death`]) |
//! | death       | like `SIGKILL`: the system closes the process's handles, which releases its locks; every later operation of the process fails, so no cleanup of its own (a `Held`'s `Drop`) reaches the directory |
//! | time        | a logical clock: [`LockSpace::pause`] advances it by the pause and yields to the scheduler |
//!
//! Every operation is one atomic step under one shuttle [`Mutex`], so shuttle schedules
//! the processes between any two operations, and a process's death falls between two.
//!
//! Two invariants are checked here, at the operation that would break them, because only
//! the directory sees them as they happen; a violation panics with the last operations:
//! - **nobody removes or renames a running process's directory** (a directory belongs
//!   to the process that made it, until that process dies or exits): a live staging
//!   slot or staging entry is touched by its owner only;
//! - **a role is held by one running process at a time** ([`Process::enter`]): the
//!   models enter a role right after they take a lock and leave it right before they
//!   release it, so two holders of one lock, or two builds of one entry, meet here.
//!
//! Maps are `BTreeMap`s, never `HashMap`s: a random iteration order would make an
//! execution impossible to replay from its schedule.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inflight::model::lock::LockSpace;
use inflight::model::{Kind, Space};
use shuttle::rand::{Rng, thread_rng};
use shuttle::sync::{Mutex, MutexGuard};

thread_local! {
    /// How many times each event of [`reached`] happened, across the executions of the
    /// model running on this OS thread (shuttle runs a model's executions, all its
    /// simulated processes included, on the thread of its test).
    static REACHED: std::cell::RefCell<BTreeMap<&'static str, u64>> =
        const { std::cell::RefCell::new(BTreeMap::new()) };
}

/// Counts `event`: a path of a protocol that a model must take for its verdict to
/// mean something (a death while holding a lock, a sweep that removed something).
/// Counted outside the model, so it is no scheduling point.
pub fn reached(event: &'static str) {
    REACHED.with(|reached| *reached.borrow_mut().entry(event).or_default() += 1);
}

/// The counts of [`reached`] since the last call, and resets them.
pub fn take_reached() -> BTreeMap<&'static str, u64> {
    REACHED.with(|reached| std::mem::take(&mut *reached.borrow_mut()))
}

/// A simulated process's number, in the order the processes were started.
pub type Pid = usize;

/// How many of the last operations a violation's message shows.
const TRACE_SHOWN: usize = 40;

/// A directory shared by simulated processes (see the module docs).
pub struct SimFs {
    state: Mutex<State>,
    /// Instant zero of the logical clock.
    epoch: Instant,
}

/// When a process dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    /// It runs until it ends.
    Never,
    /// With probability 1/2 it dies before one of its first `n` operations (each
    /// equally likely), chosen from shuttle's random choices for this execution.
    Within(u32),
}

/// What is at a name, for the models' checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// Nothing.
    Missing,
    /// A file (a lock file).
    File,
    /// A directory: the process that made it, and the names in it.
    Dir {
        /// Who made it.
        maker: Pid,
        /// What was written into it.
        files: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Running,
    Exited,
    Killed,
}

struct ProcessState {
    life: Life,
    /// Operations started so far.
    ops: u32,
    /// The operation before which it dies.
    dies_at: Option<u32>,
}

enum Inode {
    File {
        /// The handle holding the file's lock.
        locked_by: Option<u64>,
    },
    Dir {
        /// The process that made it: while it runs, nobody else may remove the
        /// directory or rename it.
        maker: Pid,
        /// The names written into it.
        files: BTreeSet<String>,
    },
}

struct Handle {
    ino: u64,
    pid: Pid,
}

#[derive(Default)]
struct State {
    names: BTreeMap<String, u64>,
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    handles: BTreeMap<u64, Handle>,
    next_handle: u64,
    clock: Duration,
    processes: Vec<ProcessState>,
    /// Who is in each role ([`Process::enter`]).
    roles: BTreeMap<String, Vec<Pid>>,
    trace: Vec<String>,
}

/// A broken invariant: the panic message.
type Violation = String;

impl State {
    fn log(&mut self, pid: Pid, what: fmt::Arguments<'_>) {
        self.trace.push(format!("p{pid}: {what}"));
    }

    fn recent(&self) -> String {
        let from = self.trace.len().saturating_sub(TRACE_SHOWN);
        let mut out = format!("last {} operations:", self.trace.len() - from);
        for line in &self.trace[from..] {
            out.push_str("\n  ");
            out.push_str(line);
        }
        out
    }

    /// Starts an operation of `pid`: counts it, and kills the process instead if this
    /// is the operation it dies before. Fails for a dead process.
    fn begin(&mut self, pid: Pid, op: &str, name: &str) -> io::Result<()> {
        let process = &mut self.processes[pid];
        if process.life != Life::Running {
            return Err(killed());
        }
        process.ops += 1;
        if process.dies_at == Some(process.ops) {
            self.log(pid, format_args!("dies before {op} {name}"));
            reached("a process dies");
            let holds_a_lock = self.handles.iter().any(|(id, handle)| {
                handle.pid == pid
                    && matches!(self.inodes[&handle.ino], Inode::File { locked_by } if locked_by == Some(*id))
            });
            if holds_a_lock {
                reached("a process dies holding a lock");
            }
            let has_a_dir = self
                .names
                .values()
                .any(|ino| matches!(self.inodes[ino], Inode::Dir { maker, .. } if maker == pid));
            if has_a_dir {
                reached("a process dies leaving a directory it made");
            }
            self.end(pid, Life::Killed);
            return Err(killed());
        }
        Ok(())
    }

    /// The process ends: the system closes its handles (releasing their locks), and
    /// it leaves every role.
    fn end(&mut self, pid: Pid, life: Life) {
        self.processes[pid].life = life;
        let mine: Vec<u64> = self
            .handles
            .iter()
            .filter(|(_, handle)| handle.pid == pid)
            .map(|(&id, _)| id)
            .collect();
        for id in mine {
            self.close(id);
        }
        for holders in self.roles.values_mut() {
            holders.retain(|&holder| holder != pid);
        }
    }

    fn close(&mut self, id: u64) {
        let Some(handle) = self.handles.remove(&id) else {
            return;
        };
        if let Some(Inode::File { locked_by }) = self.inodes.get_mut(&handle.ino)
            && *locked_by == Some(id)
        {
            *locked_by = None;
        }
    }

    fn running(&self, pid: Pid) -> bool {
        self.processes[pid].life == Life::Running
    }

    /// Fails if `name` is a directory that a running process other than `pid` made.
    fn not_anothers(&self, pid: Pid, name: &str, what: &str) -> Result<(), Violation> {
        if let Some(Inode::Dir { maker, .. }) = self.names.get(name).map(|ino| &self.inodes[ino])
            && *maker != pid
            && self.running(*maker)
        {
            return Err(format!(
                "p{pid} {what} `{name}`, a directory of running process p{maker}\n{}",
                self.recent()
            ));
        }
        Ok(())
    }

    fn look(&self, name: &str) -> Look {
        match self.names.get(name).map(|ino| &self.inodes[ino]) {
            None => Look::Missing,
            Some(Inode::File { .. }) => Look::File,
            Some(Inode::Dir { maker, files }) => Look::Dir {
                maker: *maker,
                files: files.iter().cloned().collect(),
            },
        }
    }

    fn new_inode(&mut self, inode: Inode) -> u64 {
        self.next_ino += 1;
        self.inodes.insert(self.next_ino, inode);
        self.next_ino
    }
}

fn killed() -> io::Error {
    io::Error::other("the process was killed")
}

impl SimFs {
    /// An empty directory with no processes.
    pub fn new() -> Arc<SimFs> {
        Arc::new(SimFs {
            state: Mutex::new(State::default()),
            epoch: Instant::now(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock means a model already failed; show what it saw.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a process that dies as `death` says, in a new shuttle thread running `f`.
    pub fn spawn<T: Send + 'static>(
        self: &Arc<Self>,
        death: Death,
        f: impl FnOnce(&Process) -> T + Send + 'static,
    ) -> shuttle::thread::JoinHandle<T> {
        let process = self.process(death);
        shuttle::thread::spawn(move || f(&process))
    }

    /// A process in the calling thread, dying as `death` says (a survivor that cleans
    /// up after the others: [`Death::Never`]).
    pub fn process(self: &Arc<Self>, death: Death) -> Process {
        let dies_at = match death {
            Death::Never => None,
            Death::Within(n) => {
                let roll = thread_rng().gen_range(1..=2 * n);
                (roll <= n).then_some(roll)
            }
        };
        let mut state = self.lock();
        state.processes.push(ProcessState {
            life: Life::Running,
            ops: 0,
            dies_at,
        });
        Process {
            fs: Arc::clone(self),
            pid: state.processes.len() - 1,
        }
    }

    /// The names in the directory, sorted.
    pub fn names(&self) -> Vec<String> {
        self.lock().names.keys().cloned().collect()
    }

    /// What is at `name`.
    pub fn look(&self, name: &str) -> Look {
        self.lock().look(name)
    }

    /// The last operations, for a model's assertion message.
    pub fn trace(&self) -> String {
        self.lock().recent()
    }

    /// How many handles are open (a check that dead and finished processes left none).
    pub fn open_handles(&self) -> usize {
        self.lock().handles.len()
    }

    /// Runs one operation of `pid` as one atomic step: `op` gets the state once the
    /// process has survived the step, and panics (outside the lock) on a violation.
    fn step<T>(
        &self,
        pid: Pid,
        op: &str,
        name: &str,
        f: impl FnOnce(&mut State) -> Result<io::Result<T>, Violation>,
    ) -> io::Result<T> {
        let outcome = {
            let mut state = self.lock();
            match state.begin(pid, op, name) {
                Err(e) => Ok(Err(e)),
                Ok(()) => f(&mut state),
            }
        };
        outcome.unwrap_or_else(|violation| panic!("{violation}"))
    }
}

/// A simulated process: a view of the directory in which every operation is its own.
/// Dropping it ends the process normally (an exit, which closes its handles).
pub struct Process {
    fs: Arc<SimFs>,
    pid: Pid,
}

/// An open handle on a file, owned by one process; dropping it closes it, which
/// releases its lock (nothing happens if its process is dead: the system closed it).
pub struct SimFile {
    fs: Arc<SimFs>,
    id: u64,
    ino: u64,
}

impl Drop for SimFile {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        self.fs.lock().close(self.id);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut state = self.fs.lock();
        if state.running(self.pid) {
            state.end(self.pid, Life::Exited);
        }
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.pid)
    }
}

impl Process {
    /// This process's number.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The directory it works in.
    pub fn fs(&self) -> &Arc<SimFs> {
        &self.fs
    }

    /// Whether it was killed.
    pub fn is_dead(&self) -> bool {
        self.fs.lock().processes[self.pid].life == Life::Killed
    }

    /// For an operation that failed with `error`: a dead process fails every
    /// operation, a running one must not fail at all. Panics if this one runs.
    pub fn must_be_dead(&self, error: &dyn fmt::Debug) {
        let state = self.fs.lock();
        if state.processes[self.pid].life != Life::Killed {
            let trace = state.recent();
            drop(state);
            panic!("running process p{} failed: {error:?}\n{trace}", self.pid);
        }
    }

    /// The value of an operation that must succeed unless this process died: `None`
    /// if it died (the caller stops, as a killed process would). Panics if it failed
    /// while running.
    pub fn survives<T, E: fmt::Debug>(&self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.must_be_dead(&error);
                None
            }
        }
    }

    /// Writes the file `file` into the directory `dir` (a staging entry being filled).
    pub fn write(&self, dir: &str, file: &str) -> io::Result<()> {
        let pid = self.pid;
        self.fs.step(pid, "write into", dir, |state| {
            state.log(pid, format_args!("write {file} into {dir}"));
            Ok(match state.names.get(dir).copied() {
                None => Err(io::ErrorKind::NotFound.into()),
                Some(ino) => match state.inodes.get_mut(&ino) {
                    Some(Inode::Dir { files, .. }) => {
                        files.insert(file.to_owned());
                        Ok(())
                    }
                    _ => Err(io::Error::other("not a directory")),
                },
            })
        })
    }

    /// Enters `role` (a lock held, a build running): panics if another running
    /// process is in it. Does nothing for a dead process (it holds nothing).
    pub fn enter(&self, role: &str) {
        let violation = {
            let mut state = self.fs.lock();
            if !state.running(self.pid) {
                return;
            }
            let holders = state.roles.entry(role.to_owned()).or_default();
            let others: Vec<Pid> = holders.clone();
            holders.push(self.pid);
            state.log(self.pid, format_args!("enters {role}"));
            (!others.is_empty()).then(|| {
                format!(
                    "p{} entered `{role}`, which running p{} is in\n{}",
                    self.pid,
                    others[0],
                    state.recent()
                )
            })
        };
        if let Some(violation) = violation {
            panic!("{violation}");
        }
    }

    /// Leaves `role`.
    pub fn leave(&self, role: &str) {
        let mut state = self.fs.lock();
        if let Some(holders) = state.roles.get_mut(role) {
            holders.retain(|&holder| holder != self.pid);
        }
        if state.running(self.pid) {
            state.log(self.pid, format_args!("leaves {role}"));
        }
    }
}

impl LockSpace for Process {
    type File = SimFile;

    fn open_lock(&self, name: &str) -> io::Result<SimFile> {
        let pid = self.pid;
        let (id, ino) = self.fs.step(pid, "open", name, |state| {
            let ino = match state.names.get(name).copied() {
                Some(ino) => match state.inodes[&ino] {
                    Inode::File { .. } => ino,
                    Inode::Dir { .. } => return Ok(Err(io::Error::other("is a directory"))),
                },
                None => {
                    let ino = state.new_inode(Inode::File { locked_by: None });
                    state.names.insert(name.to_owned(), ino);
                    ino
                }
            };
            state.next_handle += 1;
            let id = state.next_handle;
            state.handles.insert(id, Handle { ino, pid });
            state.log(pid, format_args!("open {name} = inode {ino} (handle {id})"));
            Ok(Ok((id, ino)))
        })?;
        Ok(SimFile {
            fs: Arc::clone(&self.fs),
            id,
            ino,
        })
    }

    fn try_lock(&self, file: &SimFile) -> io::Result<bool> {
        let pid = self.pid;
        self.fs.step(pid, "lock", "", |state| {
            let Some(Inode::File { locked_by }) = state.inodes.get_mut(&file.ino) else {
                unreachable!("a handle is on a file");
            };
            let got = match *locked_by {
                None => {
                    *locked_by = Some(file.id);
                    true
                }
                Some(holder) => holder == file.id,
            };
            if !got {
                reached("a lock is busy");
            }
            state.log(
                pid,
                format_args!(
                    "lock inode {} (handle {}): {}",
                    file.ino,
                    file.id,
                    if got { "locked" } else { "busy" }
                ),
            );
            Ok(Ok(got))
        })
    }

    fn names_file(&self, name: &str, file: &SimFile) -> io::Result<bool> {
        let pid = self.pid;
        self.fs.step(pid, "check", name, |state| {
            let names = state.names.get(name) == Some(&file.ino);
            if !names {
                reached("a locker finds its lock file's name gone after locking");
            }
            state.log(
                pid,
                format_args!("does {name} name inode {}? {names}", file.ino),
            );
            Ok(Ok(names))
        })
    }

    fn unlink(&self, name: &str) -> io::Result<()> {
        let pid = self.pid;
        self.fs.step(pid, "unlink", name, |state| {
            let is_file = state
                .names
                .get(name)
                .map(|ino| matches!(state.inodes[ino], Inode::File { .. }));
            Ok(match is_file {
                None => Err(io::ErrorKind::NotFound.into()),
                Some(false) => Err(io::Error::other("is a directory")),
                Some(true) => {
                    let ino = state.names.remove(name).expect("checked above");
                    state.log(pid, format_args!("unlink {name} (inode {ino})"));
                    Ok(())
                }
            })
        })
    }

    fn path_of(&self, name: &str) -> PathBuf {
        PathBuf::from("/sim").join(name)
    }

    fn now(&self) -> Instant {
        self.fs.epoch + self.fs.lock().clock
    }

    fn pause(&self, pause: Duration) {
        let pid = self.pid;
        let _ = self.fs.step(pid, "pause", "", |state| {
            state.clock += pause;
            Ok(Ok(()))
        });
        shuttle::thread::yield_now();
    }
}

impl Space for Process {
    fn kind(&self, name: &str) -> io::Result<Kind> {
        self.fs.step(self.pid, "look at", name, |state| {
            Ok(Ok(match state.look(name) {
                Look::Missing => Kind::Missing,
                Look::File => Kind::File,
                Look::Dir { .. } => Kind::Dir,
            }))
        })
    }

    fn make_dir(&self, name: &str) -> io::Result<()> {
        let pid = self.pid;
        self.fs.step(pid, "make dir", name, |state| {
            if state.names.contains_key(name) {
                return Ok(Err(io::ErrorKind::AlreadyExists.into()));
            }
            let ino = state.new_inode(Inode::Dir {
                maker: pid,
                files: BTreeSet::new(),
            });
            state.names.insert(name.to_owned(), ino);
            state.log(pid, format_args!("make dir {name} (inode {ino})"));
            Ok(Ok(()))
        })
    }

    fn remove_tree(&self, name: &str) -> io::Result<()> {
        let pid = self.pid;
        self.fs.step(pid, "remove", name, |state| {
            state.not_anothers(pid, name, "removed")?;
            if let Some(ino) = state.names.remove(name) {
                if let Inode::Dir { maker, .. } = state.inodes[&ino]
                    && state.processes[maker].life == Life::Killed
                {
                    reached("a dead process's directory is removed");
                }
                state.log(pid, format_args!("remove {name} (inode {ino})"));
            }
            Ok(Ok(()))
        })
    }

    fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()> {
        let pid = self.pid;
        self.fs.step(pid, "rename", from, |state| {
            if !state.names.contains_key(from) {
                return Ok(Err(io::ErrorKind::NotFound.into()));
            }
            if state.names.contains_key(to) {
                state.log(pid, format_args!("rename {from} to {to}: exists"));
                reached("a rename finds its destination there");
                return Ok(Err(io::ErrorKind::AlreadyExists.into()));
            }
            state.not_anothers(pid, from, "renamed")?;
            let ino = state.names.remove(from).expect("checked above");
            state.names.insert(to.to_owned(), ino);
            state.log(pid, format_args!("rename {from} to {to}"));
            Ok(Ok(()))
        })
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let pid = self.pid;
        self.fs.step(pid, "list", "", |state| {
            let names: Vec<String> = state.names.keys().cloned().collect();
            state.log(pid, format_args!("list: {names:?}"));
            Ok(Ok(names))
        })
    }
}
