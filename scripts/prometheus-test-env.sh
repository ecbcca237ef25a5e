#!/usr/bin/env bash
# The real monitoring components of the render/openmetrics end-to-end tests:
# Debian's prometheus (with promtool), prometheus-node-exporter, and
# librsvg2-bin (rsvg-convert draws the SVG port map).
#
#   bash scripts/prometheus-test-env.sh     install them (as root, when missing); print their versions
#
# Nothing is started here and no service is enabled: the tests run their own
# Prometheus and node_exporter on 127.0.0.1, on free ports, in a temporary
# directory, and stop them. Exit 3: the components are missing and this is
# not root (the tests then print SKIPPED, or fail under CI=true).
set -euo pipefail

have() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
    && command -v prometheus-node-exporter >/dev/null 2>&1 && command -v rsvg-convert >/dev/null 2>&1; }

if ! have; then
    if [ "$(id -u)" != 0 ]; then
        echo "prometheus-test-env: prometheus, promtool, prometheus-node-exporter or rsvg-convert missing and not root: cannot install" >&2
        exit 3
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "prometheus-test-env: no apt-get here: install prometheus, prometheus-node-exporter and librsvg2-bin yourself" >&2
        exit 3
    fi
    echo "prometheus-test-env: installing prometheus, prometheus-node-exporter and librsvg2-bin" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The packages' services are not started: the tests run their own.
    policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt-get update -qq >&2
    status=0
    apt-get install -y -qq --no-install-recommends prometheus prometheus-node-exporter librsvg2-bin >&2 || status=$?
    [ -z "$policy_added" ] || rm -f /usr/sbin/policy-rc.d
    [ "$status" = 0 ] || exit "$status"
fi
prometheus --version 2>&1 | head -n 1
prometheus-node-exporter --version 2>&1 | head -n 1
rsvg-convert --version 2>&1 | head -n 1
