#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The host's end of the nested network and vsock cases: listen or connect over TCP, AF_VSOCK or hybrid vsock's Unix socket, receive or send, record bytes and SHA-256.
"""Usage: host_end.py listen|connect tcp|vsock|hybrid ADDR PORT recv|send BYTES OUT

ADDR is an IPv4 address (tcp), a CID (vsock; "any" to listen on every CID) or hybrid vsock's
socket PATH (hybrid: a listener listens on PATH_PORT, where kvmini connects the guest's
connections to PORT; a connection writes "CONNECT PORT\n" to PATH and reads "OK <n>\n"). A listener
creates OUT.ready once it listens and serves one connection. recv reads BYTES (0: until EOF);
send writes BYTES of random data, then shuts its side down. At the end OUT holds
"<bytes> <sha256 hex>". CASE_TIMEOUT (seconds, default 120) bounds every wait.
"""
import hashlib
import os
import socket
import sys


def hybrid_connect(c, port):
    """CONNECT PORT, then kvmini's "OK <host port>" line, read a byte at a time (what follows
    it is the guest's)"""
    c.sendall(b"CONNECT %d\n" % port)
    line = b""
    while not line.endswith(b"\n") and len(line) < 32:
        b = c.recv(1)
        if not b:
            sys.exit("hybrid vsock: the connection ended before its OK line (%r)" % line)
        line += b
    if not line.startswith(b"OK "):
        sys.exit("hybrid vsock: %r instead of OK <port>" % line)


def main():
    role, family, addr, port, mode, want, out = sys.argv[1:8]
    port, want = int(port), int(want)
    if family == "tcp":
        s = socket.socket()
        where = (addr, port)
    elif family == "hybrid":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        where = "%s_%d" % (addr, port) if role == "listen" else addr
    else:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        where = (socket.VMADDR_CID_ANY if addr == "any" else int(addr), port)
    s.settimeout(float(os.environ.get("CASE_TIMEOUT", "120")))
    if role == "listen":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == "hybrid" and os.path.exists(where):
            os.unlink(where)
        s.bind(where)
        s.listen(1)
        open(out + ".ready", "w").close()
        c, _ = s.accept()
        c.settimeout(s.gettimeout())
    else:
        s.connect(where)
        c = s
        if family == "hybrid":
            hybrid_connect(c, port)
    h, n = hashlib.sha256(), 0
    while mode == "recv" and (want == 0 or n < want):
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    while mode == "send" and n < want:
        b = os.urandom(min(1 << 20, want - n))
        c.sendall(b)
        h.update(b)
        n += len(b)
    if mode == "send":
        c.shutdown(socket.SHUT_WR)
        c.recv(1)	# until the peer closes: all of it was read
    c.close()
    with open(out, "w") as f:
        f.write("%d %s\n" % (n, h.hexdigest()))


if __name__ == "__main__":
    main()
