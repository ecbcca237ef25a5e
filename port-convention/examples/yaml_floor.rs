//! The floor under `check`'s speed with its YAML parser: read every file of
//! a NUL-separated list and parse each compose file with serde-saphyr into
//! `IgnoredAny` (no nodes kept, nothing checked), in parallel as `check`
//! does. `benches/check` times it beside `cat` and `check`.
//!
//! ```sh
//! cargo run --release -p port-convention --example yaml_floor -- files.list0
//! ```

use rayon::prelude::*;

fn main() {
    let Some(list) = std::env::args().nth(1) else {
        eprintln!("usage: yaml_floor FILES.list0");
        std::process::exit(2);
    };
    let names = std::fs::read(&list).unwrap_or_default();
    let names: Vec<&[u8]> = names.split(|b| *b == 0).filter(|n| !n.is_empty()).collect();
    let failed: usize = names
        .par_iter()
        .map(|name| {
            let path = String::from_utf8_lossy(name).into_owned();
            let Ok(text) = std::fs::read_to_string(&path) else {
                return 1;
            };
            if !(path.ends_with(".yml") || path.ends_with(".yaml")) {
                return 0;
            }
            let parsed: Result<Vec<serde::de::IgnoredAny>, _> = serde_saphyr::from_multiple(&text);
            usize::from(parsed.is_err())
        })
        .sum();
    println!("{} files, {failed} not parsed", names.len());
}
