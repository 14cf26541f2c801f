//! Fuzz tests of everything that reads untrusted files: the REM importer (CSV and XLSX bytes),
//! the scenario JSON and the catalogue toml. Each target must return a value or a clean error,
//! never panic and never hang, whatever it is given.
//!
//! Inputs are arbitrary bytes, and structure-aware mutations of the real demonstration files
//! (`demo/catalogue/`, `demo/scenarios/`): truncations, byte flips, inserted separators, quotes,
//! BOMs and invalid UTF-8, deleted and duplicated ranges, huge fields and deep nesting (see
//! [`Mutation`]). With `PREUVES_REAL_DATA` set, the real draft REMs are seeds too.
//!
//! - In CI, each target runs `PREUVES_FUZZ_CASES` cases (64 by default): a few seconds.
//! - `PREUVES_FUZZ_SECONDS=600` runs each target for that long instead, with fresh seeds, and
//!   prints what it did (cases, outcomes, slowest case). See `docs/operations.md`.
//!
//! A case slower than `PREUVES_FUZZ_SLOW_MS` (10,000 ms by default) fails; a case that runs for
//! more than a minute is a hang: a watchdog saves its input under `target/fuzz-hangs/` and aborts
//! the process, since a stuck thread cannot be stopped. Failing inputs are saved under
//! `target/fuzz-failures/` so that they can be replayed.

mod catalogue;
mod rem;
mod scenario;
mod xlsx;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};

/// The repository's root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a repository file.
pub(crate) fn repo_file(relative: &str) -> Vec<u8> {
    let path = root().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files of `PREUVES_REAL_DATA` whose name ends with `extension`, when it is set.
pub(crate) fn real_data_files(extension: &str) -> Vec<Vec<u8>> {
    let Some(dir) = std::env::var_os("PREUVES_REAL_DATA") else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(extension))
        })
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Longest input a chain of mutations may build (duplications and huge fields add up).
const MAX_INPUT: usize = 4 * 1024 * 1024;

/// Longest "huge field" inserted in one mutation.
const MAX_HUGE: usize = 256 * 1024;

/// Deepest nesting inserted in one mutation.
const MAX_NESTING: usize = 20_000;

/// Byte strings worth inserting in any input: separators, quotes, line ends, BOMs, invalid or
/// cut UTF-8, JSON/TOML/XML syntax, escapes, extreme numbers, and values the formats know.
const COMMON_TOKENS: &[&[u8]] = &[
    b",",
    b";",
    b"\t",
    b"\"",
    b"\"\"",
    b"'",
    b"'''",
    b"\"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\xEF\xBB\xBF",
    b"\xFE\xFF",
    b"\xFF\xFE",
    b"\0",
    b"\xFF",
    b"\xC3",
    b"\xE2\x82",
    b"\xED\xA0\x80",
    b"\xC2\xA0",
    b"\xE2\x80\xAF",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b"=",
    b"#",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\uDFFF",
    b"0",
    b"-1",
    b"-0",
    b"1e999",
    b"99999999999999999999999",
    b"18446744073709551616",
    b"9223372036854775807",
    b"NaN",
    b"null",
    b"true",
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"\xC3\xA9",
    b"\xC2\xB0",
    b"Vague 1",
    b"Vague 2",
    b"G\xC3\xA9n\xC3\xA9ral",
    b"REF-DPI-2-0001",
    b"REF-MS2-PDE-1-0001",
    b"INS/va1.01",
    b"2026-02-30",
    b"0000-00-00",
    b"4.3",
    b"4.3.0.0.0.0.0.0.0.0.0.0.0",
];

/// Patterns repeated to build deep nesting.
const NESTING: &[&[u8]] = &[
    b"[", b"{\"a\":", b"{", b"a=[", b"[[", b"{a={", b"<a>", b"<is><t>", b"\"", b"(",
];

