"""Hold thousands of sockets until killed: the load of benches/live.

Usage: python3 hold.py READY_FILE [TCP4 TCP6 UDP4]  (default 2000 500 500)
Binds TCP listeners on 127.0.0.1 and ::1 and UDP sockets on 127.0.0.1 on
ports from 20000 up (skipping ports already in use), writes the ports held
(one "proto addr port" a line) to READY_FILE, then sleeps.
"""

import os
import resource
import signal
import socket
import sys
import time

ready = sys.argv[1]
tcp4, tcp6, udp4 = (int(a) for a in (sys.argv[2:5] or ["2000", "500", "500"]))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, tcp4 + tcp6 + udp4 + 256)), hard))

held, lines, port = [], [], 20000


def bind(family, kind, address, count):
    global port
    done = 0
    while done < count and port < 65000:
        s = socket.socket(family, kind)
        try:
            s.bind((address, port))
            if kind == socket.SOCK_STREAM:
                s.listen(16)
        except OSError:
            s.close()
            port += 1
            continue
        held.append(s)
        lines.append(f"{'tcp' if kind == socket.SOCK_STREAM else 'udp'} {address} {port}")
        port += 1
        done += 1


bind(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", tcp4)
try:
    bind(socket.AF_INET6, socket.SOCK_STREAM, "::1", tcp6)
except OSError:
    print("hold.py: no IPv6, TCP on ::1 skipped", file=sys.stderr)
bind(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1", udp4)
with open(ready + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(ready + ".tmp", ready)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(3600)
