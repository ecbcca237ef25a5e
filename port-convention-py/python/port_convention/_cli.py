"""The ``port-convention`` console script: the Rust command line itself,
run in this process through the extension module (no second implementation,
no downloaded binary)."""

import signal
import sys

from .port_convention import run_cli


def main() -> int:
    """Run ``port-convention`` with this process's arguments; returns its exit code."""
    # Python ignores SIGPIPE and turns SIGINT into KeyboardInterrupt, which
    # only Python code can raise: while the command runs, Ctrl-C and a closed
    # pipe must act on it as on the native binary.
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    except ValueError:
        pass  # not the main thread: the caller keeps its handlers
    sys.stdout.flush()
    sys.stderr.flush()
    return run_cli(["port-convention", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
