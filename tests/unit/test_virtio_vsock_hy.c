/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: hybrid virtio-vsock's packet layer and host end on a fake driver (connections both ways, credit, bad packets, a starved rx ring). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
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

#include "tests/lib/ck.h"
#include "tests/lib/vdrv.h"
#include "virtio/vsock_hy.h"

#define RAM   (4ULL << 20)
#define QSZ   128
#define RXQ   0
#define TXQ   1
#define RXBUF 0x100000ULL        /* rx buffers: RXBUF + head * 0x2000, 0x2000 bytes each */
#define TXHDR 0x300000ULL
#define TXPAY 0x301000ULL
#define CID   3
#define FEAT  ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX))

static struct vdrv d;
static struct vsock_hy h;
static bool up;
static char dir[48], path[64];
static uint16_t rx_seen;         /* rx used entries read so far */

static void start(void)
{
	struct vsock_opts o;
	char spec[200], err[200];

	snprintf(dir, sizeof(dir), "/tmp/kvmini-vsock-ut.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	snprintf(spec, sizeof(spec), "cid=%u,socket=%s", CID, path);
	ck_assert_int_eq(vsock__parse_opts(spec, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(vsock_hy__init(&h, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(vdrv__init(&d, RAM, &vsock_hy_dev_ops, &h, 3, VSOCK_QUEUE_MAX), 0);
	ck_assert_int_eq(vdrv__start(&d, FEAT, 3, QSZ), 0);
	up = true;
	rx_seen = 0;
}

static void teardown(void)
{
	char cmd[160];

	if (!up)
		return;
	vdrv__destroy(&d);
	vsock_hy__free(&h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	up = false;
}

static struct vsock_hy_counters counters(void)
{
	struct vsock_hy_counters c;

	vsock_hy__counters(&h, &c);
	return c;
}

static struct virtio_vsock_hdr hdr(uint16_t op, uint32_t gport, uint32_t hport, uint32_t len)
{
	return (struct virtio_vsock_hdr){ .src_cid = CID, .dst_cid = VSOCK_HOST_CID,
		.src_port = gport, .dst_port = hport, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op, .buf_alloc = 64 << 10 };
}

/* One packet on tx (header and payload in two buffers), kicked and waited for */
static void tx(struct virtio_vsock_hdr hd, const void *data, uint32_t n)
{
	struct vdrv_buf b[2] = { { TXHDR, VSOCK_HDR_LEN, false }, { TXPAY, n, false } };
	uint16_t want = (uint16_t)(vdrv__used_idx(&d, TXQ) + 1);

	memcpy(vdrv__ptr(&d, TXHDR), &hd, VSOCK_HDR_LEN);
	if (n)
		memcpy(vdrv__ptr(&d, TXPAY), data, n);
	vdrv__add(&d, TXQ, b, n ? 2 : 1);
	vdrv__kick(&d, TXQ);
	ck_assert(vdrv__wait_used(&d, TXQ, want, VDRV_WAIT_MS));
}

static void post_rx(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t head = d.q[RXQ].next_desc;
		struct vdrv_buf b = { RXBUF + head * 0x2000ULL, 0x2000, true };
		ck_assert_uint_eq(vdrv__add(&d, RXQ, &b, 1), head);
	}
	vdrv__kick(&d, RXQ);
}

/* Whether the device has put a packet in rx that the test has not read, within ms */
static bool rx_waiting(unsigned ms)
{
	for (unsigned t = 0; t < ms * 2; t++) {
		if (vdrv__used_idx(&d, RXQ) != rx_seen)
			return true;
		usleep(500);
	}
	return vdrv__used_idx(&d, RXQ) != rx_seen;
}

/* The next packet the device put in rx: its header; its payload in *data (if not NULL) */
static struct virtio_vsock_hdr rx(uint8_t **data)
{
	struct virtio_vsock_hdr hd;

	ck_assert_msg(rx_waiting(VDRV_WAIT_MS), "no rx packet");
	struct vring_used_elem e = vdrv__used(&d, RXQ, rx_seen++);
	uint8_t *p = vdrv__ptr(&d, RXBUF + e.id * 0x2000ULL);
	memcpy(&hd, p, VSOCK_HDR_LEN);
	ck_assert_uint_eq(e.len, VSOCK_HDR_LEN + hd.len);
	ck_assert_uint_eq(hd.src_cid, VSOCK_HOST_CID);
	ck_assert_uint_eq(hd.dst_cid, CID);
	if (data)
		*data = p + VSOCK_HDR_LEN;
	return hd;
}

/* No rx packet comes within ms */
static void no_rx(unsigned ms)
{
	ck_assert(!rx_waiting(ms));
}

static int unix_listen(const char *p)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	return s;
}

static int unix_connect(const char *p)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

/* Reads exactly n bytes from fd (bounded wait); how many came */
static size_t read_n(int fd, void *buf, size_t n)
{
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < n && poll(&p, 1, VDRV_WAIT_MS) == 1) {
		ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Whether kvmini closed fd within the wait: EOF, or ECONNRESET if it left bytes unread */
static bool eof(int fd)
{
	char c;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, VDRV_WAIT_MS) != 1)
		return false;
	ssize_t r = read(fd, &c, 1);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* the guest connects to host port 5000: PATH_5000 accepts; bytes both ways; the guest closes */
START_TEST(guest_connects)
{
	char lp[80], buf[16];
	struct virtio_vsock_hdr r;
	uint8_t *p;

	start();
	snprintf(lp, sizeof(lp), "%s_5000", path);
	int l = unix_listen(lp);
	post_rx(8);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 1234, 5000, 0), NULL, 0);
	r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(r.src_port, 5000);
	ck_assert_uint_eq(r.dst_port, 1234);
	ck_assert_uint_eq(r.buf_alloc, VSOCK_HY_BUF_ALLOC);
	int s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	tx(hdr(VIRTIO_VSOCK_OP_RW, 1234, 5000, 5), "hello", 5);
	ck_assert_uint_eq(read_n(s, buf, 5), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(write(s, "world!", 6), 6);
	r = rx(&p);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 6);
	ck_assert_mem_eq(p, "world!", 6);
	struct virtio_vsock_hdr sd = hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 5000, 0);
	sd.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	tx(sd, NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	ck_assert(eof(s));
	struct vsock_hy_counters c = counters();
	ck_assert_uint_eq(c.guest_connects, 1);
	ck_assert_uint_eq(c.conns, 0);
	ck_assert_uint_eq(c.tx_bytes, 5);
	ck_assert_uint_eq(c.rx_bytes, 6);
	ck_assert_uint_eq(c.errors, 0);
	close(s);
	close(l);
}
END_TEST

/* nothing listens on PATH_5001: the guest's connect is reset */
START_TEST(guest_connect_refused)
{
	start();
	post_rx(4);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 1234, 5001, 0), NULL, 0);
	struct virtio_vsock_hdr r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.src_port, 5001);
	ck_assert_uint_eq(r.dst_port, 1234);
	ck_assert_uint_eq(counters().refused, 1);
}
END_TEST

