/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the hybrid virtio-vsock device (virtio/vsock_hy*.c): the guest's packets and rx buffers against the host's Unix sockets. */
#include <dirent.h>
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "tests/fuzz/fuzz_disk.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/fuzz/fuzz_input.h"
#include "virtio/mmio.h"
#include "virtio/vsock_hy.h"

/*
 * A driver posts tx packets and rx buffers (before DRIVER_OK, and after it with a kick), the
 * host side listens on PATH_<port>, connects to PATH with a CONNECT line, writes, shuts down
 * and closes; the device's thread serves all of it. At each sync point (and at the end) the
 * harness waits until every tx chain is answered and nothing moved for 1 ms (bounded), then
 * resets the device (which joins the thread) and checks what came back: guest RAM changed
 * only inside rx buffers and used rings, used lengths within the chains' writable bytes, rx
 * headers from the host to CID 3, tx used lengths 0, no connection or fd left.
 *
 * Input: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC), queue size selector (1 << (n % 9)),
 * then operations until the input ends (at most 64), op % 4:
 *   0 a tx packet: u8 m, u8 op (< 0xf0: op % 9), u8 ports (src ports[b & 7], dst
 *     ports[b >> 4 & 7]), then m bit 0: u64 src_cid (else 3), bit 1: u64 dst_cid (else 2),
 *     bit 2: u16 type (else STREAM), ports bit 3: u32 src_port, bit 7: u32 dst_port; u8 flags,
 *     u32 buf_alloc, u32 fwd_cnt, u16 payload length (m bit 6: 64 KiB more), m bit 3: u32
 *     len (else the payload's), the payload's first 16 bytes, u8 segments (1 + b % 8) and the
 *     first ones' u8 lengths (the last takes the rest); m bit 4: a device-writable segment
 *     after them, bit 5: one before them (a broken chain: the device needs a reset)
 *   1 an rx chain: u8 segments (1 + b % 8), per segment u16 length, u8 bit 0 device-readable
 *   2 a host action: u8 a, p = ports[a >> 3 & 7], e = host end (a >> 3) % ends; a % 8:
 *     0 listen on PATH_p, 1 connect to PATH and write "CONNECT p\n" (a bit 6: no newline;
 *     bit 7: u8 n % 33 bytes from the input instead), 2 accept what the listeners have,
 *     3 e writes u16 bytes, 4 e shuts down its writing side, 5 e closes, 6 the ends read
 *     what they have, 7 nothing
 *   3 a sync point: DRIVER_OK (the first time; chains posted after it are kicked), then a
 *     wait as at the end (all of them together at most 100 ms)
 */
#define RAM_SIZE   (2u << 20)
#define RINGS(q)   (0x1000ull + (q) * 0x3000ull)   /* desc, avail (+0x1000), used (+0x2000) */
#define DATA_GPA   0x10000ull
#define QS         3
#define QMAX       256u
#define PAT        0xa5
#define MAX_ENDS   16
#define MAX_SEGS   10
#define PKT_ROOM   (VSOCK_HDR_LEN + 0x20000u)

static const uint32_t ports[8] = { 1024, 1025, 2049, 0, 0xffffffffu, VSOCK_HY_PORT_BASE,
				   VSOCK_HY_PORT_BASE + 1, 52 };

static uint8_t *ram, *shadow, *may_write;	/* shadow: what the driver wrote */
static struct guest_mem gm;
static struct virtio_mmio t;
static struct vsock_hy h;
static char dir[] = "/tmp/kvmini-fuzz-vsock-XXXXXX";
static char path[108];

struct queue { uint16_t avail, size, descs; };
struct rx_chain { uint32_t wlen; unsigned nw; bool readable; uint64_t gpa[MAX_SEGS];
		  uint32_t len[MAX_SEGS]; };
struct seg { uint32_t len; bool w; const uint8_t *data; };

