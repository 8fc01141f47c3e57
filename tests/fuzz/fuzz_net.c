/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: virtio-net's transmit, receive and control paths (virtio/net_io.c, net_ctrl.c) with a socket pair for the tap. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "tests/fuzz/fuzz_disk.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/fuzz/fuzz_input.h"
#include "virtio/mmio.h"
#include "virtio/net.h"

/*
 * A driver fills the receive, transmit and control queues before DRIVER_OK and the host side
 * of the "tap" (a SOCK_SEQPACKET pair) sends frames; the device's thread serves all of it. The
 * harness waits until every transmit chain is answered and every frame was taken (or the
 * device asked for a reset, or its receive ring ran dry), checks what came back, then resets
 * the device (which joins the thread).
 *
 * Input: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 MRG_RXBUF, bit 3 CTRL_VQ), queue
 * size selector (1 << (n % 8)), then operations until the input ends:
 *   op % 4 == 0: a transmit chain, 1 rx/2 a receive chain, 3 a control command chain:
 *     u8 segments (1..8), per segment u16 length, u16 gpa selector (DATA_GPA + 16 * sel),
 *     u8 bit 0 device-writable, and for a readable one up to 16 bytes of contents
 *   op & 4 (as well): the host sends a frame of u16 % 9000 bytes (its first 16 from the input)
 */
#define RAM_SIZE  (1u << 20)
#define RINGS(q)  (0x1000ull + (q) * 0x3000ull)   /* desc, avail (+0x1000), used (+0x2000) */
#define DATA_GPA  0x10000ull
#define QS        3

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_mmio t;
static struct net_dev n;
static int peer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = fuzz__ram(&gm, RAM_SIZE);
	return 0;
}

static uint64_t rings(unsigned q) { return RINGS(q); }
static uint32_t rd(uint64_t off) { return fuzz__rd(&t, off); }
static void wr(uint64_t off, uint32_t v) { fuzz__wr(&t, off, v); }

static void setup_device(uint8_t flags, uint16_t qsize)
{
	struct net_opts o = { .on = true, .fd = -1, .queues = 1 };
	struct tap tp = { .nq = 1, .fake = true, .ifname = "fuzz0" };
	int sv[2];
	char err[160];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	tp.fd[0] = sv[0];
	peer = sv[1];
	if (net__init_on(&n, &o, &tp, &gm, err, sizeof(err)) ||
	    virtio_mmio__init(&t, &net_dev_ops, &n, QS, NET_QUEUE_MAX, &gm, 0xd0000000, 5,
			      (struct irq_line){ .set = fuzz__no_irq }))
		abort();
	const unsigned bits[4] = { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
				   VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CTRL_VQ };
	uint64_t drop = 0;
	for (unsigned i = 0; i < 4; i++)
		if (!(flags & (1u << i)))
			drop |= 1ull << bits[i];
	FUZZ_CHECK(fuzz__negotiate(&t, drop));
	fuzz__queues(&t, QS, qsize, rings);
}

struct queue { uint16_t avail, next; uint16_t size; unsigned descs; };

/* one chain from the input on queue q; its writable bytes in *wbytes; its head */
static uint16_t add_chain(struct fin *in, unsigned q, struct queue *qs, uint32_t *wbytes)
{
	struct vring_desc *desc = (void *)(ram + RINGS(q));
	struct vring_avail *avail = (void *)(ram + RINGS(q) + 0x1000);
	unsigned segs = 1 + fin__u8(in) % 8;
	uint16_t head = qs[q].next;

	*wbytes = 0;
	for (unsigned i = 0; i < segs; i++) {
		uint32_t len = fin__u16(in);
		uint64_t gpa = DATA_GPA + 16ull * fin__u16(in);
		bool w = fin__u8(in) & 1;
		if (!w && gpa + 16 <= RAM_SIZE)
			fin__take(in, ram + gpa, 16);
		uint16_t d = qs[q].next;
		qs[q].next = (uint16_t)((d + 1) % qs[q].size);
		desc[d] = (struct vring_desc){ .addr = gpa, .len = len,
			.flags = (uint16_t)((w ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < segs ? VRING_DESC_F_NEXT : 0)),
			.next = qs[q].next };
		*wbytes += w ? len : 0;
	}
	avail->ring[qs[q].avail % qs[q].size] = head;
	avail->idx = ++qs[q].avail;
	qs[q].descs += segs;
	return head;
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n(&((struct vring_used *)(ram + RINGS(q) + 0x2000))->idx,
			       __ATOMIC_ACQUIRE);
}

/* until the transmit chains are answered and the frames taken, the device asked for a reset
 * or its receive ring ran dry (at most 2 s) */
static void wait_quiet(const struct queue *qs)
{
	for (int i = 0; i < 2000; i++) {
		int outq = 0;
		struct net_stats s;
		uint64_t e;
		net__stats(&n, &s, &e);
		ioctl(peer, SIOCOUTQ, &outq);
		bool tx_done = used_idx(1) == qs[1].avail;
		bool rx_done = (outq == 0 && !__atomic_load_n(&n.pair[0].frame_len, __ATOMIC_RELAXED))
			       || s.rx_waits;
		if ((tx_done && rx_done) || (rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t flags = fin__u8(&in);
	uint16_t qsize = (uint16_t)(1u << (fin__u8(&in) % 8));
	struct queue qs[QS] = { { 0, 0, qsize, 0 }, { 0, 0, qsize, 0 }, { 0, 0, qsize, 0 } };
	static uint8_t frame[9000];
	uint32_t rx_room[256] = { 0 }, w;

	memset(ram, 0, RAM_SIZE);
	setup_device(flags, qsize);
	for (unsigned ops = 0; in.n && ops < 64; ops++) {
		uint8_t op = fin__u8(&in);
		unsigned q = (op & 3) == 0 ? 1 : (op & 3) == 3 ? 2 : 0;
		if (qs[q].avail < qsize) {
			uint16_t head = add_chain(&in, q, qs, &w);
			if (q == 0)
				rx_room[head] = w;
		}
		if (op & 4) {
			uint16_t len = fin__u16(&in) % sizeof(frame);
			fin__take(&in, frame, len < 16 ? len : 16);
			send(peer, frame, len, MSG_DONTWAIT);
		}
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	wait_quiet(qs);
	/* what came back: never more used entries than chains, never more bytes than room */
	const struct vring_used *u = (void *)(ram + RINGS(0) + 0x2000);
	uint16_t got = used_idx(0);
	FUZZ_CHECK((uint16_t)(got) <= qs[0].avail);
	/* (chains that share descriptors, once the table wrapped, have no room of their own) */
	for (uint16_t i = 0; i < got && i < qsize && qs[0].descs <= qsize; i++)
		FUZZ_CHECK(u->ring[i].id < qsize && u->ring[i].len <= rx_room[u->ring[i].id]);
	FUZZ_CHECK(used_idx(1) <= qs[1].avail);
	virtio_mmio__destroy(&t);	/* resets the device: joins its thread */
	net__free(&n);
	close(peer);
	return 0;
}