/// One change to an input. Positions are [`Index`]es, scaled to the input's length when applied.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Cuts the input at a position.
    Truncate(Index),
    /// XORs a byte with a non-zero mask.
    Flip(Index, u8),
    /// Inserts a token (common or the target's own).
    Insert(Index, Index),
    /// Replaces a byte with a token.
    Replace(Index, Index),
    /// Deletes up to 256 bytes.
    Delete(Index, usize),
    /// Copies up to 4 KiB from one position to another.
    Duplicate(Index, Index, usize),
    /// Inserts one byte repeated up to [`MAX_HUGE`] times (a huge field).
    Huge(Index, u8, usize),
    /// Inserts a nesting pattern repeated up to [`MAX_NESTING`] times.
    Nest(Index, Index, usize),
    /// Swaps two lines.
    SwapLines(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        4 => (any::<Index>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        6 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Mutation::Replace(i, t)),
        2 => (any::<Index>(), 1..256usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<Index>(), any::<Index>(), 1..4096usize)
            .prop_map(|(a, b, n)| Mutation::Duplicate(a, b, n)),
        1 => (
            any::<Index>(),
            prop::sample::select(&b"A \"\n,;\xC3\xA9<&[{0"[..]),
            1..MAX_HUGE
        )
            .prop_map(|(i, b, n)| Mutation::Huge(i, b, n)),
        1 => (any::<Index>(), any::<Index>(), 1..MAX_NESTING)
            .prop_map(|(i, p, n)| Mutation::Nest(i, p, n)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// Applies `mutations` in order to `input`, with the target's own `tokens` beside the common ones.
pub(crate) fn mutate(input: &[u8], mutations: &[Mutation], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    let token = |i: &Index| -> &[u8] {
        let n = COMMON_TOKENS.len() + tokens.len();
        let k = i.index(n);
        COMMON_TOKENS
            .get(k)
            .copied()
            .unwrap_or_else(|| tokens[k - COMMON_TOKENS.len()])
    };
    for m in mutations {
        let len = out.len();
        let at = |i: &Index| i.index(len + 1);
        match m {
            Mutation::Truncate(i) => out.truncate(at(i)),
            Mutation::Flip(i, mask) => {
                if len > 0 {
                    out[i.index(len)] ^= mask;
                }
            }
            Mutation::Insert(i, t) => {
                let p = at(i);
                out.splice(p..p, token(t).iter().copied());
            }
            Mutation::Replace(i, t) => {
                if len > 0 {
                    let p = i.index(len);
                    out.splice(p..=p, token(t).iter().copied());
                }
            }
            Mutation::Delete(i, n) => {
                let p = at(i);
                out.drain(p..(p + n).min(len));
            }
            Mutation::Duplicate(from, to, n) => {
                let p = at(from);
                let chunk = out[p..(p + n).min(len)].to_vec();
                let q = at(to);
                out.splice(q..q, chunk);
            }
            Mutation::Huge(i, byte, n) => {
                let p = at(i);
                out.splice(p..p, std::iter::repeat_n(*byte, *n));
            }
            Mutation::Nest(i, pattern, n) => {
                let p = at(i);
                let pattern = NESTING[pattern.index(NESTING.len())];
                out.splice(
                    p..p,
                    pattern.iter().copied().cycle().take(pattern.len() * n),
                );
            }
            Mutation::SwapLines(a, b) => swap_lines(&mut out, a, b),
        }
        out.truncate(MAX_INPUT);
    }
    out
}

/// Swaps two lines (`\n`-terminated) of `input`.
fn swap_lines(input: &mut Vec<u8>, a: &Index, b: &Index) {
    let mut lines: Vec<&[u8]> = input.split_inclusive(|&b| b == b'\n').collect();
    if lines.len() < 2 {
        return;
    }
    let (i, j) = (a.index(lines.len()), b.index(lines.len()));
    lines.swap(i, j);
    *input = lines.concat();
}

/// An input: arbitrary bytes, or a seed (by index) and the mutations to apply to it.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// Bytes as generated.
    Raw(Vec<u8>),
    /// A seed changed by mutations.
    Mutated(Index, Vec<Mutation>),
}

impl Input {
    /// The bytes of this input, given the target's seeds and tokens.
    pub(crate) fn bytes(&self, seeds: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
        match self {
            Self::Raw(bytes) => bytes.clone(),
            Self::Mutated(seed, mutations) => {
                mutate(&seeds[seed.index(seeds.len())], mutations, tokens)
            }
        }
    }
}

/// Arbitrary bytes one time in eight, else one to four mutations of a seed.
pub(crate) fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048).prop_map(Input::Raw),
        7 => (any::<Index>(), prop::collection::vec(mutation(), 1..5))
            .prop_map(|(s, m)| Input::Mutated(s, m)),
    ]
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// What a target did with one input, for the statistics of long runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The input was accepted.
    Accepted,
    /// The input was refused with a clean error.
    Refused,
}

/// The input being run, for the watchdog.
struct Current {
    started: Option<Instant>,
    input: Vec<u8>,
}

#[derive(Default, Debug)]
struct Stats {
    cases: u64,
    accepted: u64,
    refused: u64,
    slowest: Duration,
    slowest_len: usize,
    largest_len: usize,
}