/* CONNECT 6000: a REQUEST to the guest; its RESPONSE gives the host "OK <port>"; bytes both
 * ways; the host closes after its last bytes: they arrive, then SHUTDOWN (both) */
START_TEST(host_connects)
{
	char line[32] = { 0 }, want[32];
	struct virtio_vsock_hdr r;
	uint8_t *p;

	start();
	post_rx(8);
	int s = unix_connect(path);
	ck_assert_int_eq(write(s, "CONNECT 6000\nearly", 18), 18);
	r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(r.dst_port, 6000);
	ck_assert_uint_ge(r.src_port, VSOCK_HY_PORT_BASE);
	uint32_t hp = r.src_port;
	tx(hdr(VIRTIO_VSOCK_OP_RESPONSE, 6000, hp, 0), NULL, 0);
	snprintf(want, sizeof(want), "OK %u\n", hp);
	ck_assert_uint_eq(read_n(s, line, strlen(want)), strlen(want));
	ck_assert_str_eq(line, want);
	r = rx(&p);	/* what the host wrote behind its line */
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 5);
	ck_assert_mem_eq(p, "early", 5);
	tx(hdr(VIRTIO_VSOCK_OP_RW, 6000, hp, 3), "abc", 3);
	ck_assert_uint_eq(read_n(s, line, 3), 3);
	ck_assert_mem_eq(line, "abc", 3);
	ck_assert_int_eq(write(s, "bye", 3), 3);
	close(s);
	r = rx(&p);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_mem_eq(p, "bye", 3);
	r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	if (r.flags == VIRTIO_VSOCK_SHUTDOWN_SEND) {	/* EOF read before the hang-up was seen */
		r = rx(NULL);
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	}
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	tx(hdr(VIRTIO_VSOCK_OP_RST, 6000, hp, 0), NULL, 0);
	struct vsock_hy_counters c = counters();
	ck_assert_uint_eq(c.host_connects, 1);
	ck_assert_uint_eq(c.conns, 0);
	ck_assert_uint_eq(c.rx_bytes, 8);
	ck_assert_uint_eq(c.tx_bytes, 3);
}
END_TEST

