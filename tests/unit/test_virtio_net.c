/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: virtio-net over virtio-mmio with a fake driver and a socket pair for the tap: features, transmit, receive (one buffer, merged buffers, a starved ring), the control queue, hostile buffers, --net parsing. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>

#include "tests/lib/ck.h"
#include "tests/lib/vdrv.h"
#include "virtio/net.h"

#define RAM   (8u << 20)
#define QSZ   128
#define RXQ   0
#define TXQ   1
#define CTRLQ 2
#define BUF   0x200000ULL        /* buffers from here */

static struct vdrv d;
static struct net_dev n;
static int peer = -1;            /* the host side of the "tap" */

static const uint64_t BASE_F = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
			       (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
			       (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_CTRL_VQ);

static void setup_opts(const char *spec)
{
	struct net_opts o;
	struct tap t = { .nq = 1, .fake = true, .ifname = "fake0" };
	int sv[2];
	char err[200];

	ck_assert_int_eq(net__parse_opts(spec, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t.fd[0] = sv[0];
	peer = sv[1];
	ck_assert_int_eq(net__init_on(&n, &o, &t, &d.gm, err, sizeof(err)), 0);
	ck_assert_int_eq(vdrv__init(&d, RAM, &net_dev_ops, &n, net__num_queues(&n), NET_QUEUE_MAX), 0);
}

static void setup(void)
{
	setup_opts("tap=fake0,mac=52:54:00:12:34:56");
}

static void teardown(void)
{
	vdrv__destroy(&d);
	net__free(&n);
	close(peer);
}

static void start(uint64_t f)
{
	ck_assert_int_eq(vdrv__start(&d, f, 3, QSZ), 0);
}

static void stats(struct net_stats *s, uint64_t *errors)
{
	net__stats(&n, s, errors);
}

/* the frame the peer receives (what the guest sent): its length, or -1 after 2 s */
static ssize_t peer_recv(void *buf, size_t len)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };

	if (poll(&p, 1, VDRV_WAIT_MS) != 1)
		return -1;
	return recv(peer, buf, len, 0);
}

START_TEST(features_and_config)
{
	uint64_t f = vdrv__device_features(&d);
	uint8_t mac[6];
	uint16_t status, pairs;

	ck_assert(f & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	ck_assert(f & (1ULL << VIRTIO_NET_F_CSUM));
	ck_assert(f & (1ULL << VIRTIO_NET_F_HOST_TSO4));
	ck_assert(f & (1ULL << VIRTIO_NET_F_CTRL_VQ));
	ck_assert(!(f & (1ULL << VIRTIO_NET_F_MQ)));            /* one pair */
	ck_assert(!(f & (1ULL << VIRTIO_NET_F_MTU)));           /* not asked for */
	ck_assert(!(f & (1ULL << VIRTIO_NET_F_GUEST_TSO4)));    /* the fake tap takes no offloads */
	for (int i = 0; i < 6; i++)
		vdrv__config_read(&d, (uint32_t)i, &mac[i], 1);
	ck_assert_mem_eq(mac, "\x52\x54\x00\x12\x34\x56", 6);
	vdrv__config_read(&d, 6, &status, 2);
	ck_assert_uint_eq(status, VIRTIO_NET_S_LINK_UP);
	vdrv__config_read(&d, 8, &pairs, 2);
	ck_assert_uint_eq(pairs, 1);
	ck_assert_uint_eq(net__num_queues(&n), 3);
}
END_TEST

/* a frame over two readable buffers (header, payload) reaches the tap whole */
START_TEST(transmit)
{
	uint8_t *hdr = vdrv__ptr(&d, BUF), *pay = vdrv__ptr(&d, BUF + 0x1000), got[4096];
	struct net_stats s;
	uint64_t e;

	start(BASE_F);
	memset(hdr, 0, NET_HDR_LEN);
	for (int i = 0; i < 100; i++)
		pay[i] = (uint8_t)i;
	struct vdrv_buf b[2] = { { BUF, NET_HDR_LEN, false }, { BUF + 0x1000, 100, false } };
	vdrv__add(&d, TXQ, b, 2);
	vdrv__kick(&d, TXQ);
	ck_assert_int_eq(peer_recv(got, sizeof(got)), NET_HDR_LEN + 100);
	ck_assert_mem_eq(got + NET_HDR_LEN, pay, 100);
	ck_assert(vdrv__wait_used(&d, TXQ, 1, VDRV_WAIT_MS));
	ck_assert_uint_eq(vdrv__used(&d, TXQ, 0).len, 0);
	stats(&s, &e);
	ck_assert_uint_eq(s.tx_packets, 1);
	ck_assert_uint_eq(s.tx_bytes, 100);
	ck_assert_uint_eq(e, 0);
}
END_TEST

/* the peer sends a frame of len bytes (header included) filled with a pattern from seed */
static void peer_send(uint8_t *frame, size_t len, unsigned seed)
{
	memset(frame, 0, NET_HDR_LEN);
	for (size_t i = NET_HDR_LEN; i < len; i++)
		frame[i] = (uint8_t)(i * 7 + seed);
	ck_assert_int_eq(send(peer, frame, len, 0), (ssize_t)len);
}

/* without MRG_RXBUF: one buffer per frame, num_buffers 1 */
START_TEST(receive_one_buffer)
{
	static uint8_t frame[NET_HDR_LEN + 60];
	const struct virtio_net_hdr_v1 *h = vdrv__ptr(&d, BUF);

	start(BASE_F);
	struct vdrv_buf b = { BUF, 1526, true };
	vdrv__add(&d, RXQ, &b, 1);
	vdrv__kick(&d, RXQ);
	peer_send(frame, sizeof(frame), 1);
	ck_assert(vdrv__wait_used(&d, RXQ, 1, VDRV_WAIT_MS));
	ck_assert_uint_eq(vdrv__used(&d, RXQ, 0).len, sizeof(frame));
	ck_assert_mem_eq((uint8_t *)vdrv__ptr(&d, BUF) + NET_HDR_LEN, frame + NET_HDR_LEN, 60);
	ck_assert_uint_eq(h->num_buffers, 1);
	ck_assert(vdrv__wait_irqs(&d, 1, VDRV_WAIT_MS));
}
END_TEST

/* MRG_RXBUF: a 5000-byte frame over four 1500-byte buffers, published together */
START_TEST(receive_merged)
{
	static uint8_t frame[NET_HDR_LEN + 5000];
	struct net_stats s;
	uint64_t e;

	start(BASE_F | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 4; i++) {
		struct vdrv_buf b = { BUF + i * 0x1000, 1500, true };
		vdrv__add(&d, RXQ, &b, 1);
	}
	vdrv__kick(&d, RXQ);
	peer_send(frame, sizeof(frame), 2);
	ck_assert(vdrv__wait_used(&d, RXQ, 4, VDRV_WAIT_MS));
	uint32_t total = 0;
	for (uint16_t i = 0; i < 4; i++) {
		struct vring_used_elem u = vdrv__used(&d, RXQ, i);
		uint32_t skip = i ? 0 : NET_HDR_LEN;	/* the header now says num_buffers 4 */
		ck_assert_mem_eq((uint8_t *)vdrv__ptr(&d, BUF + u.id * 0x1000ULL) + skip,
				 frame + total + skip, u.len - skip);
		total += u.len;
	}
	ck_assert_uint_eq(total, sizeof(frame));
	ck_assert_uint_eq(((struct virtio_net_hdr_v1 *)vdrv__ptr(&d, BUF))->num_buffers, 4);
	stats(&s, &e);
	ck_assert_uint_eq(s.rx_packets, 1);
	ck_assert_uint_eq(s.rx_buffers, 4);
	ck_assert_uint_eq(s.rx_bytes, 5000);
}
END_TEST

/* frames wait while the ring is empty (none lost, nothing spins) and go in once it is filled */
START_TEST(receive_starved_then_refilled)
{
	static uint8_t frame[NET_HDR_LEN + 200];
	struct net_stats s;
	uint64_t e;

	start(BASE_F | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	peer_send(frame, sizeof(frame), 3);
	for (unsigned ms = 0; ms < VDRV_WAIT_MS; ms++) {	/* the thread read it and found no buffer */
		stats(&s, &e);
		if (s.rx_waits)
			break;
		usleep(1000);
	}
	ck_assert_uint_ge(s.rx_waits, 1);
	usleep(100 * 1000);
	ck_assert_uint_eq(vdrv__used_idx(&d, RXQ), 0);
	struct vdrv_buf b = { BUF, 2048, true };
	vdrv__add(&d, RXQ, &b, 1);
	vdrv__kick(&d, RXQ);
	ck_assert(vdrv__wait_used(&d, RXQ, 1, VDRV_WAIT_MS));
	ck_assert_uint_eq(vdrv__used(&d, RXQ, 0).len, sizeof(frame));
	ck_assert_mem_eq((uint8_t *)vdrv__ptr(&d, BUF) + NET_HDR_LEN, frame + NET_HDR_LEN, 200);
}
END_TEST

/* a ctrl command: class, command, data readable; one ack byte writable. The ack. */
static uint8_t ctrl(uint8_t class, uint8_t cmd, const void *data, uint32_t len, uint16_t nth)
{
	uint8_t *c = vdrv__ptr(&d, BUF), *ack = vdrv__ptr(&d, BUF + 0x100);

	c[0] = class;
	c[1] = cmd;
	memcpy(c + 2, data, len);
	*ack = 0xee;
	struct vdrv_buf b[2] = { { BUF, 2 + len, false }, { BUF + 0x100, 1, true } };
	vdrv__add(&d, CTRLQ, b, 2);
	vdrv__kick(&d, CTRLQ);
	ck_assert(vdrv__wait_used(&d, CTRLQ, nth, VDRV_WAIT_MS));
	return *ack;
}

START_TEST(control_queue)
{
	uint16_t one = 1;

	start(BASE_F);
	/* no MQ negotiated (nor offered for one pair): VQ_PAIRS_SET is an error */
	ck_assert_uint_eq(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &one, 2, 1),
			  VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "\1", 1, 2),
			  VIRTIO_NET_ERR);
	ck_assert_uint_eq(__atomic_load_n(&n.ctrl_commands, __ATOMIC_RELAXED), 2);
}
END_TEST

/* what a broken or hostile driver may post: errors counted, buffers given back, no stall */
START_TEST(hostile_buffers)
{
	static uint8_t frame[NET_HDR_LEN + 5000];
	struct net_stats s;
	uint64_t e;

	start(BASE_F | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	struct vdrv_buf hdr_only = { BUF, NET_HDR_LEN, false }, writable = { BUF, 64, true };
	vdrv__add(&d, TXQ, &hdr_only, 1);             /* nothing after the header */
	vdrv__add(&d, TXQ, &writable, 1);             /* a transmit buffer the device may write */
	vdrv__kick(&d, TXQ);
	ck_assert(vdrv__wait_used(&d, TXQ, 2, VDRV_WAIT_MS));
	/* 64 receive buffers of 20 bytes: too small for the frame, all given back empty */
	for (unsigned i = 0; i < NET_RX_CHAINS; i++) {
		struct vdrv_buf b = { BUF + 0x10000 + i * 64, 20, true };
		vdrv__add(&d, RXQ, &b, 1);
	}
	vdrv__kick(&d, RXQ);
	peer_send(frame, sizeof(frame), 4);
	ck_assert(vdrv__wait_used(&d, RXQ, NET_RX_CHAINS, VDRV_WAIT_MS));
	for (uint16_t i = 0; i < NET_RX_CHAINS; i++)
		ck_assert_uint_eq(vdrv__used(&d, RXQ, i).len, 0);
	/* a receive buffer the device may only read: given back empty, the frame dropped */
	struct vdrv_buf ro = { BUF, 2048, false };
	vdrv__add(&d, RXQ, &ro, 1);
	vdrv__kick(&d, RXQ);
	peer_send(frame, 100, 5);
	ck_assert(vdrv__wait_used(&d, RXQ, NET_RX_CHAINS + 1, VDRV_WAIT_MS));
	ck_assert_uint_eq(vdrv__used(&d, RXQ, NET_RX_CHAINS).len, 0);
	stats(&s, &e);
	ck_assert_uint_eq(s.tx_dropped, 2);
	ck_assert_uint_eq(s.rx_dropped, 2);
	ck_assert_uint_eq(e, 4);
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	/* and the device still works */
	struct vdrv_buf ok = { BUF + 0x8000, 2048, true };
	vdrv__add(&d, RXQ, &ok, 1);
	vdrv__kick(&d, RXQ);
	peer_send(frame, 300, 6);
	ck_assert(vdrv__wait_used(&d, RXQ, NET_RX_CHAINS + 2, VDRV_WAIT_MS));
	ck_assert_uint_eq(vdrv__used(&d, RXQ, NET_RX_CHAINS + 1).len, 300);
}
END_TEST

/* a reset while a frame waits for buffers: the thread stops, a new driver starts clean */
START_TEST(reset_with_frame_waiting)
{
	static uint8_t frame[NET_HDR_LEN + 100];

	start(BASE_F);
	peer_send(frame, sizeof(frame), 7);
	usleep(100 * 1000);
	vdrv__wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_STATUS), 0);
	start(BASE_F);
	struct vdrv_buf b = { BUF, 2048, true };
	vdrv__add(&d, RXQ, &b, 1);
	vdrv__kick(&d, RXQ);
	peer_send(frame, sizeof(frame), 8);
	ck_assert(vdrv__wait_used(&d, RXQ, 1, VDRV_WAIT_MS));
	ck_assert_mem_eq((uint8_t *)vdrv__ptr(&d, BUF) + NET_HDR_LEN, frame + NET_HDR_LEN, 100);
}
END_TEST

