#!/usr/bin/env bash
# A private Docker daemon for the live end-to-end tests.
#
#   bash scripts/docker-test-env.sh [start] [DIR]   install (as root, when missing) and start
#                                                   dockerd; print its socket path on stdout
#   bash scripts/docker-test-env.sh stop [DIR]      stop that daemon (and its containers)
#
# DIR (default: $PORT_CONVENTION_DOCKER_DIR, else /tmp/port-convention-docker) holds the data root,
# the socket (DIR/docker.sock), the pid file and the log. Idempotent: a daemon already answering on
# DIR/docker.sock is reused. The daemon runs with --iptables=false (no host firewall changes) and
# its own data root, so it never touches a system daemon. Exit 3: docker cannot be provided here
# (not root and not installed); the tests then print SKIPPED (or fail under CI=true).
set -euo pipefail

action="${1:-start}"
case "$action" in
start | stop) shift || true ;;
*) action=start ;;
esac
dir="${1:-${PORT_CONVENTION_DOCKER_DIR:-/tmp/port-convention-docker}}"
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"

answers() { docker -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "$action" = stop ]; then
    if [ -S "$sock" ] && answers; then
        ids="$(docker -H "unix://$sock" ps -aq || true)"
        [ -z "$ids" ] || docker -H "unix://$sock" rm -f $ids >/dev/null 2>&1 || true
        # A network left when the daemon stops leaves its bridge (br-...)
        # in the host, and its subnet is then never handed out again.
        docker -H "unix://$sock" network prune -f >/dev/null 2>&1 || true
    fi
    if [ -f "$pidfile" ]; then
        pid="$(cat "$pidfile")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 \
    || ! [ -x /bin/busybox ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "docker-test-env: dockerd, docker or busybox-static missing and not root: cannot install" >&2
        exit 3
    fi
    echo "docker-test-env: installing docker.io and busybox-static" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq docker.io busybox-static >&2
fi

mkdir -p "$dir"
if [ -S "$sock" ] && answers; then
    echo "$sock"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "docker-test-env: starting dockerd needs root" >&2
    exit 3
fi
rm -f "$sock"
# setsid: the daemon outlives this script and is not in the caller's process group.
setsid dockerd --iptables=false --ip6tables=false \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
    -H "unix://$sock" >"$dir/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 1 300); do
    if [ -S "$sock" ] && answers; then
        echo "$sock"
        exit 0
    fi
    sleep 0.1
done
echo "docker-test-env: dockerd did not answer on $sock within 30 s; log:" >&2
tail -n 20 "$dir/dockerd.log" >&2 || true
exit 1
