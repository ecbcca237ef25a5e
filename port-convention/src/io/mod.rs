//! The edge of the library: everything that touches the file system or the
//! process environment. The other modules are pure functions over values;
//! the CLI and both bindings call these functions for their input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod adopt;
pub mod live;
pub mod migrate;
pub mod render;
pub mod source;

use crate::dotenv::{Dotenv, parse_dotenv};
use crate::{Convention, Error, LoadedPorts, resolve_ports};

/// The file name looked for by [`find_convention`].
pub const CONVENTION_FILE_NAME: &str = "ports.yaml";

/// Reads a UTF-8 text file.
///
/// # Errors
///
/// [`Error::NotRegularFile`] for a FIFO, a device, a socket or a directory
/// (checked before opening, and again on the opened file, which is opened
/// without blocking), [`Error::Io`] when the file cannot be read or is not
/// UTF-8.
pub fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = read_regular(path)?;
    String::from_utf8(bytes).map_err(|err| Error::Io {
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        ),
    })
}

/// What a non-regular file is, for [`Error::NotRegularFile`].
pub(crate) fn file_kind(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

/// The bytes of a regular file (symbolic links followed): anything else is
/// refused before it is opened, and the opened file is checked again (it is
/// opened with `O_NONBLOCK`, so a FIFO swapped in meanwhile cannot block).
pub(crate) fn read_regular(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let not_regular = |meta: &std::fs::Metadata| Error::NotRegularFile {
        path: path.to_owned(),
        kind: file_kind(meta.file_type()).to_owned(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "{} bytes, more than the {MAX_FILE_BYTES} a compose, .env or convention file may have",
                meta.len()
            ),
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while it is read stops at the limit too.
    (&mut file)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("grew past {MAX_FILE_BYTES} bytes while it was read"),
        )));
    }
    Ok(bytes)
}

/// The largest file the tool reads (16 MiB): real compose, `.env` and
/// convention files are kilobytes; a larger one is reported, not read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A `ports.yaml` found by the upward search must be in the directory it is
/// found in: a symbolic link to a file elsewhere (`/etc/shadow`) is refused.
fn check_found_convention(dir: &Path, candidate: &Path) -> Result<(), Error> {
    let is_link = std::fs::symlink_metadata(candidate).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    let inside = match (std::fs::canonicalize(candidate), std::fs::canonicalize(dir)) {
        (Ok(target), Ok(dir)) => target.starts_with(&dir),
        _ => false,
    };
    if inside {
        return Ok(());
    }
    Err(Error::UnsafePath {
        path: candidate.display().to_string(),
        problem: crate::PathProblem::LinkOutOfItsDirectory,
        context: "; a ports.yaml found by the upward search is read only when it lives in the \
                  directory it is found in (name the convention explicitly if you trust it)"
            .into(),
    })
}

/// `path` resolved (every symbolic link, `.` and `..`) when it lies inside
/// `root`: the confinement of a server that answers only about one tree
/// (`port-convention mcp`). A relative `path` is taken from `root`. Returns
/// the resolved path.
///
/// # Errors
///
/// [`Error::Io`] when `path` or `root` does not exist (nothing outside is
/// read), [`Error::UnsafePath`] when `path` resolves outside `root`.
pub fn confine(root: &Path, path: &Path) -> Result<PathBuf, Error> {
    let canonical_root = std::fs::canonicalize(root).map_err(|source| Error::Io {
        path: root.to_owned(),
        source,
    })?;
    let joined = root.join(path);
    let resolved = std::fs::canonicalize(&joined).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if resolved.starts_with(&canonical_root) {
        return Ok(resolved);
    }
    Err(Error::UnsafePath {
        path: path.display().to_string(),
        problem: crate::PathProblem::OutsideRoot {
            resolved: resolved.display().to_string(),
            root: canonical_root.display().to_string(),
        },
        context: "; only paths inside the root are answered for".into(),
    })
}

/// A convention parsed from `text`, with the YAML and serde libraries'
/// messages in the user's terms and without long excerpts of the file.
pub(crate) fn convention_from_text(name: &str, text: &str) -> Result<Convention, Error> {
    Convention::from_yaml(name, text).map_err(|err| match err {
        Error::InvalidConvention { location, message } => Error::InvalidConvention {
            location,
            message: crate::error::user_terms(&message),
        },
        Error::YamlSyntax { location, message } => Error::YamlSyntax {
            location,
            message: crate::error::user_terms(&message),
        },
        other => other,
    })
}

/// The nearest `ports.yaml`: in `start` or the closest parent directory.
///
/// # Errors
///
/// [`Error::ConventionNotFound`] when no directory up to the root has one,
/// [`Error::UnsafePath`] when the nearest one is a symbolic link to a file
/// outside its directory.
pub fn find_convention(start: &Path) -> Result<PathBuf, Error> {
    let absolute = std::path::absolute(start).unwrap_or_else(|_| start.to_owned());
    let mut dir = Some(absolute.as_path());
    while let Some(current) = dir {
        let candidate = current.join(CONVENTION_FILE_NAME);
        if candidate.is_file() {
            check_found_convention(current, &candidate)?;
            // A compose file that happens to be called ports.yaml is not the convention.
            if read_text(&candidate).map_or(true, |t| looks_like_convention(&t)) {
                return Ok(candidate);
            }
        }
        dir = current.parent();
    }
    Err(Error::ConventionNotFound {
        start: start.to_owned(),
    })
}

