//! The unzipper's two decoding paths, interleaved A/B: `Unzipper::new()` (in memory
//! up to `LIMIT` MiB, default 32) against `in_memory_limit(0)` (streaming), each
//! extraction into /dev/shm, N rounds; reports the process CPU time per extraction
//! (user + system; `USR=1` or `SYS=1` for one of them; `WALL=1` for wall time), best
//! and median. `AGAINST=M` gives the second contender a limit of M MiB instead of 0. CPU time
//! rather than wall time because this machine is shared: other jobs stretch wall
//! time, much less the CPU time an extraction uses.
//!
//!   cargo run --release --bin ab -- ARCHIVE [ROUNDS] [POOL_THREADS]
use inflight::Unzipper;
use std::time::{Duration, Instant};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let archive = std::path::PathBuf::from(&args[1]);
    let n: usize = args.get(2).map_or(15, |s| s.parse().unwrap());
    let threads: usize = args.get(3).map_or(0, |s| s.parse().unwrap());
    let pool = std::sync::Arc::new(rayon_pool(threads));
    let work = std::path::PathBuf::from("/dev/shm/inflight-ab");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let limit: usize =
        std::env::var("LIMIT").map_or(32 << 20, |s| s.parse::<usize>().unwrap() << 20);
    // `AGAINST=M`: the second contender decodes in memory up to M MiB instead of
    // streaming everything, to compare two limits.
    let against: usize = std::env::var("AGAINST").map_or(0, |s| s.parse::<usize>().unwrap() << 20);
    let contenders = [
        (
            "in_memory",
            Unzipper::new()
                .in_memory_limit(limit)
                .thread_pool(pool.clone()),
        ),
        (
            "streaming",
            Unzipper::new()
                .in_memory_limit(against)
                .thread_pool(pool.clone()),
        ),
    ];
    let mut times = vec![Vec::new(); 2];
    let only: Option<usize> = std::env::var("ONLY").ok().map(|s| s.parse().unwrap());
    for i in 0..n {
        for (k, (_, u)) in contenders.iter().enumerate() {
            if only.is_some_and(|o| o != k) {
                times[k].push(Duration::from_secs(1));
                continue;
            }
            let dest = work.join(format!("out{i}-{k}"));
            let c0 = cpu();
            let t = Instant::now();
            u.unzip(&archive, &dest).unwrap();
            let wall = t.elapsed();
            let used = cpu() - c0;
            times[k].push(if std::env::var_os("WALL").is_some() { wall } else { used });
            std::fs::remove_dir_all(&dest).unwrap();
        }
    }
    let stat = |v: &mut Vec<Duration>| {
        v.sort();
        (v[0].as_secs_f64() * 1e3, v[v.len() / 2].as_secs_f64() * 1e3)
    };
    let a = stat(&mut times[0]);
    let b = stat(&mut times[1]);
    println!(
        "{}: {} in_memory best {:.1} med {:.1} | streaming best {:.1} med {:.1} | ratio best {:.2}x med {:.2}x",
        archive.display(),
        if std::env::var_os("WALL").is_some() { "wall" } else { "CPU" },
        a.0,
        a.1,
        b.0,
        b.1,
        b.0 / a.0,
        b.1 / a.1
    );
}
fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// User + system CPU time of the whole process.
fn cpu() -> Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    if std::env::var_os("SYS").is_some() {
        tv(u.ru_stime)
    } else if std::env::var_os("USR").is_some() {
        tv(u.ru_utime)
    } else {
        tv(u.ru_utime) + tv(u.ru_stime)
    }
}
