#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpora in tests/fuzz/corpus/<target>/: valid inputs that each fuzzer starts from.
"""Usage: tests/fuzz/make-seeds.py [DIR]   (default: tests/fuzz/corpus next to this script)

Each seed is a well-formed input in its target's format (described at the top of
tests/fuzz/fuzz_<target>.c): a descriptor chain, a driver's init sequence, a bzImage header,
a trace file, a command line. The files are committed; rerun this after changing a format.
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")

NEXT, WRITE, INDIRECT = 1, 2, 4


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)


# ---- virtq: flags, size selector, [3 gpas], u16 image length, image, ops ----
OP_POP, OP_PUSH, OP_NOTIFY, OP_DISABLE, OP_ENABLE, OP_HAS_WORK, OP_POKE16, OP_POKE_DESC, \
    OP_REINIT, OP_PUBLISH = range(10)


def packed_rings(size, descs, avail_flags=0, ring=(0,), idx=None, used_event=0):
    """Image of the packed layout fuzz_virtq uses: desc at 0, avail, used (4-aligned)."""
    table = b"".join(descs).ljust(16 * size, b"\0")
    ring = list(ring) + [0] * (size - len(ring))
    avail = struct.pack("<HH", avail_flags, len([r for r in ring[:1]]) if idx is None else idx)
    avail += b"".join(u16(r) for r in ring) + u16(used_event)
    img = table + avail
    img = img.ljust((len(img) + 3) & ~3, b"\0")
    return img + b"\0" * (6 + 8 * size)


def virtq():
    # a read request shape: header (readable), 512-byte buffer and status byte (writable)
    chain = [desc(0x1000, 16, NEXT, 1), desc(0x1100, 512, NEXT | WRITE, 2),
             desc(0x1400, 1, WRITE, 0)]
    img = packed_rings(8, chain)
    ops = bytes([OP_POP, OP_PUSH]) + u16(0) + u32(513) + bytes([OP_NOTIFY, OP_ENABLE, OP_POP,
                                                                OP_HAS_WORK])
    put("virtq", "direct-chain", u8(0) + u8(3) + u16(len(img)) + img + ops)

    # EVENT_IDX + INDIRECT: one indirect descriptor to a table in the high region (4 GiB)
    img = packed_rings(8, [desc(1 << 32, 48, INDIRECT, 0)], used_event=0)
    ops = b""
    for i, d in enumerate([desc(0x1000, 16, NEXT, 1), desc((1 << 32) + 0x100, 4096, NEXT | WRITE, 2),
                           desc(0x1400, 1, WRITE, 0)]):
        ops += bytes([OP_POKE_DESC, 1]) + u16(16 * i) + d
    ops += bytes([OP_POP, OP_PUSH]) + u16(0) + u32(4097)
    ops += bytes([OP_NOTIFY, OP_DISABLE, OP_PUBLISH]) + u16(0) + bytes([OP_ENABLE, OP_POP,
                                                                         OP_PUSH]) + u16(0) + u32(1)
    ops += bytes([OP_NOTIFY, OP_REINIT, OP_POP])
    put("virtq", "event-idx-indirect", u8(3) + u8(3) + u16(len(img)) + img + ops)

    # hostile: a chain that loops back on itself, then a reset and a good chain
    img = packed_rings(4, [desc(0x1000, 16, NEXT, 1), desc(0x1100, 16, NEXT, 0)])
    ops = bytes([OP_POP, OP_POP, OP_REINIT, OP_POKE16, 0]) + u16(16 + 12) + u16(0)
    ops += bytes([OP_PUBLISH]) + u16(1) + bytes([OP_POP])
    put("virtq", "loop-then-reinit", u8(0) + u8(2) + u16(len(img)) + img + ops)

    # rings at addresses from the input (size 16): desc 0x100, avail 0x200, used 0x300
    img = bytearray(0x300 + 6 + 8 * 16)
    img[0x100:0x110] = desc(0x4000, 64, 0, 0)
    img[0x200:0x208] = struct.pack("<HHH", 0, 1, 0) + b"\0\0"
    ops = bytes([OP_POP, OP_PUSH]) + u16(0) + u32(0) + bytes([OP_NOTIFY])
    put("virtq", "rings-anywhere", u8(4) + u8(4) + u64(0x100) + u64(0x200) + u64(0x300) +
        u16(len(img)) + bytes(img) + ops)


# ---- mmio: u16 image length, image, register accesses ----
MMIO_REGS = [0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044,
             0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0ac, 0x0b0,
             0x0b4, 0x0b8, 0x0bc, 0x0fc, 0x100, 0x104, 0x108, 0x13c]


def mr(reg):
    return u8(MMIO_REGS.index(reg))


def mw(reg, val):
    return u8(0x80 | MMIO_REGS.index(reg)) + u32(val)


WIDTH = {1: 0, 2: 1, 4: 2, 8: 6}   # fin__width selectors


def blk_request_image():
    """Rings of a 16-entry queue at 0/0x100/0x200, one read request at 0x300."""
    img = bytearray(0x330)
    chain = [desc(0x300, 16, NEXT, 1), desc(0x400, 512, NEXT | WRITE, 2), desc(0x320, 1, WRITE, 0)]
    img[0:48] = b"".join(chain)
    img[0x100:0x106] = struct.pack("<HHH", 0, 1, 0)
    img[0x300:0x310] = struct.pack("<IIQ", 0, 0, 2)    # VIRTIO_BLK_T_IN, sector 2
    img[0x320] = 0xee
    return bytes(img)


def mmio():
    s = mr(0x000) + mr(0x004) + mr(0x008) + mr(0x00c)
    s += mw(0x070, 0) + mw(0x070, 1) + mw(0x070, 3)
    s += mw(0x014, 0) + mr(0x010) + mw(0x014, 1) + mr(0x010)
    s += mw(0x024, 0) + mw(0x020, (1 << 9) | (1 << 28)) + mw(0x024, 1) + mw(0x020, 1)
    s += mw(0x070, 11) + mr(0x070)
    for q, base in ((0, 0), (1, 0x1000)):
        s += mw(0x030, q) + mr(0x034) + mw(0x038, 16)
        s += mw(0x080, base) + mw(0x084, 0) + mw(0x090, base + 0x100) + mw(0x094, 0)
        s += mw(0x0a0, base + 0x200) + mw(0x0a4, 0) + mw(0x044, 1) + mr(0x044)
    s += mw(0x070, 15) + mw(0x050, 0) + mr(0x060) + mw(0x064, 1) + mr(0x070)
    s += u8(0x40) + u16(0x100) + u8(WIDTH[8]) + u8(0x40) + u16(0x114) + u8(WIDTH[4])
    s += mr(0x0fc) + mw(0x070, 0) + mr(0x070)
    img = blk_request_image()
    put("mmio", "linux-init-and-read", u16(len(img)) + img + s)
    # nonsense a driver might do: unaligned, narrow, past the window, read-only registers
    s = u8(0xc0) + u16(0x070) + u8(WIDTH[2]) + u16(1) + u8(0x40) + u16(0xffe) + u8(WIDTH[4])
    s += mw(0x000, 0) + mw(0x030, 7) + mw(0x038, 16) + mw(0x050, 9) + mw(0x070, 15)
    put("mmio", "driver-mistakes", u16(0) + s)


# ---- pci: u16 image length, image, accesses (see fuzz_pci.c) ----
def ecam(reg, w, val=None):
    op = 2 | (0x80 if val is not None else 0)
    return u8(op) + u8(0) + u16(reg) + u8(WIDTH[w]) + (val.to_bytes(w, "little") if val is not None else b"")


def bar0(off, w, val=None):
    op = 3 | (0x80 if val is not None else 0)
    return u8(op) + u16(off) + u8(WIDTH[w]) + (val.to_bytes(w, "little") if val is not None else b"")


def cf8(devfn, reg):
    return u8(1) + u8(devfn) + u16(reg)


def pio(port_off, w, val=None):
    sel = {1: 0, 2: 1, 4: 2}[w]
    op = 0 | (0x80 if val is not None else 0)
    return u8(op) + u8(port_off) + u8(sel) + (val.to_bytes(w, "little") if val is not None else b"")


def pci():
    s = ecam(0, 4) + ecam(0x08, 1) + ecam(0x10, 4) + ecam(0x14, 4) + ecam(0x34, 1)
    s += ecam(0x04, 2, 0x6)
    for cap in range(0x40, 0xa0, 4):
        s += ecam(cap, 4)
    # the type-1 probe on 0xcf8 (acpi=off): the bridge at 00:00.0, then our function
    s += cf8(0, 0) + pio(6, 4) + cf8(8, 0) + pio(6, 4) + cf8(8, 0x3c) + pio(6, 1, 0x0b)
    # common configuration: features, status, queue 0 and 1, MSI-X vectors
    s += bar0(0x14, 1, 0) + bar0(0x14, 1, 1) + bar0(0x14, 1, 3)
    s += bar0(0x00, 4, 0) + bar0(0x04, 4) + bar0(0x00, 4, 1) + bar0(0x04, 4)
    s += bar0(0x08, 4, 0) + bar0(0x0c, 4, 1 << 9) + bar0(0x08, 4, 1) + bar0(0x0c, 4, 1)
    s += bar0(0x14, 1, 11) + bar0(0x14, 1) + bar0(0x10, 2, 0)
    for q, base in ((0, 0), (1, 0x1000)):
        s += bar0(0x16, 2, q) + bar0(0x18, 2) + bar0(0x18, 2, 16) + bar0(0x1a, 2, q + 1)
        s += bar0(0x20, 4, base) + bar0(0x24, 4, 0) + bar0(0x28, 4, base + 0x100)
        s += bar0(0x30, 4, base + 0x200) + bar0(0x1c, 2, 1) + bar0(0x1e, 2)
    # MSI-X table entries 0..2 unmasked, then DRIVER_OK, a kick, ISR, device config
    for v in range(3):
        s += bar0(0x4000 + 16 * v, 4, 0xfee00000) + bar0(0x4004 + 16 * v, 4, 0)
        s += bar0(0x4008 + 16 * v, 4, 0x4021 + v) + bar0(0x400c + 16 * v, 4, 0)
    s += bar0(0x14, 1, 15) + bar0(0x3000, 2, 0) + bar0(0x1000, 1) + bar0(0x5000, 8)
    s += bar0(0x2000, 8) + bar0(0x2014, 4) + bar0(0x14, 1, 0) + bar0(0x14, 1)
    img = blk_request_image()
    put("pci", "linux-probe-and-init", u16(len(img)) + img + s)


# ---- blk: flags, queue size selector, requests ----
def req(shape, rtype, sector, segs=(), hlen=None):
    r = u8(shape) + struct.pack("<IIQ", rtype, 0, sector)
    if shape & 0x80:
        r += u8(hlen)
    for length, sel, content in segs:
        r += u16(length) + u16(sel)
        if not shape & 0x20:
            r += content[:min(length, 16)].ljust(min(length, 16), b"\0")
    return r


def blk():
    T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13
    rd = req(0x21, T_IN, 2, [(512, 0, b"")])
    wr = req(0x01, T_OUT, 4, [(512, 0x40, b"\xa5" * 16)])
    fl = req(0x00, T_FLUSH, 0)
    gid = req(0x21, T_GET_ID, 0, [(20, 0x80, b"")])
    dis = req(0x01, T_DISCARD, 0, [(16, 0xc0, struct.pack("<QII", 8, 8, 0))])
    wz = req(0x01, T_WZ, 0, [(16, 0xd0, struct.pack("<QII", 16, 4, 1))])
    put("blk", "read", u8(0) + u8(4) + rd)
    put("blk", "write-flush", u8(0) + u8(4) + wr + fl)
    put("blk", "every-type-event-idx", u8(1) + u8(5) + rd + wr + fl + gid + dis + wz)
    ind = req(0x2a, T_IN, 8, [(512, 0, b""), (1024, 0x20, b"")])      # indirect, 2 buffers
    split = req(0x41, T_OUT, 0, [(4096, 0x100, b"\x5a" * 16)])        # header in two pieces
    put("blk", "indirect-split-header", u8(3) + u8(4) + ind + split)
    put("blk", "read-only-write", u8(4) + u8(3) + wr + rd)
    bad = req(0x21, T_IN, 127, [(1024, 0, b"")]) + req(0x01, 99, 0, [(16, 0, b"")])
    bad += req(0x31, T_IN, 0, [(512, 0, b"")]) + req(0xa1, T_IN, 0, [(512, 0, b"")], hlen=8)
    put("blk", "bad-requests", u8(0) + u8(4) + bad)


# ---- bzimage: the kernel file ----
def bzimage(setup_sects=4, kernel_size=4096, pref=16 << 20, init_size=1 << 20, reloc=0,
            align=2 << 20, version=0x020f, initrd_max=0x7fffffff, cmdline_size=2047):
    img = bytearray((setup_sects + 1) * 512 + kernel_size)
    img[0x1f1] = setup_sects
    struct.pack_into("<I", img, 0x1f4, kernel_size // 16)
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x200:0x202] = bytes([0xeb, 0x6a])          # jump past the header: it ends at 0x26c
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = 0x01                                # LOADED_HIGH
    struct.pack_into("<I", img, 0x22c, initrd_max)
    struct.pack_into("<I", img, 0x230, align)
    img[0x234] = reloc
    struct.pack_into("<H", img, 0x236, 0x1)          # XLF_KERNEL_64
    struct.pack_into("<I", img, 0x238, cmdline_size)
    struct.pack_into("<Q", img, 0x258, pref)
    struct.pack_into("<I", img, 0x260, init_size)
    img[(setup_sects + 1) * 512:] = bytes((i * 13) & 0xff for i in range(kernel_size))
    return bytes(img)


def bz():
    put("bzimage", "minimal", bzimage())
    put("bzimage", "relocatable-big-init", bzimage(reloc=1, pref=64 << 20, init_size=32 << 20))
    put("bzimage", "debian-like", bzimage(setup_sects=0x1e, kernel_size=8192, pref=0x1000000,
                                          init_size=0x2000000, reloc=1, align=0x200000))
    put("bzimage", "low-initrd-max", bzimage(initrd_max=0x37ffffff, cmdline_size=255))


# ---- trace: a trace file ----
def trace_file(devs, recs, complete=True, vcpus=2):
    hdr_size, dev_size, rec_size = 80, 48, 40
    devs_off = hdr_size
    recs_off = devs_off + dev_size * len(devs)
    h = b"KVMINIXT" + struct.pack("<IIIIII", 1, hdr_size, rec_size, dev_size, vcpus, len(devs))
    h += struct.pack("<QQQQQII", devs_off, recs_off, 1700000000 * 10**9,
                     len(recs) if complete else 0, 0, 1 if complete else 0, 0)
    d = b"".join(struct.pack("<QQB7x24s", base, length, bus, name) for base, length, bus, name in devs)
    r = b"".join(struct.pack("<QQQIIHHBBBx", *rec) for rec in recs)
    return h + d + r


def trace():
    PIO, MMIO = 1, 2
    KVM_EXIT_IO, KVM_EXIT_HLT, KVM_EXIT_MMIO = 2, 5, 6
    devs = [(0x3f8, 8, PIO, b"serial"), (0x60, 1, PIO, b"i8042"),
            (0xd0000000, 0x1000, MMIO, b"virtio-mmio"), (0xc0000000, 0x10000000, MMIO, b"pci-bars")]
    recs = [  # t_ns, addr, value, handle_ns, count, vcpu, reason, bus, size, flags
        (1000, 0x3f8, 0x41, 300, 1, 0, KVM_EXIT_IO, PIO, 1, 1),
        (2000, 0x3fd, 0x60, 250, 1, 1, KVM_EXIT_IO, PIO, 1, 0),
        (3000, 0xd0000050, 0, 900, 1, 0, KVM_EXIT_MMIO, MMIO, 4, 1),
        (4000, 0x80, 0, 100, 1, 1, KVM_EXIT_IO, PIO, 1, 3),
        (9000, 0, 0, 50, 1, 0, KVM_EXIT_HLT, 0, 0, 0),
        (12000, 0x3f8, 0x42, 40000, 16, 0, KVM_EXIT_IO, PIO, 1, 1),
    ]
    put("trace", "complete", trace_file(devs, recs))
    put("trace", "killed-writer", trace_file(devs[:2], recs[:3], complete=False))
    put("trace", "no-devices", trace_file([], [(5, 0, 0, 1, 1, 0, KVM_EXIT_HLT, 0, 0, 0)], vcpus=1))


# ---- cli: arguments separated by NUL ----
def cli():
    def argv(*a):
        return "\0".join(a).encode()
    put("cli", "kernel-initrd", argv("--kernel", "/boot/vmlinuz", "--initrd", "/boot/initrd.img",
                                     "--cpus", "2", "--memory", "5G", "--append", "quiet"))
    put("cli", "disks", argv("--disk", "path=disk.img,ro=on,cache=none,engine=sync,serial=root,queues=2",
                             "-d", "rootfs.ext4", "--disk", "path=a,,b.img,force=on",
                             "--virtio-transport", "pci", "--console", "file=boot.log", "-q"))
    put("cli", "debugging", argv("--trace-exits", "t.bin,reason=io|mmio,addr=0x3f8-0x3ff,vcpu=0,max=64M",
                                 "--exit-stats=json:/tmp/s.json", "--strict", "--gdb",
                                 "tcp:127.0.0.1:1234", "--gdb-wait", "--kvm-device", "/dev/kvm"))
    put("cli", "short-options", argv("-k", "bzImage", "-m", "65536K", "-c", "255",
                                     "--cmdline", "console=ttyS0", "--virtio-mmio-cmdline",
                                     "--console=none", "--exit-stats"))


# ---- api: flags, body length, method NUL path NUL, then an HTTP reply for kvmini ctl ----
def api():
    def req(flags, body, method, path, reply=b""):
        return u8(flags) + struct.pack("<H", body) + method + b"\0" + path + b"\0" + reply
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    put("api", "ping", req(0, 0, b"GET", b"/api/v1/vmm.ping", ok))
    put("api", "pause-refused", req(2, 0, b"PUT", b"/api/v1/vm.pause",
                                    b"HTTP/1.1 409 Conflict\r\nContent-Length: 31\r\n\r\n"
                                    b"[\"vm.pause: already paused\"]"))
    put("api", "body-too-big", req(8, 9000, b"PUT", b"/api/v1/vm.resume"))
    put("api", "wrong-method", req(0, 0, b"POST", b"/api/v1/vm.info", b"HTTP/1.0 204 No Content\r\n\r\n"))
    put("api", "exit-stats-oom", req(1, 0, b"GET", b"/api/v1/vm.exit-stats"))


# ---- net: flags, queue size selector, then operations (see tests/fuzz/fuzz_net.c) ----
def net():
    def seg(length, sel, writable, contents=b""):
        out = u16(length) + u16(sel) + u8(1 if writable else 0)
        return out if writable else out + contents.ljust(16, b"\0")[:16]

    def chain(op, segs, frame=None):
        out = u8(op | (4 if frame is not None else 0)) + u8(len(segs) - 1) + b"".join(segs)
        if frame is not None:
            out += u16(frame[0]) + frame[1].ljust(16, b"\0")[:16]
        return out
    hdr = bytes(12)
    every = 0x0f                 # EVENT_IDX, INDIRECT_DESC, MRG_RXBUF, CTRL_VQ
    put("net", "transmit", u8(every) + u8(4) +
        chain(0, [seg(12, 0, False, hdr), seg(100, 4, False, b"payload")]))
    put("net", "receive", u8(every & ~4) + u8(4) +
        chain(1, [seg(2048, 100, True)], frame=(212, hdr + b"frame")))
    put("net", "receive-merged", u8(every) + u8(4) +
        b"".join(chain(1, [seg(1500, 200 + 100 * i, True)]) for i in range(3)) +
        chain(2, [seg(1500, 600, True)], frame=(5000, hdr + b"big")))
    put("net", "control-pairs", u8(every) + u8(4) +
        chain(3, [seg(4, 700, False, b"\x04\x00\x02\x00"), seg(1, 720, True)]))
    put("net", "hostile", u8(every) + u8(3) +
        chain(0, [seg(12, 0, False, hdr)]) + chain(0, [seg(64, 8, True)]) +
        chain(1, [seg(20, 900, True)], frame=(3000, hdr)) + chain(1, [seg(64, 950, False)]))


# ---- vsock: flags, queue size selector, then operations (see tests/fuzz/fuzz_vsock.c) ----
def vsock():
    REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE = 1, 2, 3, 4, 5, 6
    P1024, P1025, HOST_PORT = 0, 1, 5          # indices in fuzz_vsock's ports[]
    SYNC = u8(3)

    def tx(op, src, dst, plen=0, flags=0, buf_alloc=256 << 10, m=0, extra=b"", cuts=(),
           payload=b""):
        """extra: the optional fields m asks for, in the input's order"""
        return (u8(0) + u8(m) + u8(op) + u8(src | dst << 4) + extra + u8(flags) +
                u32(buf_alloc) + u32(0) + u16(plen) + payload.ljust(16, b"\0")[:16] +
                u8(len(cuts)) + bytes(cuts))

    def rx(*segs):                             # (length, readable)
        return u8(1) + u8(len(segs) - 1) + b"".join(u16(n) + u8(ro) for n, ro in segs)

    def host(a, extra=b""):
        return u8(2) + u8(a) + extra
    listen = host(0 | P1024 << 3)
    accept, read = host(2), host(6)
    rx4 = rx((4096, 0)) * 4
    put("vsock", "guest-connect", u8(1) + u8(5) + listen + rx4 +
        tx(REQUEST, P1025, P1024) + SYNC + accept + host(3, u16(100)) + SYNC +
        tx(RW, P1025, P1024, plen=100, payload=b"guest data") + SYNC + read +
        tx(SHUTDOWN, P1025, P1024, flags=3) + SYNC + host(5) + SYNC)
    put("vsock", "host-connect", u8(1) + u8(5) + rx4 + host(1 | P1024 << 3) + SYNC +
        tx(RESPONSE, P1024, HOST_PORT) + SYNC + host(3, u16(200)) + SYNC +
        tx(RW, P1024, HOST_PORT, plen=50) + SYNC + read + host(4) + SYNC +
        tx(RST, P1024, HOST_PORT) + SYNC)
    CREDIT_REQUEST = 7                         # host bytes wait (no rx buffer), then credit
    put("vsock", "credit-request", u8(0) + u8(5) + rx((4096, 0)) + host(1 | P1024 << 3) + SYNC +
        tx(RESPONSE, P1024, HOST_PORT) + SYNC + host(3, u16(100)) + SYNC +
        tx(CREDIT_REQUEST, P1024, HOST_PORT) + SYNC + rx((4096, 0)) + SYNC + rx((44, 0)) + SYNC)
    put("vsock", "host-goes-away", u8(0) + u8(4) + rx4 + host(1 | P1025 << 3) + SYNC +
        tx(RESPONSE, P1025, HOST_PORT, buf_alloc=1000) + SYNC + host(3, u16(3000)) + SYNC +
        host(5) + SYNC + tx(RW, P1025, HOST_PORT, plen=10) + SYNC)
    put("vsock", "refused-and-unknown", u8(0) + u8(1) + rx((4096, 0)) * 2 +
        tx(REQUEST, P1025, 2) + tx(RW, P1025, P1024, plen=8) + tx(RST, P1025, P1024))
    put("vsock", "split-segments", u8(3) + u8(6) + listen +
        rx((1, 0), (2, 0), (41, 0), (100, 0), (0, 0), (3000, 0)) * 2 +
        tx(REQUEST, P1025, P1024, cuts=(1, 3, 7, 0, 13, 19, 2)) + SYNC + accept +
        host(3, u16(5000)) + tx(RW, P1025, P1024, plen=300, cuts=(44, 100)) + SYNC)
    bad = tx(RW, P1025, P1024, m=1, extra=u64(7))                            # another CID
    bad += tx(REQUEST, P1025, P1024, m=2 | 4, extra=u64(5) + u16(2))         # dst 5, DGRAM
    bad += tx(RW, P1025, P1024, plen=10, m=8, extra=u32(0), payload=b"x")   # len past
    bad += tx(REQUEST, P1025, P1024, m=0x10) + tx(RW, P1025, P1024, plen=100, m=0x40)
    bad += tx(9, P1025, P1024) + rx((20, 0)) + rx((16, 1), (4096, 0)) + rx((44, 0))
    put("vsock", "malformed-packets", u8(1) + u8(5) + bad + rx4)
    lines = host(0x80 | 1, u8(10) + b"CONNECT x\n") + host(0x80 | 1, u8(20) + b"CONNECT 99999999999\n")
    lines += host(0x40 | 1) + host(0x80 | 1, u8(32) + b"CONNECT " + b"0" * 24)
    put("vsock", "malformed-connect", u8(0) + u8(3) + rx4 + lines + SYNC + host(5) + SYNC)


virtq()
mmio()
pci()
blk()
bz()
trace()
cli()
api()
net()
vsock()
