//! Sandbox throughput and latency: `cargo run --release -p lectern-sandbox
//! --example sandbox_bench [RUNS]`. Prints runs per second and the latency
//! of one run (median, 95th percentile) for a trivial script, with a warm
//! pool and without one, for a harness that imports nothing and for one
//! that imports numpy, scipy and sympy first (as grading harnesses do).
//! Figures live here and in docs/sandbox.md, never in tests.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_sandbox::{PythonRunner, Sandbox, Settings};

const PLAIN: &str = "import sys\nsys.stdout.write(sys.stdin.read())\n";
const SCIENTIFIC: &str =
    "import sys\nimport numpy, scipy.special, sympy\nsys.stdout.write(sys.stdin.read())\n";

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!("{runs} runs per line, {threads} threads for the throughput figure");
    for (name, harness) in [("plain", PLAIN), ("numpy+scipy+sympy", SCIENTIFIC)] {
        for pool_size in [0, 2, 4] {
            let sandbox = Arc::new(Sandbox::new(
                harness,
                Settings {
                    pool_size,
                    ..Settings::default()
                },
            ));
            // Let the pool fill, then time one run at a time (latency).
            sandbox.warm_up();
            std::thread::sleep(Duration::from_secs(3));
            let mut took = Vec::with_capacity(runs);
            let mut failed = 0;
            for _ in 0..runs {
                let start = Instant::now();
                failed += usize::from(sandbox.run(b"{}").is_err());
                took.push(start.elapsed());
                // A pause as between learners' checks, so the pool refills.
                let pause = match (pool_size, harness == PLAIN) {
                    (0, _) => 0,
                    (_, true) => 300,
                    (_, false) => 1500,
                };
                std::thread::sleep(Duration::from_millis(pause));
            }
            took.sort();
            let median = took[took.len() / 2];
            let p95 = took[took.len() * 95 / 100];
            // Throughput: back-to-back runs from every thread.
            let start = Instant::now();
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let sandbox = Arc::clone(&sandbox);
                    std::thread::spawn(move || {
                        (0..runs / threads)
                            .filter(|_| sandbox.run(b"{}").is_err())
                            .count()
                    })
                })
                .collect();
            for w in workers {
                failed += w.join().unwrap();
            }
            let per_second = (runs / threads * threads) as f64 / start.elapsed().as_secs_f64();
            println!(
                "{name:>18}, pool {pool_size}: latency median {:>6.1} ms, p95 {:>6.1} ms; {per_second:>6.1} runs/s; {failed} failed (a limit hit on a busy machine)",
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3,
            );
        }
    }
}