/// Reads and parses a convention file; locations name `path` as given.
///
/// # Errors
///
/// [`Error::Io`] and every error of [`Convention::from_yaml`].
pub fn load_convention(path: &Path) -> Result<Convention, Error> {
    let text = read_text(path)?;
    let name = path.display().to_string();
    // Programs call `load_ports` more than once; the file is read every time
    // (cheap) but parsed again only when its text changed.
    if let Ok(cache) = PARSED_CONVENTIONS.lock()
        && let Some((cached_text, convention)) = cache.get(&name)
        && *cached_text == text
    {
        return Ok(convention.clone());
    }
    let convention = convention_from_text(&name, &text)?;
    if let Ok(mut cache) = PARSED_CONVENTIONS.lock() {
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(name, (text, convention.clone()));
    }
    Ok(convention)
}

/// Conventions parsed by this process: path as named -> (text, convention).
static PARSED_CONVENTIONS: std::sync::Mutex<BTreeMap<String, (String, Convention)>> =
    std::sync::Mutex::new(BTreeMap::new());

/// Reads and parses a `.env` file; `${VAR}` inside it is expanded from
/// earlier keys, then from `lookup`.
///
/// # Errors
///
/// [`Error::Io`] and [`Error::DotenvSyntax`].
pub fn read_dotenv(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Dotenv, Error> {
    let text = read_text(path)?;
    parse_dotenv(&path.display().to_string(), &text, lookup)
}

/// The process environment as a map (variables that are not UTF-8 are skipped).
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// What [`load_ports`] reads.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The convention file; default: `ports.yaml` found upward from `cwd`.
    pub convention: Option<PathBuf>,
    /// The environment; default: the process environment.
    pub env: Option<BTreeMap<String, String>>,
    /// `.env` files read in order (later wins); the environment wins over all.
    pub env_files: Vec<PathBuf>,
    /// Where the upward search starts; default: the current directory.
    pub cwd: Option<PathBuf>,
    /// Where the program runs, for [`LoadedPorts::addresses`]; default:
    /// detected ([`detect_network`]).
    pub network: Option<crate::Network>,
}

/// Where this program runs: `PORT_CONVENTION_NETWORK` (`host` or
/// `compose`) in `env` when set, else inside the compose network when this
/// is a container (`/.dockerenv` or `/run/.containerenv` exists), else on
/// the host.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when `PORT_CONVENTION_NETWORK` is neither.
pub fn detect_network(env: &BTreeMap<String, String>) -> Result<crate::Network, Error> {
    if let Some(value) = env.get("PORT_CONVENTION_NETWORK").filter(|v| !v.is_empty()) {
        return value.parse();
    }
    let container = ["/.dockerenv", "/run/.containerenv"]
        .iter()
        .any(|p| Path::new(p).exists());
    Ok(if container {
        crate::Network::Compose
    } else {
        crate::Network::Host
    })
}

/// Loads the convention and returns its ports with environment overrides,
/// every value validated: the one call behind `loadPorts` (Node),
/// `load_ports` (Python) and Rust programs.
///
/// Precedence, lowest first: the convention, each env file in order, the
/// environment.
///
/// # Errors
///
/// [`Error::ConventionNotFound`], [`Error::Io`], convention errors,
/// [`Error::DotenvSyntax`], and [`Error::Validation`] with every problem.
pub fn load_ports(options: &LoadOptions) -> Result<LoadedPorts, Error> {
    let path = match &options.convention {
        Some(path) => path.clone(),
        None => {
            let cwd = match &options.cwd {
                Some(cwd) => cwd.clone(),
                None => std::env::current_dir().map_err(|source| Error::Io {
                    path: PathBuf::from("."),
                    source,
                })?,
            };
            find_convention(&cwd)?
        }
    };
    let convention = load_convention(&path)?;
    let env = options.env.clone().unwrap_or_else(process_env);
    let mut layered: BTreeMap<String, String> = BTreeMap::new();
    for file in &options.env_files {
        let lookup = |name: &str| env.get(name).or_else(|| layered.get(name)).cloned();
        let dotenv = read_dotenv(file, &lookup)?;
        layered.extend(dotenv.to_map());
    }
    layered.extend(env);
    let network = match options.network {
        Some(network) => network,
        None => detect_network(&layered)?,
    };
    Ok(
        resolve_ports(&convention, &|name| layered.get(name).cloned())?
            .for_network(&convention, network),
    )
}

/// Whether a file name may be a compose file: one Docker Compose reads, or
/// a common variant (`docker-compose.prod.yml`, `docker-compose-dev.yml`,
/// `app-compose.yml`, `compose-prod.yaml`, `monitoring.compose.yml` ...).
/// This is only the cheap first filter: the content decides (a YAML mapping
/// with a `services` mapping).
///
/// ```
/// use port_convention::io::is_compose_file_name;
/// assert!(is_compose_file_name("docker-compose.kong.yml"));
/// assert!(is_compose_file_name("stack.compose.yaml"));
/// assert!(is_compose_file_name("docker-compose-dev.yml"));
/// assert!(is_compose_file_name("app-compose.yml"));
/// assert!(!is_compose_file_name("kong-declarative.yml"));
/// assert!(!is_compose_file_name("composer.yml"));
/// ```
pub fn is_compose_file_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
    else {
        return false;
    };
    let stem = stem.to_ascii_lowercase();
    // `compose` as a whole word of the stem, words split at `.`, `-`, `_`.
    stem.split(['.', '-', '_']).any(|word| word == "compose")
}