/* the host shuts its write side (a request, then the answer): the guest hears SHUTDOWN
 * (send) and its answer still reaches the host, which then sees EOF once the guest closes */
START_TEST(host_half_close)
{
	char lp[80], buf[8];
	struct virtio_vsock_hdr r;

	start();
	snprintf(lp, sizeof(lp), "%s_5006", path);
	int l = unix_listen(lp);
	post_rx(8);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 10, 5006, 0), NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RESPONSE);
	int s = accept(l, NULL, NULL);
	ck_assert_int_eq(write(s, "ask", 3), 3);
	ck_assert_int_eq(shutdown(s, SHUT_WR), 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RW);
	r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	tx(hdr(VIRTIO_VSOCK_OP_RW, 10, 5006, 6), "answer", 6);
	ck_assert_uint_eq(read_n(s, buf, 6), 6);
	ck_assert_mem_eq(buf, "answer", 6);
	struct virtio_vsock_hdr sd = hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 10, 5006, 0);
	sd.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	tx(sd, NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	ck_assert(eof(s));
	ck_assert_uint_eq(counters().conns, 0);
	close(s);
	close(l);
}
END_TEST

/* receive buffers with room for a header only: each carries a credit update, the host's
 * bytes wait for a bigger one (neither stuck nor lost); a CREDIT_REQUEST is answered */
START_TEST(header_only_rx_buffers)
{
	char lp[80];
	struct vdrv_buf small = { RXBUF, VSOCK_HDR_LEN, true };
	uint8_t *p;

	start();
	snprintf(lp, sizeof(lp), "%s_5007", path);
	int l = unix_listen(lp);
	post_rx(1);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 11, 5007, 0), NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RESPONSE);
	int s = accept(l, NULL, NULL);
	ck_assert_int_eq(write(s, "0123456789", 10), 10);
	tx(hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 11, 5007, 0), NULL, 0);
	for (int i = 0; i < 3; i++) {
		small.gpa = RXBUF + d.q[RXQ].next_desc * 0x2000ULL;
		vdrv__add(&d, RXQ, &small, 1);
		vdrv__kick(&d, RXQ);
		ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	}
	post_rx(1);
	struct virtio_vsock_hdr r = rx(&p);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 10);
	ck_assert_mem_eq(p, "0123456789", 10);
	close(s);
	close(l);
}
END_TEST

/* the host writes 4 MiB, then closes */
static void *host_writer(void *arg)
{
	static uint8_t chunk[65536];
	int s = *(int *)arg;

	for (unsigned i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 7);
	for (unsigned i = 0; i < 64; i++)
		if (write(s, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			break;
	shutdown(s, SHUT_WR);
	return NULL;
}

/* 4 MiB from the host to a guest that behaves as Linux's driver does: it consumes at once,
 * tells its credit only when what it last told leaves under 64 KiB, and refills its receive
 * ring only when under half of it is left */
START_TEST(host_stream_linux_credit)
{
	char line[32];
	uint32_t got = 0, fwd = 0, told = 0, posted = 64;
	bool shut = false;

	start();
	post_rx(64);
	int s = unix_connect(path);
	ck_assert_int_eq(write(s, "CONNECT 7000\n", 13), 13);
	struct virtio_vsock_hdr r = rx(NULL), q;
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_REQUEST);
	q = hdr(VIRTIO_VSOCK_OP_RESPONSE, 7000, r.src_port, 0);
	q.buf_alloc = 256 << 10;
	tx(q, NULL, 0);
	ck_assert_uint_gt(read(s, line, sizeof(line)), 0);
	pthread_t w;
	ck_assert_int_eq(pthread_create(&w, NULL, host_writer, &s), 0);
	while (!shut) {
		r = rx(NULL);
		posted--;
		if (r.op == VIRTIO_VSOCK_OP_SHUTDOWN)
			shut = true;
		got += r.len;
		fwd += r.len;
		if ((256u << 10) - (fwd - told) < (64u << 10)) {
			q = hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 7000, r.src_port, 0);
			q.buf_alloc = 256 << 10;
			q.fwd_cnt = fwd;
			tx(q, NULL, 0);
			told = fwd;
		}
		if (posted < 32) {
			post_rx(64 - posted);
			posted = 64;
		}
	}
	pthread_join(w, NULL);
	ck_assert_uint_eq(got, 4u << 20);
	close(s);
}
END_TEST

/* a full batch of tx packets, then one more that the driver kicks for only if the device
 * asked (EVENT_IDX, as Linux does): it is served (the device re-armed its kicks) */
