#!/usr/bin/env python3
"""slow_conns.py: holds COUNT slow TCP connections from one source address to a portal for SECONDS, then exits.

Half of them (or --silent) send nothing; the others send one byte and then nothing more, the way a
client that never finishes its first header behaves.  A connection the server closes is opened again
at once, as an attacker would, so the pressure stays for the whole run.  Bounded: at most COUNT
sockets at a time, SECONDS of run time.

Prints one line: opened=N peer_closed=M open_at_end=K max_open=J lifetime_ms_median=L lifetime_ms_max=X (the time from
connect to the server's close, over the one-byte connections the server closed) and its maximum.
"""
import argparse
import errno
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="source address to bind")
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--silent", type=float, default=0.5, help="fraction of connections that send nothing")
    ap.add_argument("--ready", help="file written once COUNT connections were opened")
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    stats = {"opened": 0, "peer_closed": 0, "max_open": 0}
    lifetimes = []
    conns = {}

    def open_one(slot):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.src, 0))
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                s.close()
                return False
        conns[s] = {"slot": slot, "t": time.monotonic(), "sent": False,
                    "talk": slot >= int(a.count * a.silent)}
        sel.register(s, selectors.EVENT_WRITE)
        stats["opened"] += 1
        return True

    def drop(s):
        sel.unregister(s)
        s.close()
        return conns.pop(s)

    end = time.monotonic() + a.seconds
    stop = []
    # SIGTERM ends the run early, with the summary line.
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    for slot in range(a.count):
        if not open_one(slot):
            time.sleep(0.01)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % stats["opened"])
    while time.monotonic() < end and not stop:
        stats["max_open"] = max(stats["max_open"], len(conns))
        for key, ev in sel.select(timeout=0.1):
            s = key.fileobj
            c = conns.get(s)
            if c is None:
                continue
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    info = drop(s)
                    open_one(info["slot"])
                    continue
                if c["talk"] and not c["sent"]:
                    try:
                        s.send(b"\x03")  # the first byte of a Login Request, and nothing after
                    except OSError:
                        pass
                    c["sent"] = True
                c["t"] = time.monotonic()  # established: the server's clock starts about now
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                info = drop(s)
                stats["peer_closed"] += 1
                if info["talk"]:
                    lifetimes.append((time.monotonic() - info["t"]) * 1000)
                open_one(info["slot"])
    lifetimes.sort()
    med = lifetimes[len(lifetimes) // 2] if lifetimes else -1
    top = lifetimes[-1] if lifetimes else -1
    print("opened=%d peer_closed=%d open_at_end=%d max_open=%d lifetime_ms_median=%.0f lifetime_ms_max=%.0f" %
          (stats["opened"], stats["peer_closed"], len(conns), stats["max_open"], med, top))
    for s in list(conns):
        drop(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