/// Whether a file name is the convention's (`ports.yaml`, `ports.yml`): a
/// compose file may carry that name too, so the content decides.
fn is_ports_file_name(name: &str) -> bool {
    name == "ports.yaml" || name == "ports.yml"
}

/// Whether a text is a port convention rather than a compose file: it has
/// a top-level `ranges` or `version` key, which compose files do not use
/// the same way (a compose `version:` comes with services that have images).
fn looks_like_convention(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("ranges:"))
        || (text.lines().any(|l| l.starts_with("version:"))
            && !text.contains("image:")
            && !text.contains("build:"))
}

/// Whether a file name is a dotenv file worth checking: `.env`, `.env.*`
/// (`.env.example`, `.env.local`), `*.env` and `*.env.example`.
///
/// ```
/// use port_convention::io::is_env_file_name;
/// assert!(is_env_file_name(".env") && is_env_file_name(".env.example"));
/// assert!(is_env_file_name("tp-capital.env.example"));
/// assert!(!is_env_file_name("environment.ts"));
/// ```
pub fn is_env_file_name(name: &str) -> bool {
    name == ".env"
        || name.starts_with(".env.")
        || name.ends_with(".env")
        || name.ends_with(".env.example")
}

/// How to read a tree.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// `--env-file`s: when given, they replace each compose project's `.env`
    /// as interpolation input (later files win).
    pub env_files: Vec<PathBuf>,
    /// The process environment; default: the real one. It wins over `.env`.
    pub env: Option<BTreeMap<String, String>>,
    /// Include and exclude globs (relative to the root).
    pub discovery: crate::Discovery,
}

/// One glob set from the globs of the convention (`discovery.*` or
/// `source.*`, matched against `/`-separated names relative to the root);
/// `set` names them in the error when the set as a whole cannot be built.
pub(crate) fn build_globs(globs: &[String], set: &str) -> Result<globset::GlobSet, Error> {
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let parsed = globset::GlobBuilder::new(glob)
            .literal_separator(false)
            .build()
            .map_err(|err| Error::InvalidGlob {
                glob: glob.clone(),
                reason: err.to_string(),
            })?;
        builder.add(parsed);
    }
    builder.build().map_err(|err| Error::InvalidGlob {
        glob: set.to_owned(),
        reason: err.to_string(),
    })
}

