#!/usr/bin/env python3
# redir_client.py: a tiny independent iSCSI login/SendTargets client for the redirector tests (RFC 7143 framing).
"""Usage:
  redir_client.py discover HOST PORT        -> "N targets in P PDUs, T s" then "name<TAB>address" lines
  redir_client.py login HOST PORT TARGET    -> "status 0xSSSS address ADDR"
  redir_client.py garbage HOST PORT         -> "closed" when the portal drops a garbage PDU's connection
  redir_client.py chaplogin HOST PORT TARGET USER SECRET
                                            -> "status 0xSSSS address ADDR" after CHAP with the portal
Exit 0 on a well-formed exchange, 1 otherwise."""
import hashlib
import socket
import struct
import sys
import time

INITIATOR = "iqn.2026-11.org.sanagent.test:redir-client"


def keys(pairs):
    return b"".join(f"{k}={v}".encode() + b"\0" for k, v in pairs)


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def bhs(op, flags, dlen, isid_or_lun, itt, w20, cmdsn, expstatsn, b2=0, b3=0):
    return struct.pack(">BBBBB3s8sIIII16x", op, flags, b2, b3, 0, dlen.to_bytes(3, "big"), isid_or_lun, itt, w20,
                       cmdsn, expstatsn)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def recv_pdu(s):
    h = recv_exact(s, 48)
    ahs = h[4] * 4
    dlen = int.from_bytes(h[5:8], "big")
    rest = recv_exact(s, ahs + dlen + (-dlen % 4))
    return h, rest[ahs:ahs + dlen]


def parse_text(data):
    out = []
    for kv in data.split(b"\0"):
        if kv:
            k, _, v = kv.partition(b"=")
            out.append((k.decode(), v.decode()))
    return out


ISID = bytes([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a])


def login(s, pairs, csg=1, nsg=3, transit=True):
    data = keys(pairs)
    flags = (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0)
    s.sendall(bhs(0x43, flags, len(data), ISID + b"\0\0", 1, 0, 1, 0) + pad(data))
    h, d = recv_pdu(s)
    if h[0] & 0x3F != 0x23:
        raise ValueError(f"not a login response: opcode {h[0]:#x}")
    status = (h[36] << 8) | h[37]
    return status, h, parse_text(d)


def discover(host, port):
    s = socket.create_connection((host, port), timeout=10)
    status, h, _ = login(s, [("InitiatorName", INITIATOR), ("SessionType", "Discovery"), ("HeaderDigest", "None"),
                             ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "8192")])
    if status != 0 or not (h[1] & 0x80) or (h[1] & 3) != 3:
        print(f"discovery login failed: status {status:#06x} flags {h[1]:#x}")
        return 1
    t0 = time.monotonic()
    text = b"SendTargets=All\0"
    ttt, itt, cmdsn, npdu, data = 0xFFFFFFFF, 2, 1, 0, b""
    while True:
        s.sendall(bhs(0x04, 0x80, len(text), b"\0" * 8, itt, ttt, cmdsn, 0) + pad(text))
        cmdsn += 1
        h, d = recv_pdu(s)
        if h[0] & 0x3F != 0x24:
            print(f"not a text response: opcode {h[0]:#x}")
            return 1
        npdu += 1
        data += d
        final, cont = bool(h[1] & 0x80), bool(h[1] & 0x40)
        if final and cont:
            print("text response with F and C both set")
            return 1
        if final:
            break
        ttt = struct.unpack(">I", h[20:24])[0]
        if ttt == 0xFFFFFFFF:
            print("non-final text response with the reserved TTT")
            return 1
        text = b""
    took = time.monotonic() - t0
    pairs = parse_text(data)
    names = [v for k, v in pairs if k == "TargetName"]
    print(f"{len(names)} targets in {npdu} PDUs, {took:.3f} s")
    name = None
    for k, v in pairs:
        if k == "TargetName":
            name = v
        elif k == "TargetAddress":
            print(f"{name}\t{v}")
    s.sendall(bhs(0x46, 0x80, 0, b"\0" * 8, itt + 1, 0, cmdsn, 0))
    h, _ = recv_pdu(s)
    if h[0] & 0x3F != 0x26:
        print("no logout response")
        return 1
    return 0


def normal_login(host, port, target):
    s = socket.create_connection((host, port), timeout=10)
    status, _, pairs = login(s, [("InitiatorName", INITIATOR), ("SessionType", "Normal"), ("TargetName", target),
                                 ("AuthMethod", "None")], csg=0, nsg=1)
    addr = dict(pairs).get("TargetAddress", "-")
    print(f"status {status:#06x} address {addr}")
    return 0


def chap_login(host, port, target, user, secret):
    s = socket.create_connection((host, port), timeout=10)
    status, _, pairs = login(s, [("InitiatorName", INITIATOR), ("SessionType", "Normal"), ("TargetName", target),
                                 ("AuthMethod", "CHAP,None")], csg=0, transit=False)
    d = dict(pairs)
    if status or d.get("AuthMethod") != "CHAP":
        print(f"status {status:#06x} address {d.get('TargetAddress', '-')}")
        return 0
    status, _, pairs = login(s, [("CHAP_A", "5")], csg=0, transit=False)
    d = dict(pairs)
    if status or "CHAP_C" not in d:
        print(f"status {status:#06x} address -")
        return 0
    challenge = bytes.fromhex(d["CHAP_C"][2:])
    rsp = hashlib.md5(bytes([int(d["CHAP_I"])]) + secret.encode() + challenge).hexdigest()
    status, _, pairs = login(s, [("CHAP_N", user), ("CHAP_R", "0x" + rsp)], csg=0, nsg=1)
    print(f"status {status:#06x} address {dict(pairs).get('TargetAddress', '-')}")
    return 0


def garbage(host, port):
    s = socket.create_connection((host, port), timeout=10)
    # A BHS whose AHS length runs past its own area: the codec's -EPROTO.
    bad = bytearray(48)
    bad[0] = 0x43
    bad[4] = 1
    s.sendall(bytes(bad) + b"\xff\xff\x00\x00")
    try:
        if s.recv(100) == b"":
            print("closed")
            return 0
    except ConnectionResetError:
        print("closed")
        return 0
    print("still open")
    return 1


def main():
    cmd = sys.argv[1]
    if cmd == "discover":
        return discover(sys.argv[2], int(sys.argv[3]))
    if cmd == "login":
        return normal_login(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if cmd == "chaplogin":
        return chap_login(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    if cmd == "garbage":
        return garbage(sys.argv[2], int(sys.argv[3]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, ValueError) as e:
        print(f"error: {e}")
        sys.exit(1)
