#!/usr/bin/env python3
"""rl_nbd_io.py: a verifying workload on an NBD export (a login's team in the rediscovery lab).

    rl_nbd_io.py SOCKET --offset BYTES --size BYTES --bs BYTES [--interval-ms MS] [--read-every N]
                 [--time S] [--stop-file F] [--seed N] [--reconnect-s S]

Writes blocks of [offset, offset+size) in turn, each with content that names its block and generation, reads one
back after every N writes (N = --read-every; 1: every write is read back at once) and compares it, and at the end
reads back every block it wrote.  Its own small NBD client (fixed newstyle handshake, NBD_OPT_EXPORT_NAME, simple
replies), so that nothing is hidden between the application and the export:
  errors      NBD error replies: an I/O the application saw fail
  mismatches  a block read back differs from the last one written there
  reconnects  the export's connection ended (or stalled --op-timeout s) and was opened again; the operation in
              flight is retried (writes are idempotent here), so a reconnect is not an error by itself, but it is
              counted and its wait is in the latency and gap figures
Prints one "rlio ..." line a second and a last "rlio done ..." line (key=value; latencies in microseconds over the
whole run and, win_*, over the last second; gap_max_ms: the longest time without a completed operation).  Stops at
--time, when --stop-file exists, or on SIGTERM/SIGINT; exits 0 when errors and mismatches are 0, 1 otherwise,
2 when the export could not be reached again within --reconnect-s.
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import time

IHAVEOPT = 0x49484156454F5054
OPT_EXPORT_NAME = 1
REQ_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
CMD_READ, CMD_WRITE, CMD_DISC = 0, 1, 2
FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES = 1, 2


class Lost(Exception):
    """The connection ended or stalled."""


class Conn:
    def __init__(self, path, timeout):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.handle = 0
        try:
            self.s.connect(path)
            if self.recv(8) != b"NBDMAGIC" or struct.unpack(">Q", self.recv(8))[0] != IHAVEOPT:
                raise Lost("not a newstyle NBD server")
            (hflags,) = struct.unpack(">H", self.recv(2))
            cflags = FLAG_FIXED_NEWSTYLE | (hflags & FLAG_NO_ZEROES)
            self.s.sendall(struct.pack(">I", cflags) + struct.pack(">QII", IHAVEOPT, OPT_EXPORT_NAME, 0))
            self.size, _ = struct.unpack(">QH", self.recv(10))
            if not cflags & FLAG_NO_ZEROES:
                self.recv(124)
        except OSError as e:
            self.s.close()
            raise Lost(str(e))

    def recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                d = self.s.recv(n - len(buf))
            except OSError as e:
                raise Lost(str(e))
            if not d:
                raise Lost("connection closed")
            buf += d
        return bytes(buf)

    def cmd(self, typ, offset, length, data=b""):
        """One request, its simple reply: (error, data read)."""
        self.handle += 1
        try:
            self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, typ, self.handle, offset, length) + data)
        except OSError as e:
            raise Lost(str(e))
        magic, err, handle = struct.unpack(">IIQ", self.recv(16))
        if magic != REPLY_MAGIC or handle != self.handle:
            raise Lost("bad reply")
        return err, (self.recv(length) if typ == CMD_READ and err == 0 else b"")

    def close(self):
        try:
            self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_DISC, 0, 0, 0))
        except OSError:
            pass
        self.s.close()


def content(seed, block, gen, bs):
    head = struct.pack(">4sIQQ", b"RLIO", seed, block, gen)
    body = random.Random(hash((seed, block, gen))).randbytes(64)
    return (head + body * (bs // 64 + 1))[:bs]


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0
    return sorted_vals[min(len(sorted_vals) - 1, int(len(sorted_vals) * p / 100.0))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--bs", type=int, default=4096)
    ap.add_argument("--interval-ms", type=float, default=0)
    ap.add_argument("--read-every", type=int, default=1)
    ap.add_argument("--time", type=float, default=0)
    ap.add_argument("--stop-file", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--op-timeout", type=float, default=30)
    ap.add_argument("--reconnect-s", type=float, default=60)
    a = ap.parse_args()
    nblocks = a.size // a.bs
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))
    st = dict(writes=0, reads=0, bytes=0, errors=0, mismatches=0, reconnects=0, verified=0)
    lat, win = [], []
    t0 = time.monotonic()
    last_done = [t0]
    gap_max = [0.0]
    conn = [None]

    def connect():
        deadline = time.monotonic() + a.reconnect_s
        while True:
            try:
                conn[0] = Conn(a.socket, a.op_timeout)
                return
            except Lost as e:
                if time.monotonic() > deadline:
                    report("done", final=True, why="export unreachable for %.0f s: %s" % (a.reconnect_s, e))
                    sys.exit(2)
                time.sleep(0.05)

    def op(typ, block, data=b""):
        """One operation, retried over reconnects; returns (error, data)."""
        start = time.monotonic()
        while True:
            if conn[0] is None:
                connect()
            try:
                r = conn[0].cmd(typ, a.offset + block * a.bs, a.bs, data)
                break
            except Lost:
                conn[0].s.close()
                conn[0] = None
                st["reconnects"] += 1
        now = time.monotonic()
        us = int((now - start) * 1e6)
        lat.append(us)
        win.append(us)
        gap_max[0] = max(gap_max[0], now - last_done[0])
        last_done[0] = now
        st["bytes"] += a.bs
        return r

    def report(tag, final=False, why=""):
        s = sorted(lat)
        w = sorted(win)
        line = "rlio %s t=%.1f writes=%d reads=%d bytes=%d errors=%d mismatches=%d reconnects=%d verified=%d " % (
            tag, time.monotonic() - t0, st["writes"], st["reads"], st["bytes"], st["errors"], st["mismatches"],
            st["reconnects"], st["verified"])
        line += "lat_avg_us=%d lat_p50_us=%d lat_p99_us=%d lat_max_us=%d win_ops=%d win_avg_us=%d win_p99_us=%d " % (
            sum(s) // len(s) if s else 0, pct(s, 50), pct(s, 99), s[-1] if s else 0, len(w),
            sum(w) // len(w) if w else 0, pct(w, 99))
        line += "gap_max_ms=%d" % (gap_max[0] * 1000)
        if why:
            line += " why=%s" % why.replace(" ", "_")
        print(line, flush=True)
        win.clear()

    gens = {}  # block -> generation last written; None: unknown (a write failed)
    rng = random.Random(a.seed)

    def verify(block):
        g = gens.get(block)
        if g is None:
            return
        err, data = op(CMD_READ, block)
        st["reads"] += 1
        if err:
            st["errors"] += 1
        elif data != content(a.seed, block, g, a.bs):
            st["mismatches"] += 1
            print("rlio mismatch block=%d gen=%d" % (block, g), flush=True)
        else:
            st["verified"] += 1

    connect()
    next_report = t0 + 1
    i = 0
    while not stop[0]:
        now = time.monotonic()
        if a.time and now - t0 >= a.time:
            break
        if a.stop_file and os.path.exists(a.stop_file):
            break
        if now >= next_report:
            report("run")
            next_report += 1
        block = i % nblocks
        gen = gens.get(block) or 0
        gen += 1
        err, _ = op(CMD_WRITE, block, content(a.seed, block, gen, a.bs))
        st["writes"] += 1
        if err:
            st["errors"] += 1
            gens[block] = None
        else:
            gens[block] = gen
        i += 1
        if i % a.read_every == 0:
            verify(block if a.read_every == 1 else rng.choice(list(gens)))
        if a.interval_ms:
            time.sleep(a.interval_ms / 1000.0)
    # Every block written, read back once more.
    for block in sorted(gens):
        verify(block)
    report("done")
    conn[0].close()
    sys.exit(0 if st["errors"] == 0 and st["mismatches"] == 0 else 1)


if __name__ == "__main__":
    main()