/// The name of `path` relative to `root`, with `/` separators.
fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Finds and reads, in parallel, every compose file and `.env` file under
/// `root`, respecting `.gitignore` (also outside a git checkout) and the
/// discovery globs. Names are relative to `root` with `/` separators; a file
/// that cannot be read is listed with the reason.
///
/// Files Docker Compose itself reads when they exist (a project's `.env`,
/// its default and override files) are read even when ignored, and said so
/// in [`crate::check::TreeTexts::notes`]: they are what runs on this
/// machine. Directories named in `discovery.skip_dirs` (dependencies, test
/// data) are not entered. A symbolic link to a file inside the root is
/// read; one that leads out of the root is not followed.
///
/// # Errors
///
/// [`Error::Io`] when `root` cannot be walked, [`Error::NotADirectory`]
/// when it is not a directory or a glob is invalid.
pub fn read_tree_texts(
    root: &Path,
    discovery: &crate::Discovery,
) -> Result<crate::check::TreeTexts, Error> {
    use rayon::prelude::*;

    let metadata = std::fs::metadata(root).map_err(|source| Error::Io {
        path: root.to_owned(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(Error::NotADirectory {
            path: root.to_owned(),
        });
    }
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let set = format!("(the discovery globs under {})", root.display());
    let include = build_globs(&discovery.include, &set)?;
    let exclude = build_globs(&discovery.exclude, &set)?;
    let mut tree = crate::check::TreeTexts {
        root_name: canonical_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..crate::check::TreeTexts::default()
    };
    let mut paths = Vec::new();
    let skipped = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // Only the repository's own `.gitignore` files hide files: not the
    // ignore files of directories above the root, `.ignore` files, or the
    // local `.git/info/exclude`, which a user cannot see in the repository
    // (and a hostile one could use to hide a compose file).
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .parents(false)
        .ignore(false)
        .git_exclude(false)
        .git_global(false)
        .filter_entry({
            let skip_dirs = discovery.skip_dirs.clone();
            let exclude_dirs = exclude.clone();
            let root = root.to_owned();
            let skipped = std::sync::Arc::clone(&skipped);
            let include_any = !discovery.include.is_empty();
            move |entry| {
                // Git's own files and migrate's backups are not the
                // repository's.
                if entry.file_name() == ".git" || entry.file_name() == ".port-convention" {
                    return false;
                }
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                if is_dir
                    && !include_any
                    && entry.depth() > 0
                    && skip_dirs
                        .iter()
                        .any(|d| entry.file_name().to_string_lossy() == d.as_str())
                {
                    if let Ok(mut list) = skipped.lock() {
                        list.push(relative_name(&root, entry.path()));
                    }
                    return false;
                }
                // `discovery.exclude` names files or directories.
                if is_dir
                    && entry.depth() > 0
                    && exclude_dirs.is_match(relative_name(&root, entry.path()))
                {
                    return false;
                }
                true
            }
        })
        .build_parallel();
    // The walk runs on every core, and each file is read where it is found:
    // reading is most of a check's system time.
    let found: std::sync::Mutex<Vec<Walked>> = std::sync::Mutex::new(Vec::new());
    // With `discovery.include` the walk enters `skip_dirs` for compose files;
    // source files in them are still not the repository's own.
    let source_skip_dirs: &[String] = if discovery.include.is_empty() {
        &[]
    } else {
        &discovery.skip_dirs
    };
    walker.run(|| {
        let found = &found;
        let canonical_root = &canonical_root;
        let (include, exclude) = (&include, &exclude);
        Box::new(move |entry| {
            let walked = walked(
                root,
                canonical_root,
                (include, exclude),
                source_skip_dirs,
                entry,
            );
            if let Some(walked) = walked
                && let Ok(mut list) = found.lock()
            {
                list.push(walked);
            }
            ignore::WalkState::Continue
        })
    });
    let mut found = found.into_inner().unwrap_or_default();
    // Threads finish in any order; everything below is in path order.
    found.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.problem().cmp(b.problem()))
    });
    let mut walk_problems = Vec::new();
    let mut gitignores: Vec<String> = Vec::new();
    let mut read_already = Vec::new();
    for walked in found {
        if walked.source {
            tree.source_candidates.push(walked.name.clone());
        }
        match walked.kind {
            WalkedKind::Problem(problem) => walk_problems.push(problem),
            WalkedKind::Gitignore => gitignores.push(walked.name),
            WalkedKind::Source => {}
            WalkedKind::Compose(text) => {
                tree.compose.push(walked.name.clone());
                read_already.push((walked.name, text));
            }
            WalkedKind::Env(text) => {
                tree.env.push(walked.name.clone());
                read_already.push((walked.name, text));
            }
        }
    }
    // What compose reads by itself in each directory with a compose file,
    // even when ignored.
    let directories: std::collections::BTreeSet<String> = tree
        .compose
        .iter()
        .map(|f| crate::project::directory_of(f).to_owned())
        .collect();
    let known: std::collections::BTreeSet<String> =
        tree.compose.iter().chain(&tree.env).cloned().collect();
    // A file the walk did not list either does not exist or is ignored by
    // a `.gitignore` of the repository: only the latter is worth a look on
    // disk (a tree without ignore rules costs no extra system call).
    let ignored = IgnoredBy::new(root, &gitignores);
    for directory in &directories {
        let names = crate::project::DEFAULT_FILE_NAMES
            .iter()
            .chain(crate::project::OVERRIDE_FILE_NAMES)
            .chain(&[".env"]);
        for file_name in names {
            let name = if directory.is_empty() {
                (*file_name).to_owned()
            } else {
                format!("{directory}/{file_name}")
            };
            if known.contains(&name)
                || is_excluded(&exclude, &name)
                || !ignored.is_ignored(&name, false)
            {
                continue;
            }
            let path = root.join(&name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            tree.notes.push(crate::check::DiscoveryNote {
                path: name.clone(),
                kind: "read-although-ignored",
                reason: "ignored by .gitignore, but Docker Compose reads it when it exists".into(),
            });
            if *file_name == ".env" {
                tree.env.push(name.clone());
            } else {
                tree.compose.push(name.clone());
            }
            paths.push((name, path));
        }
    }
    // Git deploys what it tracks whatever .gitignore says: a tracked compose
    // or .env file that an ignore rule hides is read too.
    if !gitignores.is_empty() {
        let skip = &discovery.skip_dirs;
        let known: std::collections::BTreeSet<&String> =
            tree.compose.iter().chain(&tree.env).collect();
        let mut found = Vec::new();
        for name in git_tracked_under(root) {
            let file_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
            let wanted = is_compose_file_name(&file_name) || is_env_file_name(&file_name);
            let in_skipped_dir = name
                .split('/')
                .rev()
                .skip(1)
                .any(|part| skip.iter().any(|d| d == part));
            if !wanted || in_skipped_dir || known.contains(&name) || is_excluded(&exclude, &name) {
                continue;
            }
            let path = root.join(&name);
            match std::fs::canonicalize(&path) {
                Ok(target) if target.starts_with(&canonical_root) && target.is_file() => {}
                _ => continue,
            }
            found.push((name, path, is_env_file_name(&file_name)));
        }
        for (name, path, is_env) in found {
            tree.notes.push(crate::check::DiscoveryNote {
                path: name.clone(),
                kind: "read-although-ignored",
                reason: "tracked by git although .gitignore lists it: git deploys it".into(),
            });
            if is_env {
                tree.env.push(name.clone());
            } else {
                tree.compose.push(name.clone());
            }
            paths.push((name, path));
        }
    }
    let mut skipped: Vec<String> = skipped.lock().map(|l| l.clone()).unwrap_or_default();
    // A skipped directory that .gitignore hides (node_modules usually is)
    // is never met by the walk: look beside each compose project for one.
    for directory in directories.iter().chain(std::iter::once(&String::new())) {
        for name in &discovery.skip_dirs {
            let dir = if directory.is_empty() {
                name.clone()
            } else {
                format!("{directory}/{name}")
            };
            if !skipped.contains(&dir)
                && ignored.is_ignored(&dir, true)
                && std::fs::symlink_metadata(root.join(&dir)).is_ok_and(|m| m.is_dir())
            {
                skipped.push(dir);
            }
        }
    }
    skipped.sort();
    skipped.dedup();
    for dir in skipped {
        for file in compose_files_under(root, &dir) {
            tree.notes.push(crate::check::DiscoveryNote {
                path: file,
                kind: "skipped",
                reason: format!(
                    "under {dir}/, a dependency or test-data directory (discovery.skip_dirs)"
                ),
            });
        }
    }
    for problem in walk_problems {
        tree.notes.push(crate::check::DiscoveryNote {
            path: String::new(),
            kind: "unreadable",
            reason: problem,
        });
    }
    tree.compose.sort();
    tree.compose.dedup();
    tree.env.sort();
    tree.env.dedup();
    let mut read: Vec<(String, Result<String, Error>)> = paths
        .into_par_iter()
        .map(|(name, path)| {
            let text = read_text(&path);
            (name, text)
        })
        .collect();
    read.append(&mut read_already);
    for (name, text) in read {
        match text {
            Ok(text) => {
                tree.texts.insert(name, text);
            }
            Err(err) => {
                tree.unreadable.insert(name, err.to_string());
            }
        }
    }
    // A `ports.yaml` that is the convention is not a compose file.
    tree.compose.retain(|name| {
        let file_name = name.rsplit('/').next().unwrap_or(name);
        !(is_ports_file_name(file_name)
            && tree
                .texts
                .get(name)
                .is_some_and(|t| looks_like_convention(t)))
    });
    Ok(tree)
}