/// Runs a fuzz target: `build` makes the bytes of each generated value, `run` says whether
/// they were accepted or refused; a panic, a slow case or a hang fails the test (see the module
/// header). The minimal failing input is saved under `target/fuzz-failures/`.
pub(crate) fn fuzz<T, S, B, F>(name: &str, strategy: S, build: B, run: F)
where
    T: std::fmt::Debug,
    S: Strategy<Value = T>,
    B: Fn(&T) -> Vec<u8>,
    F: Fn(&[u8]) -> Outcome,
{
    install_quiet_panic_hook();
    let current = Arc::new(Mutex::new(Current {
        started: None,
        input: Vec::new(),
    }));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = spawn_watchdog(name, Arc::clone(&current), Arc::clone(&done));
    let slow = Duration::from_millis(env_u64("PREUVES_FUZZ_SLOW_MS").unwrap_or(10_000));
    let stats = Mutex::new(Stats::default());

    let case = |value: T| -> Result<(), TestCaseError> {
        let bytes = build(&value);
        {
            let mut c = current.lock().unwrap_or_else(|p| p.into_inner());
            c.input.clone_from(&bytes);
            c.started = Some(Instant::now());
        }
        let start = Instant::now();
        QUIET.set(true);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&bytes)));
        QUIET.set(false);
        let elapsed = start.elapsed();
        current.lock().unwrap_or_else(|p| p.into_inner()).started = None;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                return Err(TestCaseError::fail(format!(
                    "{name}: panic on an input of {} bytes: {message}",
                    bytes.len()
                )));
            }
        };
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        s.cases += 1;
        match outcome {
            Outcome::Accepted => s.accepted += 1,
            Outcome::Refused => s.refused += 1,
        }
        if elapsed > s.slowest {
            s.slowest = elapsed;
            s.slowest_len = bytes.len();
        }
        s.largest_len = s.largest_len.max(bytes.len());
        drop(s);
        if elapsed > slow {
            return Err(TestCaseError::fail(format!(
                "{name}: {elapsed:?} on an input of {} bytes, more than {slow:?}",
                bytes.len()
            )));
        }
        Ok(())
    };

    let cases = u32::try_from(env_u64("PREUVES_FUZZ_CASES").unwrap_or(64)).unwrap_or(u32::MAX);
    let deadline = env_u64("PREUVES_FUZZ_SECONDS").map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let mut rounds = 0u64;
    loop {
        let config = Config {
            cases: if deadline.is_some() { 500 } else { cases },
            failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
            max_shrink_iters: 2_000,
            ..Config::default()
        };
        // A fresh random seed each round (the OS's), so a long run keeps exploring.
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, case);
        if let Err(e) = result {
            done.store(true, Ordering::SeqCst);
            match e {
                TestError::Fail(why, value) => {
                    let path = save(name, "fuzz-failures", &build(&value));
                    panic!(
                        "{why}\nminimal input saved in {}: {value:?}",
                        path.display()
                    );
                }
                TestError::Abort(why) => panic!("{name}: aborted: {why}"),
            }
        }
        rounds += 1;
        match deadline {
            Some(d) if Instant::now() < d => {}
            _ => break,
        }
    }
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    eprintln!(
        "fuzz {name}: {} cases in {rounds} round(s), {:.0?}: {} accepted, {} refused with an \
         error; slowest case {:.1?} ({} bytes); largest input {} bytes; no panic, no hang",
        s.cases,
        started.elapsed(),
        s.accepted,
        s.refused,
        s.slowest,
        s.slowest_len,
        s.largest_len
    );
}

thread_local! {
    /// Whether the panics of this thread are expected (a fuzz case runs): they are reported by
    /// the harness, not printed by the panic hook (the importer also catches the spreadsheet
    /// library's own panics, which would flood the output).
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once, a panic hook that stays silent on threads running a fuzz case.
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                default(info);
            }
        }));
    });
}

/// Watches the case in progress: one running for more than a minute is a hang.
fn spawn_watchdog(
    name: &str,
    current: Arc<Mutex<Current>>,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let name = name.to_owned();
    let hang = Duration::from_secs(env_u64("PREUVES_FUZZ_HANG_SECONDS").unwrap_or(60));
    std::thread::spawn(move || {
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
            let c = current.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(started) = c.started
                && started.elapsed() > hang
            {
                let path = save(&name, "fuzz-hangs", &c.input);
                eprintln!(
                    "fuzz {name}: a case has been running for more than {hang:?} (a hang); its \
                     input of {} bytes is in {}",
                    c.input.len(),
                    path.display()
                );
                std::process::abort();
            }
        }
    })
}

/// Saves a failing input under `target/<folder>/`, named by the target and a content hash.
fn save(name: &str, folder: &str, bytes: &[u8]) -> PathBuf {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let dir = root().join("target").join(folder);
    let path = dir.join(format!("{name}-{:016x}.bin", h.finish()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(&path, bytes);
    path
}