static struct run {
	struct queue q[QS];
	uint64_t bump;                 /* the data region's next free byte */
	bool live;                     /* DRIVER_OK written */
	int16_t rx_of[QMAX];           /* rx chain by head, -1 */
	struct rx_chain rx[QMAX];
	unsigned nrx;
	bool tx_head[QMAX];
	int lis[8];                    /* listening on PATH_<ports[i]>, -1 */
	int end[MAX_ENDS];             /* host ends, -1 once closed */
	unsigned nend;
	uint64_t wait_budget_ns;       /* for the sync points, all together */
} r;

static void cleanup(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = fuzz__ram(&gm, RAM_SIZE);
	shadow = malloc(RAM_SIZE);
	may_write = malloc(RAM_SIZE);
	if (!shadow || !may_write || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/v", dir);
	atexit(cleanup);
	return 0;
}

static uint64_t rings(unsigned q) { return RINGS(q); }
static uint32_t rd(uint64_t off) { return fuzz__rd(&t, off); }
static void wr(uint64_t off, uint32_t v) { fuzz__wr(&t, off, v); }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* the driver writes guest memory (and the shadow, for the check) */
static void gput(uint64_t gpa, const void *src, size_t len)
{
	memcpy(ram + gpa, src, len);
	memcpy(shadow + gpa, src, len);
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup_device(uint8_t flags, uint16_t qsize)
{
	struct vsock_opts o = { .on = true, .cid = 3 };
	char err[200];

	snprintf(o.socket, sizeof(o.socket), "%s", path);
	if (vsock_hy__init(&h, &o, err, sizeof(err))) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	if (virtio_mmio__init(&t, &vsock_hy_dev_ops, &h, QS, QMAX, &gm, 0xd0000000, 5,
			      (struct irq_line){ .set = fuzz__no_irq }))
		abort();
	uint64_t drop = 0;
	if (!(flags & 1))
		drop |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (!(flags & 2))
		drop |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	FUZZ_CHECK(fuzz__negotiate(&t, drop));
	fuzz__queues(&t, QS, qsize, rings);
	for (unsigned q = 0; q < QS; q++)
		memset(may_write + RINGS(q) + 0x2000, 1, 0x1000);	/* the used ring */
}

/* A chain on queue q, each buffer in fresh memory behind a guard of pattern bytes, when the
 * descriptor table (never reused) and the data region have room; its head or -1. gpa: the
 * buffers' addresses. */
static int post(unsigned q, const struct seg *s, unsigned n, uint64_t *gpa)
{
	struct queue *qq = &r.q[q];
	uint64_t need = 0;

	for (unsigned i = 0; i < n; i++)
		need += 32 + s[i].len;
	if (qq->descs + n > qq->size || r.bump + need > RAM_SIZE)
		return -1;
	uint16_t head = qq->descs;
	for (unsigned i = 0; i < n; i++) {
		gpa[i] = (r.bump + 16 + 15) & ~15ull;
		r.bump = gpa[i] + s[i].len;
		if (s[i].data)
			gput(gpa[i], s[i].data, s[i].len);
		if (s[i].w && q == 0)
			memset(may_write + gpa[i], 1, s[i].len);
		struct vring_desc d = { .addr = gpa[i], .len = s[i].len,
			.flags = (uint16_t)((s[i].w ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)(qq->descs + 1) };
		gput(RINGS(q) + 16ull * qq->descs++, &d, sizeof(d));
	}
	gput(RINGS(q) + 0x1000 + 4 + 2ull * qq->avail, &head, 2);
	qq->avail++;
	memcpy(shadow + RINGS(q) + 0x1000 + 2, &qq->avail, 2);
	__atomic_store_n((uint16_t *)(ram + RINGS(q) + 0x1000 + 2), qq->avail, __ATOMIC_RELEASE);
	if (r.live)
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	return head;
}

/* the header's fields from the input, into pkt; the payload's length */
static uint32_t tx_header(struct fin *in, uint8_t m, uint8_t *pkt)
{
	uint8_t op = fin__u8(in), pb = fin__u8(in);
	struct virtio_vsock_hdr hd = { .op = htole16(op < 0xf0 ? op % 9 : op) };

	/* (one statement each: the input is read in this order) */
	hd.src_cid = htole64(m & 1 ? fin__u64(in) : 3);
	hd.dst_cid = htole64(m & 2 ? fin__u64(in) : VSOCK_HOST_CID);
	hd.type = htole16(m & 4 ? fin__u16(in) : VIRTIO_VSOCK_TYPE_STREAM);
	hd.src_port = htole32(pb & 0x08 ? fin__u32(in) : ports[pb & 7]);
	hd.dst_port = htole32(pb & 0x80 ? fin__u32(in) : ports[pb >> 4 & 7]);
	hd.flags = htole32(fin__u8(in));
	hd.buf_alloc = htole32(fin__u32(in));
	hd.fwd_cnt = htole32(fin__u32(in));
	uint32_t plen = fin__u16(in) + (m & 0x40 ? 0x10000u : 0);
	hd.len = htole32(m & 8 ? fin__u32(in) : plen);
	memcpy(pkt, &hd, sizeof(hd));
	return plen;
}

static void tx_packet(struct fin *in)
{
	static uint8_t pkt[PKT_ROOM];
	static bool filled;
	struct seg s[MAX_SEGS];
	uint64_t gpa[MAX_SEGS];
	unsigned n = 0;
	uint8_t m = fin__u8(in);

	if (!filled) {
		for (size_t i = 0; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)(i * 7 + (i >> 8));
		filled = true;
	}
	uint32_t total = VSOCK_HDR_LEN + tx_header(in, m, pkt), off = 0;
	uint8_t first[16];
	fin__take(in, first, 16);
	memcpy(pkt + VSOCK_HDR_LEN, first, 16);	/* (the rest stays the pattern) */
	unsigned segs = 1 + fin__u8(in) % 8;
	if (m & 0x20)
		s[n++] = (struct seg){ 64, true, NULL };
	for (unsigned i = 0; i < segs; i++) {
		uint32_t len = i + 1 < segs ? fin__u8(in) : total - off;
		len = len < total - off ? len : total - off;
		s[n++] = (struct seg){ len, false, pkt + off };
		off += len;
	}
	if (m & 0x10)
		s[n++] = (struct seg){ 64, true, NULL };
	int head = post(1, s, n, gpa);
	if (head >= 0)
		r.tx_head[head] = true;
}

static void rx_chain(struct fin *in)
{
	struct seg s[MAX_SEGS];
	uint64_t gpa[MAX_SEGS];
	unsigned n = 1 + fin__u8(in) % 8;

	for (unsigned i = 0; i < n; i++) {
		s[i].len = fin__u16(in);
		s[i].w = !(fin__u8(in) & 1);
		s[i].data = NULL;
	}
	int head = post(0, s, n, gpa);
	if (head < 0)
		return;
	struct rx_chain *c = &r.rx[r.nrx];
	*c = (struct rx_chain){ 0 };
	for (unsigned i = 0; i < n; i++) {
		if (!s[i].w) {
			c->readable |= s[i].len > 0;	/* (empty descriptors are left out) */
			continue;
		}
		c->gpa[c->nw] = gpa[i];
		c->len[c->nw++] = s[i].len;
		c->wlen += s[i].len;
	}
	r.rx_of[head] = (int16_t)r.nrx++;
}

static void port_path(char *name, size_t len, uint32_t port)
{
	snprintf(name, len, "%s_%u", path, port);
}

static void add_end(int fd)
{
	if (r.nend < MAX_ENDS)
		r.end[r.nend++] = fd;
	else
		close(fd);
}

static void host_listen(unsigned pi)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (r.lis[pi] >= 0)
		return;
	port_path(a.sun_path, sizeof(a.sun_path), ports[pi]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		abort();
	r.lis[pi] = fd;
}

static void host_accept(void)
{
	for (unsigned i = 0; i < 8; i++) {
		int fd;
		while (r.lis[i] >= 0 && r.nend < MAX_ENDS &&
		       (fd = accept4(r.lis[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
			add_end(fd);
	}
}

static void host_connect(struct fin *in, uint8_t a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[40];
	size_t n;

	if (a & 0x80) {
		n = fin__u8(in) % 33;
		fin__take(in, line, n);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "CONNECT %u\n", ports[a >> 3 & 7]);
		n -= !!(a & 0x40);
	}
	if (r.nend == MAX_ENDS)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);	/* (the backlog is full) */
		return;
	}
	send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	add_end(fd);
}

static void host_op(struct fin *in)
{
	static uint8_t buf[0x10000];
	uint8_t a = fin__u8(in);
	int *e = r.nend ? &r.end[(a >> 3) % r.nend] : NULL;

	switch (a & 7) {
	case 0: host_listen(a >> 3 & 7); break;
	case 1: host_connect(in, a); break;
	case 2: host_accept(); break;
	case 3: {
		uint16_t len = fin__u16(in);
		if (e && *e >= 0) {
			memset(buf, a, len);
			send(*e, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		break;
	}
	case 4:
		if (e && *e >= 0)
			shutdown(*e, SHUT_WR);
		break;
	case 5:
		if (e && *e >= 0) {
			close(*e);
			*e = -1;
		}
		break;
	case 6:
		for (unsigned i = 0; i < r.nend; i++)
			while (r.end[i] >= 0 && recv(r.end[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		break;
	default: break;
	}
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n(&((struct vring_used *)(ram + RINGS(q) + 0x2000))->idx,
			       __ATOMIC_ACQUIRE);
}

/* Until the tx chains are answered and nothing moved for 1 ms, the device asked for a reset
 * or budget_ns passed (taken from it); whether the tx chains were answered or the device
 * cannot answer them (not running, needs a reset) */
static bool settle(uint64_t *budget_ns)
{
	struct vsock_hy_counters was = { 0 }, c;
	uint16_t was_used[2] = { 0xffff, 0xffff };
	uint64_t start = now_ns(), quiet_since = start;

	if (!r.live) {
		wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
		r.live = true;
	}
	for (;;) {
		uint64_t now = now_ns();
		bool tx_done = used_idx(1) == r.q[1].avail;
		if (!__atomic_load_n(&h.running, __ATOMIC_ACQUIRE) ||
		    (rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
			tx_done = true;
		vsock_hy__counters(&h, &c);
		uint16_t used[2] = { used_idx(0), used_idx(1) };
		if (memcmp(&c, &was, sizeof(c)) || memcmp(used, was_used, sizeof(used))) {
			was = c;
			memcpy(was_used, used, sizeof(used));
			quiet_since = now;
		}
		uint64_t spent = now - start;
		if ((tx_done && now - quiet_since >= 1000000) || spent >= *budget_ns) {
			*budget_ns -= spent < *budget_ns ? spent : *budget_ns;
			return tx_done;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	}
}

/* an rx entry of len bytes (>= the header) in chain c: a packet from the host to the guest */
static void check_header(const struct rx_chain *c, uint32_t len)
{
	struct virtio_vsock_hdr hd;
	uint8_t *p = (uint8_t *)&hd;
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nw && done < VSOCK_HDR_LEN; i++) {
		uint32_t k = c->len[i] < VSOCK_HDR_LEN - done ? c->len[i] : VSOCK_HDR_LEN - done;
		memcpy(p + done, ram + c->gpa[i], k);
		done += k;
	}
	uint16_t op = le16toh(hd.op);
	FUZZ_CHECK(le64toh(hd.src_cid) == VSOCK_HOST_CID && le64toh(hd.dst_cid) == 3 &&
		   le16toh(hd.type) == VIRTIO_VSOCK_TYPE_STREAM);
	FUZZ_CHECK(op >= VIRTIO_VSOCK_OP_REQUEST && op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	FUZZ_CHECK(le32toh(hd.len) == len - VSOCK_HDR_LEN);
	FUZZ_CHECK(op == VIRTIO_VSOCK_OP_RW || !hd.len);
}

/* used entries: chains that were posted, once each, lengths within their writable bytes */
static void check_used(void)
{
	const struct vring_used *u = (void *)(ram + RINGS(0) + 0x2000);
	bool seen[QMAX] = { 0 };
	uint16_t got = used_idx(0);

	FUZZ_CHECK(got <= r.q[0].avail);
	for (uint16_t i = 0; i < got; i++) {
		uint32_t id = u->ring[i].id, len = u->ring[i].len;
		FUZZ_CHECK(id < QMAX && r.rx_of[id] >= 0 && !seen[id]);
		seen[id] = true;
		const struct rx_chain *c = &r.rx[r.rx_of[id]];
		FUZZ_CHECK(len <= c->wlen && (len == 0 || len >= VSOCK_HDR_LEN));
		FUZZ_CHECK(!c->readable || len == 0);
		if (len)
			check_header(c, len);
	}
	u = (void *)(ram + RINGS(1) + 0x2000);
	got = used_idx(1);
	memset(seen, 0, sizeof(seen));
	FUZZ_CHECK(got <= r.q[1].avail);
	for (uint16_t i = 0; i < got; i++) {
		uint32_t id = u->ring[i].id;
		FUZZ_CHECK(id < QMAX && r.tx_head[id] && !seen[id] && u->ring[i].len == 0);
		seen[id] = true;
	}
}

/* the device wrote guest RAM only where it may: rx buffers and used rings */
static void check_ram(void)
{
	uint64_t end = r.bump + 0x20000 < RAM_SIZE ? r.bump + 0x20000 : RAM_SIZE;

	for (uint64_t o = 0; o < end; o += 4096) {
		uint64_t n = end - o < 4096 ? end - o : 4096;
		if (!memcmp(ram + o, shadow + o, n))
			continue;
		for (uint64_t i = o; i < o + n; i++)
			if (!may_write[i] && ram[i] != shadow[i]) {
				fprintf(stderr, "guest RAM at 0x%llx written\n", (unsigned long long)i);
				FUZZ_CHECK(!"the device wrote outside its buffers");
			}
	}
}

static void teardown(void)
{
	struct vsock_hy_counters c;
	char name[sizeof(path) + 16];

	virtio_mmio__destroy(&t);	/* resets the device: joins its thread */
	vsock_hy__counters(&h, &c);
	FUZZ_CHECK(c.conns == 0);
	check_used();
	check_ram();
	for (unsigned i = 0; i < r.nend; i++)
		if (r.end[i] >= 0)
			close(r.end[i]);
	for (unsigned i = 0; i < 8; i++)
		if (r.lis[i] >= 0) {
			close(r.lis[i]);
			port_path(name, sizeof(name), ports[i]);
			unlink(name);
		}
	vsock_hy__free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t flags = fin__u8(&in);
	uint16_t qsize = (uint16_t)(1u << (fin__u8(&in) % 9));
	unsigned fds = count_fds();

	memset(&r, 0, sizeof(r));
	memset(r.rx_of, 0xff, sizeof(r.rx_of));
	memset(r.lis, 0xff, sizeof(r.lis));
	for (unsigned q = 0; q < QS; q++)
		r.q[q].size = qsize;
	r.bump = DATA_GPA;
	r.wait_budget_ns = 100000000;
	memset(ram, PAT, RAM_SIZE);
	memset(shadow, PAT, RAM_SIZE);
	memset(ram, 0, DATA_GPA);	/* the rings start empty */
	memset(shadow, 0, DATA_GPA);
	memset(may_write, 0, RAM_SIZE);
	setup_device(flags, qsize);
	for (unsigned ops = 0; in.n && ops < 64; ops++) {
		uint8_t op = fin__u8(&in);
		if (op % 4 == 0)
			tx_packet(&in);
		else if (op % 4 == 1)
			rx_chain(&in);
		else if (op % 4 == 2)
			host_op(&in);
		else
			settle(&r.wait_budget_ns);
	}
	uint64_t final_ns = 200000000;
	FUZZ_CHECK(settle(&final_ns));	/* every tx chain answered within 200 ms */
	teardown();
	FUZZ_CHECK(count_fds() == fds);
	return 0;
}