/// Whether `discovery.exclude` names a file (relative to the root) or one
/// of the directories it is in.
pub(crate) fn is_excluded(exclude: &globset::GlobSet, name: &str) -> bool {
    exclude.is_match(name)
        || name
            .match_indices('/')
            .any(|(i, _)| exclude.is_match(name.get(..i).unwrap_or_default()))
}

/// What the walk found at one entry.
struct Walked {
    /// Relative to the root (empty for a problem).
    name: String,
    kind: WalkedKind,
    /// Whether the source rules may scan it (of a source kind by name).
    source: bool,
}

impl Walked {
    fn problem(&self) -> &str {
        match &self.kind {
            WalkedKind::Problem(problem) => problem,
            _ => "",
        }
    }
}

enum WalkedKind {
    /// An entry that could not be read (an unreadable directory).
    Problem(String),
    /// A repository `.gitignore`.
    Gitignore,
    /// A compose file (or a `ports.yaml`, or a file `discovery.include`
    /// names), read.
    Compose(Result<String, Error>),
    /// An `.env`-style file, read.
    Env(Result<String, Error>),
    /// A file only the source rules may want (not read here).
    Source,
}

/// One entry of the walk: what it is, and the text of a file discovery
/// wants. A symbolic link is followed only to a regular file inside the
/// root. `source_skip_dirs`: directories the walk enters although source
/// files in them are not scanned.
fn walked(
    root: &Path,
    canonical_root: &Path,
    (include, exclude): (&globset::GlobSet, &globset::GlobSet),
    source_skip_dirs: &[String],
    entry: Result<ignore::DirEntry, ignore::Error>,
) -> Option<Walked> {
    let entry = match entry {
        Ok(entry) => entry,
        // An unreadable directory is a note, not the end of the check.
        Err(err) => {
            return Some(Walked {
                name: String::new(),
                kind: WalkedKind::Problem(err.to_string()),
                source: false,
            });
        }
    };
    let file_type = entry.file_type()?;
    let path = if file_type.is_symlink() {
        match std::fs::canonicalize(entry.path()) {
            Ok(target) if target.starts_with(canonical_root) && target.is_file() => entry.path(),
            _ => return None,
        }
    } else if file_type.is_file() {
        entry.path()
    } else {
        return None;
    };
    let name = relative_name(root, path);
    if entry.file_name() == ".gitignore" {
        return Some(Walked {
            name,
            kind: WalkedKind::Gitignore,
            source: false,
        });
    }
    if is_excluded(exclude, &name) {
        return None;
    }
    let file_name = entry.file_name().to_string_lossy();
    let source = crate::SourceKind::of_file_name(&file_name).is_some()
        && (source_skip_dirs.is_empty()
            || !name
                .split('/')
                .rev()
                .skip(1)
                .any(|part| source_skip_dirs.iter().any(|d| d == part)));
    let kind = if is_compose_file_name(&file_name)
        || is_ports_file_name(&file_name)
        || include.is_match(&name)
    {
        WalkedKind::Compose(read_text(path))
    } else if is_env_file_name(&file_name) {
        WalkedKind::Env(read_text(path))
    } else if source {
        WalkedKind::Source
    } else {
        return None;
    };
    Some(Walked { name, kind, source })
}

/// The largest git index read (a monorepo of a million files has ~100 MB).
const MAX_GIT_INDEX_BYTES: u64 = 256 * 1024 * 1024;

/// The files git tracks under `root` (relative to it), read from the index
/// of the repository `root` is in; none when it is in no repository or the
/// index cannot be read. Git itself is not run.
fn git_tracked_under(root: &Path) -> Vec<String> {
    let Ok(root) = std::fs::canonicalize(root) else {
        return Vec::new();
    };
    let Some(top) = root.ancestors().find(|dir| dir.join(".git").exists()) else {
        return Vec::new();
    };
    let dot_git = top.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        // A worktree or submodule: `.git` is a file `gitdir: PATH`.
        let Ok(text) = read_text(&dot_git) else {
            return Vec::new();
        };
        let Some(dir) = text.trim().strip_prefix("gitdir:") else {
            return Vec::new();
        };
        top.join(dir.trim())
    };
    // Only a real git directory: a `.git` file in an unpacked archive could
    // point anywhere.
    if !(git_dir.join("HEAD").is_file() && git_dir.join("objects").is_dir()) {
        return Vec::new();
    }
    let index = git_dir.join("index");
    let Ok(meta) = std::fs::metadata(&index) else {
        return Vec::new();
    };
    if !meta.is_file() || meta.len() > MAX_GIT_INDEX_BYTES {
        return Vec::new();
    }
    let Ok(bytes) = std::fs::read(&index) else {
        return Vec::new();
    };
    // A repository of SHA-256 objects says so in its config.
    let sha256 = read_text(&git_dir.join("config")).is_ok_and(|c| {
        c.lines().any(|l| {
            let l = l.replace([' ', '\t'], "").to_ascii_lowercase();
            l == "objectformat=sha256"
        })
    });
    let Ok(paths) = crate::git_index::tracked_paths(&bytes, if sha256 { 32 } else { 20 }) else {
        return Vec::new();
    };
    let prefix = root
        .strip_prefix(top)
        .map(|p| relative_name(Path::new(""), p))
        .unwrap_or_default();
    paths
        .into_iter()
        .filter_map(|p| {
            if prefix.is_empty() {
                Some(p)
            } else {
                p.strip_prefix(&format!("{prefix}/")).map(str::to_owned)
            }
        })
        .collect()
}