START_TEST(tx_kick_after_a_full_batch)
{
	struct vdrv_buf b = { TXHDR, VSOCK_HDR_LEN, false };
	struct virtio_vsock_hdr x = hdr(VIRTIO_VSOCK_OP_RST, 1, 2, 0);	/* never answered */

	start();
	memcpy(vdrv__ptr(&d, TXHDR), &x, VSOCK_HDR_LEN);
	for (unsigned round = 0; round < 3; round++) {
		uint16_t old = d.q[TXQ].avail_idx;
		for (unsigned i = 0; i < VSOCK_HY_BATCH; i++)
			vdrv__add(&d, TXQ, &b, 1);
		if (vdrv__kick_needed(&d, TXQ, old))
			vdrv__kick(&d, TXQ);
		ck_assert_msg(vdrv__wait_used(&d, TXQ, (uint16_t)(old + VSOCK_HY_BATCH), VDRV_WAIT_MS),
			      "round %u: %u used of %u", round, vdrv__used_idx(&d, TXQ),
			      old + VSOCK_HY_BATCH);
	}
}
END_TEST

/* a guest that refuses (RST) a host connection: the host's socket closes without an OK */
START_TEST(host_connect_refused_by_guest)
{
	start();
	post_rx(4);
	int s = unix_connect(path);
	ck_assert_int_eq(write(s, "CONNECT 6001\n", 13), 13);
	struct virtio_vsock_hdr r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_REQUEST);
	tx(hdr(VIRTIO_VSOCK_OP_RST, 6001, r.src_port, 0), NULL, 0);
	ck_assert(eof(s));
	ck_assert_uint_eq(counters().conns, 0);
	ck_assert_uint_eq(counters().refused, 1);
	close(s);
}
END_TEST

/* lines that are not "CONNECT <port>\n": closed, nothing asked of the guest */
START_TEST(host_bad_lines)
{
	static const char *bad[] = { "HELLO 1\n", "CONNECT\n", "CONNECT 12x\n", "CONNECT 4294967296\n",
				     "CONNECT 1234567890123456789012345678901234567890" };
	start();
	post_rx(4);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = unix_connect(path);
		ck_assert_int_eq(write(s, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		ck_assert_msg(eof(s), "%s", bad[i]);
		close(s);
	}
	no_rx(200);
	ck_assert_uint_eq(counters().refused, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

/* the host sends more than the guest's buffer: the guest gets buf_alloc bytes, then more
 * only after it says (CREDIT_UPDATE) it consumed them */
START_TEST(guest_credit_honoured)
{
	char lp[80], big[5000];
	struct virtio_vsock_hdr r, q = hdr(VIRTIO_VSOCK_OP_REQUEST, 77, 5002, 0);
	uint32_t got = 0;

	start();
	snprintf(lp, sizeof(lp), "%s_5002", path);
	int l = unix_listen(lp);
	post_rx(16);
	q.buf_alloc = 1000;
	tx(q, NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RESPONSE);
	int s = accept(l, NULL, NULL);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(write(s, big, sizeof(big)), (ssize_t)sizeof(big));
	while (got < 1000) {
		r = rx(NULL);
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
		got += r.len;
	}
	ck_assert_uint_eq(got, 1000);
	no_rx(200);
	struct virtio_vsock_hdr cu = hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 77, 5002, 0);
	cu.buf_alloc = 1000;
	cu.fwd_cnt = 1000;
	tx(cu, NULL, 0);
	r = rx(NULL);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_le(r.len, 1000);
	close(s);
	close(l);
}
END_TEST

/* a guest that sends past the credit it was given, to a host that does not read: what the
 * socket does not take is held up to VSOCK_HY_BUF_ALLOC, then the connection is reset */
START_TEST(guest_over_credit)
{
	static uint8_t chunk[VSOCK_HY_PKT_MAX];
	char lp[80];
	unsigned i;

	start();
	snprintf(lp, sizeof(lp), "%s_5005", path);
	int l = unix_listen(lp);
	post_rx(16);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 9, 5005, 0), NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RESPONSE);
	int s = accept(l, NULL, NULL);
	for (i = 0; i < 64 && !counters().errors; i++)
		tx(hdr(VIRTIO_VSOCK_OP_RW, 9, 5005, sizeof(chunk)), chunk, sizeof(chunk));
	ck_assert_uint_eq(counters().errors, 1);
	ck_assert_uint_ge(i, VSOCK_HY_BUF_ALLOC / VSOCK_HY_PKT_MAX);	/* the credit was usable */
	struct virtio_vsock_hdr r;
	do
		r = rx(NULL);
	while (r.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(counters().conns, 0);
	close(s);
	close(l);
}
END_TEST

/* bad packets: each a driver error or a reset, and the device goes on */
START_TEST(bad_packets)
{
	struct vdrv_buf shortb = { TXHDR, 20, false };
	struct virtio_vsock_hdr x;

	start();
	post_rx(16);
	vdrv__add(&d, TXQ, &shortb, 1);			/* shorter than a header */
	vdrv__kick(&d, TXQ);
	ck_assert(vdrv__wait_used(&d, TXQ, 1, VDRV_WAIT_MS));
	tx(hdr(VIRTIO_VSOCK_OP_RW, 1, 2, 100), "abc", 3);	/* len past its buffers */
	x = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 5000, 0);
	x.src_cid = 9;						/* not the guest's CID */
	tx(x, NULL, 0);
	x = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 5000, 0);
	x.len = VSOCK_HY_PKT_MAX + 1;
	tx(x, NULL, 0);
	ck_assert_uint_eq(counters().errors, 4);
	no_rx(100);
	x = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 5000, 0);
	x.dst_cid = 5;						/* another CID: refused */
	tx(x, NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	tx(hdr(VIRTIO_VSOCK_OP_RW, 1, 5000, 3), "abc", 3);	/* no such connection */
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	tx(hdr(99, 1, 5000, 0), NULL, 0);			/* unknown op */
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	tx(hdr(VIRTIO_VSOCK_OP_RST, 1, 5000, 0), NULL, 0);	/* an RST is never answered */
	no_rx(100);
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

/* a guest that never gives rx buffers: its tx packets are still all served, the resets it is
 * owed wait (VSOCK_HY_RSTS at most), and come once buffers do */
START_TEST(rx_never_refilled)
{
	start();
	for (uint32_t i = 0; i < 200; i++)
		tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 100 + i, 5003, 0), NULL, 0);

	ck_assert_uint_eq(vdrv__used_idx(&d, TXQ), 200);
	post_rx(QSZ);
	for (unsigned i = 0; i < VSOCK_HY_RSTS; i++)
		ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RST);
	no_rx(200);
}
END_TEST

