#!/usr/bin/env python3
"""etcd_watchers.py: N real watch streams on etcd's v3 JSON gateway (/v3/watch) from one process, and the time from
a trigger (a command: etcdctl put, snmpset through an agent) to the last watcher seeing the event.

usage: etcd_watchers.py HOST PORT PREFIX N ROUNDS NAME CMD [NAME CMD ...]
Each watcher is its own HTTP connection and its own watch on PREFIX.  For every round of every (NAME, CMD) pair:
t0, CMD runs (its exit awaited concurrently), then every watcher's first events message after t0 is timed.
Prints one line per round and a summary per NAME: the command's own run time, the median and last watcher."""
import asyncio
import base64
import json
import statistics
import sys
import time


class Watcher:
    def __init__(self):
        self.count = 0  # events messages seen
        self.when = []  # monotonic time of each
        self.created = False
        self.closed = False


async def watch(host, port, body, w, tail=16):
    reader, writer = await asyncio.open_connection(host, port)
    req = (f"POST /v3/watch HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    writer.write(req)
    await writer.drain()
    prev = b""
    while True:
        data = await reader.read(65536)
        if not data:
            w.closed = True
            return
        now = time.monotonic()
        buf = prev + data
        if not w.created and b'"created":true' in buf:
            w.created = True
        # A message with events; the boundary tail keeps a key split across two reads.
        n = buf.count(b'"events"') - prev.count(b'"events"')
        for _ in range(n):
            w.count += 1
            w.when.append(now)
        prev = buf[-tail:]


async def main():
    host, port, prefix, n, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    pairs = list(zip(sys.argv[6::2], sys.argv[7::2]))
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    body = json.dumps({"create_request": {"key": base64.b64encode(prefix.encode()).decode(),
                                          "range_end": base64.b64encode(end.encode()).decode()}}).encode()
    ws = [Watcher() for _ in range(n)]
    t_open = time.monotonic()
    tasks = [asyncio.ensure_future(watch(host, port, body, w)) for w in ws]
    while sum(w.created for w in ws) < n:
        if any(t.done() for t in tasks):
            for t in tasks:
                if t.done() and t.exception():
                    raise t.exception()
        if time.monotonic() - t_open > 60:
            sys.exit(f"only {sum(w.created for w in ws)} of {n} watches created in 60 s")
        await asyncio.sleep(0.01)
    print(f"{n} watch streams created in {time.monotonic() - t_open:.3f} s", flush=True)
    summary = {}
    for rnd in range(rounds):
        for name, cmd in pairs:
            await asyncio.sleep(0.3)  # quiet between rounds
            base = [w.count for w in ws]
            t0 = time.monotonic()
            proc = await asyncio.create_subprocess_shell(cmd, stdout=asyncio.subprocess.DEVNULL)
            rc_task = asyncio.ensure_future(proc.wait())
            t_cmd = None
            while True:
                if t_cmd is None and rc_task.done():
                    t_cmd = time.monotonic()
                    if rc_task.result() != 0:
                        sys.exit(f"{name}: command failed ({rc_task.result()}): {cmd}")
                if all(w.count > b for w, b in zip(ws, base)):
                    break
                if time.monotonic() - t0 > 10:
                    sys.exit(f"{name}: only {sum(w.count > b for w, b in zip(ws, base))} of {n} watchers saw it")
                await asyncio.sleep(0.0005)
            await rc_task
            if t_cmd is None:
                t_cmd = time.monotonic()
            seen = sorted(w.when[b] - t0 for w, b in zip(ws, base))
            r = (t_cmd - t0, seen[0], statistics.median(seen), seen[-1])
            summary.setdefault(name, []).append(r)
            print(f"round {rnd + 1} {name:8s} command {r[0] * 1e3:8.1f} ms  first {r[1] * 1e3:8.1f} ms  "
                  f"median {r[2] * 1e3:8.1f} ms  last {r[3] * 1e3:8.1f} ms", flush=True)
    print("summary (medians over rounds, ms from the command's start):")
    for name, rs in summary.items():
        print(f"{name:8s} rounds {len(rs)}  command {statistics.median(x[0] for x in rs) * 1e3:8.1f}  "
              f"first {statistics.median(x[1] for x in rs) * 1e3:8.1f}  median {statistics.median(x[2] for x in rs) * 1e3:8.1f}  "
              f"last {statistics.median(x[3] for x in rs) * 1e3:8.1f}  worst last {max(x[3] for x in rs) * 1e3:8.1f}")
    closed = sum(w.closed for w in ws)
    if closed:
        sys.exit(f"{closed} watch streams closed during the run")
    for t in tasks:
        t.cancel()


asyncio.run(main())