/// The repository's `.gitignore` files, to tell an ignored path from one
/// that does not exist without asking the file system.
struct IgnoredBy {
    root: PathBuf,
    /// (directory relative to the root, its matcher), shallowest first.
    matchers: Vec<(String, ignore::gitignore::Gitignore)>,
}

impl IgnoredBy {
    fn new(root: &Path, gitignores: &[String]) -> Self {
        let mut matchers: Vec<(String, ignore::gitignore::Gitignore)> = gitignores
            .iter()
            .filter_map(|file| {
                let dir = crate::project::directory_of(file).to_owned();
                let mut builder = ignore::gitignore::GitignoreBuilder::new(root.join(&dir));
                builder.add(root.join(file));
                Some((dir, builder.build().ok()?))
            })
            .collect();
        matchers.sort_by_key(|(dir, _)| dir.matches('/').count() + usize::from(!dir.is_empty()));
        IgnoredBy {
            root: root.to_owned(),
            matchers,
        }
    }

    /// Whether a `.gitignore` on the way to `name` ignores it (the deepest
    /// one that has a say wins, as in git).
    fn is_ignored(&self, name: &str, is_dir: bool) -> bool {
        let path = self.root.join(name);
        let mut ignored = false;
        for (dir, matcher) in &self.matchers {
            let applies = dir.is_empty() || name.starts_with(&format!("{dir}/"));
            if !applies {
                continue;
            }
            match matcher.matched_path_or_any_parents(&path, is_dir) {
                ignore::Match::Ignore(_) => ignored = true,
                ignore::Match::Whitelist(_) => ignored = false,
                ignore::Match::None => {}
            }
        }
        ignored
    }
}

/// How many entries of a skipped directory are looked at to list the
/// compose files it holds (a `node_modules` can hold a million).
const SKIPPED_DIR_BUDGET: usize = 20_000;

/// The compose-named files under `dir` (relative to `root`), for the
/// inventory of what was skipped; at most [`SKIPPED_DIR_BUDGET`] entries
/// are looked at.
fn compose_files_under(root: &Path, dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root.join(dir))
        .hidden(false)
        .require_git(false)
        .build();
    for entry in walker.take(SKIPPED_DIR_BUDGET).flatten() {
        if entry.file_type().is_some_and(|t| t.is_file())
            && is_compose_file_name(&entry.file_name().to_string_lossy())
        {
            found.push(relative_name(root, entry.path()));
        }
    }
    found.sort();
    found
}

/// Reads, into `tree`, compose files that projects reference (`include`,
/// `extends.file`, `COMPOSE_FILE`, declared projects) but discovery did not
/// find by name: returns whether anything new was read.
fn read_referenced(
    root: &Path,
    tree: &mut crate::check::TreeTexts,
    scan: &crate::check::Scan,
) -> bool {
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let mut added = false;
    let missing: Vec<String> = scan
        .projects
        .projects
        .iter()
        .filter_map(|p| p.error.as_ref()?.path.clone())
        .collect();
    for name in missing {
        if tree.texts.contains_key(&name) || tree.unreadable.contains_key(&name) {
            continue;
        }
        let path = root.join(&name);
        match std::fs::canonicalize(&path) {
            Ok(target) if target.starts_with(&canonical_root) && target.is_file() => {}
            _ => continue,
        }
        match read_text(&path) {
            Ok(text) => {
                tree.texts.insert(name.clone(), text);
            }
            Err(err) => {
                tree.unreadable.insert(name.clone(), err.to_string());
            }
        }
        tree.compose.push(name);
        added = true;
    }
    tree.compose.sort();
    tree.compose.dedup();
    added
}

/// Reads and parses every compose file and `.env` file under `root`
/// ([`read_tree_texts`], then [`crate::check::scan_texts_with`]), and the
/// files its projects reference.
///
/// # Errors
///
/// As [`read_tree_texts`], and errors reading `--env-file`s. Problems inside
/// files are findings in the result, not errors.
pub fn scan_tree(root: &Path, options: &ScanOptions) -> Result<crate::check::Scan, Error> {
    scan_tree_with(root, options, None)
}

/// [`scan_tree`] with the convention (its projects and hosts).
///
/// # Errors
///
/// As [`scan_tree`].
pub fn scan_tree_with(
    root: &Path,
    options: &ScanOptions,
    convention: Option<&Convention>,
) -> Result<crate::check::Scan, Error> {
    scan_tree_texts(root, options, convention).map(|(_, scan)| scan)
}