/* a device reset closes every host socket */
START_TEST(reset_closes_connections)
{
	char lp[80];

	start();
	snprintf(lp, sizeof(lp), "%s_5004", path);
	int l = unix_listen(lp);
	post_rx(4);
	tx(hdr(VIRTIO_VSOCK_OP_REQUEST, 9, 5004, 0), NULL, 0);
	ck_assert_uint_eq(rx(NULL).op, VIRTIO_VSOCK_OP_RESPONSE);
	int s = accept(l, NULL, NULL);
	ck_assert_uint_eq(counters().conns, 1);
	vdrv__wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert(eof(s));
	ck_assert_uint_eq(counters().conns, 0);
	close(s);
	close(l);
}
END_TEST

/* setup errors: something at the path that is not a socket; a socket in use */
START_TEST(init_errors)
{
	struct vsock_opts o = { .on = true, .cid = 3 };
	struct vsock_hy h2;
	char err[256];

	start();
	snprintf(o.socket, sizeof(o.socket), "%s", path);
	ck_assert_int_eq(vsock_hy__init(&h2, &o, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "in use"), "%s", err);
	snprintf(o.socket, sizeof(o.socket), "%s/file", dir);
	FILE *f = fopen(o.socket, "w");
	fclose(f);
	ck_assert_int_eq(vsock_hy__init(&h2, &o, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a socket"), "%s", err);
	ck_assert_int_eq(access(path, F_OK), 0);	/* the VM's socket was left alone */
}
END_TEST

Suite *virtio_vsock_hy_suite(void)
{
	Suite *s = suite_create("virtio-vsock-hybrid");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, guest_connects);
	tcase_add_test(tc, guest_connect_refused);
	tcase_add_test(tc, host_connects);
	tcase_add_test(tc, host_half_close);
	tcase_add_test(tc, tx_kick_after_a_full_batch);
	tcase_add_test(tc, host_stream_linux_credit);
	tcase_add_test(tc, header_only_rx_buffers);
	tcase_add_test(tc, host_connect_refused_by_guest);
	tcase_add_test(tc, host_bad_lines);
	tcase_add_test(tc, guest_credit_honoured);
	tcase_add_test(tc, guest_over_credit);
	tcase_add_test(tc, bad_packets);
	tcase_add_test(tc, rx_never_refilled);
	tcase_add_test(tc, reset_closes_connections);
	tcase_add_test(tc, init_errors);
	suite_add_tcase(s, tc);
	return s;
}
