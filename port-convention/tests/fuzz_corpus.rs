//! Replays every committed fuzz seed (`fuzz/corpus/<target>/*`) through the
//! same code the fuzz targets run (`fuzz/targets.rs`), so the seeds, and any
//! input that once crashed, stay regression tests of `cargo test` without a
//! fuzzer or a nightly compiler.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_committed_fuzz_seed_replays_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in targets::TARGETS {
        let dir = corpus.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no seeds in {}", dir.display());
        for file in files {
            let data = std::fs::read(&file).expect("seed");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 6 * 5, "only {replayed} seeds");
}