/// [`scan_tree_with`], also returning the texts read (what `init` needs to
/// see images).
///
/// # Errors
///
/// As [`scan_tree`].
pub fn scan_tree_texts(
    root: &Path,
    options: &ScanOptions,
    convention: Option<&Convention>,
) -> Result<(crate::check::TreeTexts, crate::check::Scan), Error> {
    let mut tree = read_tree_texts(root, &options.discovery)?;
    let process = options.env.clone().unwrap_or_else(process_env);
    let overrides = if options.env_files.is_empty() {
        None
    } else {
        let mut merged = BTreeMap::new();
        for file in &options.env_files {
            let lookup = |name: &str| process.get(name).or_else(|| merged.get(name)).cloned();
            let dotenv = read_dotenv(file, &lookup)?;
            merged.extend(dotenv.to_map());
        }
        Some(merged)
    };
    let mut scan = crate::check::scan_texts_with(&tree, &process, overrides.as_ref(), convention);
    // Each round reads what the last one found referenced; references are
    // at most as deep as the files are many, but a few rounds cover real trees.
    for _ in 0..8 {
        if !read_referenced(root, &mut tree, &scan) {
            break;
        }
        scan = crate::check::scan_texts_with(&tree, &process, overrides.as_ref(), convention);
    }
    Ok((tree, scan))
}

/// What [`check`] reads.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Directories to scan; default: the directory of the convention, else
    /// the current directory.
    pub paths: Vec<PathBuf>,
    /// The convention file; default: `ports.yaml` found upward from the first
    /// path (or the current directory). None found: clashes and file problems
    /// are still checked.
    pub convention: Option<PathBuf>,
    /// `--env-file`s replacing each project's `.env` for interpolation.
    pub env_files: Vec<PathBuf>,
    /// The process environment; default: the real one.
    pub env: Option<BTreeMap<String, String>>,
    /// Only validate the convention; read no compose or `.env` file.
    pub convention_only: bool,
}

/// Everything a check produced.
#[derive(Debug)]
pub struct CheckOutcome {
    /// Findings and counts.
    pub report: crate::report::Report,
    /// What was read (none with `convention_only`).
    pub scan: Option<crate::check::Scan>,
    /// The convention used, with the path it was read from.
    pub convention: Option<(PathBuf, Convention)>,
    /// The directories scanned.
    pub roots: Vec<PathBuf>,
}

impl CheckOutcome {
    /// The path of a file a finding names (files are named relative to the
    /// scanned root; the convention by its path).
    pub fn path_of(&self, file: &str) -> PathBuf {
        if let Some((path, c)) = &self.convention
            && c.file == file
        {
            return path.clone();
        }
        match self.roots.as_slice() {
            [root] => root.join(file),
            _ => PathBuf::from(file),
        }
    }
}

/// Shows `path` relative to the working directory when it is below it.
fn shown(path: PathBuf) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => path.strip_prefix(&cwd).map(Path::to_owned).unwrap_or(path),
        Err(_) => path,
    }
}

/// Runs the whole check: finds the convention and the roots, reads every
/// compose and `.env` file, applies every rule. File names are relative to
/// the scanned root; with several roots they carry the root as a prefix.
///
/// # Errors
///
/// Whatever keeps the check from running: an unreadable or invalid
/// convention, a missing directory, a bad glob, an unreadable `--env-file`.
pub fn check(options: &CheckOptions) -> Result<CheckOutcome, Error> {
    let convention = match &options.convention {
        Some(path) => Some((path.clone(), load_convention(path)?)),
        None => {
            let start = options
                .paths
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            match find_convention(&start) {
                Ok(found) => {
                    let path = shown(found);
                    let convention = load_convention(&path)?;
                    Some((path, convention))
                }
                Err(Error::ConventionNotFound { .. }) => None,
                Err(other) => return Err(other),
            }
        }
    };
    let roots = if options.paths.is_empty() {
        match &convention {
            Some((path, _)) => vec![
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(Path::to_owned)
                    .unwrap_or_else(|| PathBuf::from(".")),
            ],
            None => vec![PathBuf::from(".")],
        }
    } else {
        options.paths.clone()
    };
    let conv = convention.as_ref().map(|(_, c)| c);
    if options.convention_only {
        let Some(c) = conv else {
            return Err(Error::ConventionNotFound {
                start: roots.first().cloned().unwrap_or_default(),
            });
        };
        let summary = crate::report::Summary {
            files: 1,
            services: c.services.len(),
            mappings: c.assignments().count(),
            ..Default::default()
        };
        let report = crate::report::Report::new(crate::validate_convention(c), summary);
        return Ok(CheckOutcome {
            report,
            scan: None,
            convention,
            roots,
        });
    }
    let scan_options = ScanOptions {
        env_files: options.env_files.clone(),
        env: options.env.clone(),
        discovery: conv.map(|c| c.discovery.clone()).unwrap_or_default(),
    };
    let mut scan = crate::check::Scan::default();
    let prefix_names = roots.len() > 1;
    let mut source = source::SourceOutcome::default();
    for root in &roots {
        // One walk finds compose, `.env` and source files.
        let (tree, mut part) = scan_tree_texts(root, &scan_options, conv)?;
        let candidates = tree.source_candidates;
        if let Some(c) = conv {
            let mut found = source::scan_sources(root, c, &part, &candidates)?;
            if prefix_names {
                for f in &mut found.findings {
                    if let Some(at) = &mut f.location {
                        at.file = format!("{}/{}", root.display(), at.file);
                    }
                }
            }
            source.files += found.files;
            source.suppressed += found.suppressed;
            source.findings.extend(found.findings);
        }
        if prefix_names {
            let prefix = root.display().to_string();
            for file in &mut part.compose_files {
                file.file = format!("{prefix}/{}", file.file);
                for claim in &mut file.claims {
                    claim.location.file = file.file.clone();
                }
                for finding in &mut file.findings {
                    if let Some(at) = &mut finding.location {
                        at.file.clone_from(&file.file);
                    }
                }
            }
            for env in &mut part.env_files {
                env.file = format!("{prefix}/{}", env.file);
            }
            part.projects.prefix_paths(&prefix);
            for note in &mut part.notes {
                note.path = format!("{prefix}/{}", note.path);
            }
        }
        scan.compose_files.extend(part.compose_files);
        scan.env_files.extend(part.env_files);
        scan.projects.projects.extend(part.projects.projects);
        scan.projects.fragments.extend(part.projects.fragments);
        scan.projects.findings.extend(part.projects.findings);
        scan.notes.extend(part.notes);
    }
    let mut findings = crate::check::check_repository(conv, &scan);
    findings.extend(source.findings);
    let summary = crate::report::Summary {
        files: scan.compose_files.len() + scan.env_files.len() + usize::from(conv.is_some()),
        services: scan.compose_files.iter().map(|f| f.services.len()).sum(),
        mappings: scan.claims().count(),
        source_files: source.files,
        suppressed: source.suppressed,
        ..Default::default()
    };
    Ok(CheckOutcome {
        report: crate::report::Report::new(findings, summary)
            .with_projects(&scan.projects.projects),
        scan: Some(scan),
        convention,
        roots,
    })
}