START_TEST(parse_errors)
{
	static const struct { const char *spec, *want; } bad[] = {
		{ "", "needs tap=NAME or fd=N" },
		{ "tap=a,fd=5", "needs tap=NAME or fd=N" },
		{ "tap=", "bad tap" },
		{ "tap=0123456789abcdef", "bad tap" },
		{ "tap=a/b", "bad tap" },
		{ "fd=1", "bad fd" },
		{ "fd=x", "bad fd" },
		{ "tap=t,mac=01:00:00:00:00:01", "bad mac" },
		{ "tap=t,mac=00:00:00:00:00:00", "bad mac" },
		{ "tap=t,mac=52:54:00:12:34", "bad mac" },
		{ "tap=t,mac=52:54:00:12:34:5g", "bad mac" },
		{ "tap=t,queues=0", "bad queues" },
		{ "tap=t,queues=5", "bad queues" },
		{ "tap=t,mtu=67", "bad mtu" },
		{ "tap=t,mtu=65536", "bad mtu" },
		{ "tap=t,vhost=maybe", "bad vhost" },
		{ "tap=t,speed=10", "unknown key 'speed'" },
		{ "tap", "not key=value" },
	};
	struct net_opts o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(net__parse_opts(bad[i].spec, &o, err, sizeof(err)) == -1, "%s", bad[i].spec);
		ck_assert_msg(strstr(err, bad[i].want), "%s: %s", bad[i].spec, err);
	}
	ck_assert_int_eq(net__parse_opts("tap=tap0,mac=02:aa:BB:cc:dd:ee,queues=4,mtu=9000,vhost=off",
					 &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.tap, "tap0");
	ck_assert_uint_eq(o.mac[1], 0xaa);
	ck_assert_uint_eq(o.queues, 4);
	ck_assert_uint_eq(o.mtu, 9000);
	ck_assert_int_eq(net__parse_opts("fd=7", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.fd, 7);
}
END_TEST

/* opening a tap that is not there: one line that says how to make it (no root needed) */
START_TEST(tap_missing)
{
	struct tap t;
	char err[256];

	ck_assert_int_eq(tap__open(&t, "kvmini-nosuch", 1, NET_HDR_LEN, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no such interface") && strstr(err, "ip tuntap add"), "%s", err);
	ck_assert_int_eq(tap__open(&t, "lo", 1, NET_HDR_LEN, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a tap"), "%s", err);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(tap__adopt(&t, p[0], NET_HDR_LEN, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a tap"), "%s", err);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio-net");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, features_and_config);
	tcase_add_test(tc, transmit);
	tcase_add_test(tc, receive_one_buffer);
	tcase_add_test(tc, receive_merged);
	tcase_add_test(tc, receive_starved_then_refilled);
	tcase_add_test(tc, control_queue);
	tcase_add_test(tc, hostile_buffers);
	tcase_add_test(tc, reset_with_frame_waiting);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("options");
	tcase_add_test(tp, parse_errors);
	tcase_add_test(tp, tap_missing);
	suite_add_tcase(s, tp);
	return s;
}