/// A convention from either a path or YAML text: an existing file is read;
/// anything else with a newline or a `:` is parsed as YAML text; the rest is
/// a path that does not exist ([`Error::Io`]).
///
/// ```
/// use port_convention::io::convention_from_path_or_text;
/// let c = convention_from_path_or_text("version: 1.0.0\n")?;
/// assert_eq!(c.file, "<text>");
/// assert_eq!(convention_from_path_or_text("missing/ports.yaml").unwrap_err().code(), "io");
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Io`] and every error of [`Convention::from_yaml`].
pub fn convention_from_path_or_text(path_or_text: &str) -> Result<Convention, Error> {
    let path = Path::new(path_or_text);
    let looks_like_text = path_or_text.contains('\n') || path_or_text.contains(": ");
    if !looks_like_text || path.is_file() {
        return load_convention(path);
    }
    Convention::from_yaml("<text>", path_or_text)
}

/// The convention at `path`, or the nearest `ports.yaml` upward from the
/// current directory.
///
/// # Errors
///
/// [`Error::ConventionNotFound`], [`Error::Io`] and convention errors.
pub fn load_convention_or_find(path: Option<&Path>) -> Result<(PathBuf, Convention), Error> {
    let path = match path {
        Some(p) => p.to_owned(),
        None => {
            let cwd = std::env::current_dir().map_err(|source| Error::Io {
                path: PathBuf::from("."),
                source,
            })?;
            shown(find_convention(&cwd)?)
        }
    };
    let convention = load_convention(&path)?;
    Ok((path, convention))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_dot_dot_and_links_out_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(dir.path().join("secret.yaml"), "x: 1\n").unwrap();
        std::fs::write(root.join("sub/ports.yaml"), "version: 1.0.0\n").unwrap();
        let canonical = std::fs::canonicalize(&root).unwrap();
        assert_eq!(
            confine(&root, Path::new("sub/ports.yaml")).unwrap(),
            canonical.join("sub/ports.yaml")
        );
        assert_eq!(confine(&root, Path::new(".")).unwrap(), canonical);
        assert_eq!(
            confine(&root, &root.join("sub/../sub")).unwrap(),
            canonical.join("sub")
        );
        let refused = |path: &Path| confine(&root, path).unwrap_err().code();
        assert_eq!(refused(Path::new("..")), "unsafe-path");
        assert_eq!(refused(Path::new("sub/../../secret.yaml")), "unsafe-path");
        assert_eq!(refused(&dir.path().join("secret.yaml")), "unsafe-path");
        assert_eq!(refused(Path::new("/")), "unsafe-path");
        assert_eq!(refused(Path::new("missing")), "io");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.yaml"), root.join("link.yaml"))
                .unwrap();
            std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
            assert_eq!(refused(Path::new("link.yaml")), "unsafe-path");
            assert_eq!(refused(Path::new("up")), "unsafe-path");
            // A way out and back in ends inside: what is read is inside.
            assert_eq!(
                confine(&root, Path::new("up/root/sub")).unwrap(),
                canonical.join("sub")
            );
            std::os::unix::fs::symlink(root.join("sub"), root.join("inside")).unwrap();
            assert_eq!(
                confine(&root, Path::new("inside")).unwrap(),
                canonical.join("sub")
            );
        }
    }

    #[test]
    fn a_changed_convention_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ports.yaml");
        std::fs::write(&path, "version: 1.0.0\nname: first\n").unwrap();
        assert_eq!(
            load_convention(&path).unwrap().name.as_deref(),
            Some("first")
        );
        assert_eq!(
            load_convention(&path).unwrap().name.as_deref(),
            Some("first")
        );
        std::fs::write(&path, "version: 1.0.0\nname: again\n").unwrap();
        assert_eq!(
            load_convention(&path).unwrap().name.as_deref(),
            Some("again")
        );
        std::fs::write(&path, "version: [\n").unwrap();
        assert_eq!(load_convention(&path).unwrap_err().code(), "yaml-syntax");
    }
}
