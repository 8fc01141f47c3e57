/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: virtio-blk request handling (virtio/blk.c, devices/disk/disk.c) on a small file disk. */
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/fuzz/fuzz_disk.h"
#include "tests/fuzz/fuzz_driver.h"
#include "tests/fuzz/fuzz_input.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

/*
 * The input is a batch of requests that a driver puts in the queue before DRIVER_OK; the device
 * (virtio-mmio transport, engine=sync, a 64 KiB file) serves them on its I/O thread, the
 * harness waits until every one is answered or the device asks for a reset, checks what came
 * back, then resets the device (which joins the thread).
 *
 * Input: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 the read-only disk), queue size
 * selector (1 << (n % 9)), then requests until the input ends (at most the queue size):
 *   shape: bits 0..2 data segments (0..7), bit 3 through an indirect table, bit 4 no status
 *          byte, bit 5 data device-writable, bit 6 header split in two descriptors, bit 7 the
 *          header descriptor's length comes from the input (u8) instead of 16
 *   16 header bytes (type, ioprio, sector)
 *   per data segment: u16 length, u16 gpa selector (DATA_GPA + 16 * sel), and for a readable
 *          segment up to 16 bytes of contents (a discard/write-zeroes segment)
 */
#define RAM_SIZE  (512u << 10)
#define DESC_GPA  0x0000ull
#define AVAIL_GPA 0x1000ull
#define USED_GPA  0x2000ull
#define HDR_GPA   0x4000ull     /* 32 bytes per request: header, then the status byte at +24 */
#define IND_GPA   0x8000ull     /* 16 descriptors (256 bytes) per request */
#define DATA_GPA  0x20000ull
#define DISK_SIZE (64u << 10)
#define MAX_SEGS  10

static struct blk_dev rw, ro;
static struct virtio_mmio t;
static uint8_t *ram;
static struct guest_mem gm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz__blk_open(&rw, "", DISK_SIZE);
	fuzz__blk_open(&ro, "ro=on", DISK_SIZE);
	ram = fuzz__ram(&gm, RAM_SIZE);
	return 0;
}

static uint32_t rd(uint64_t off) { return fuzz__rd(&t, off); }
static void wr(uint64_t off, uint32_t v) { fuzz__wr(&t, off, v); }

struct seg { uint64_t gpa; uint32_t len; bool write; };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t flags = fin__u8(&in);
	uint16_t qsize = (uint16_t)(1u << (fin__u8(&in) % 9));
	struct blk_dev *b = (flags & 4) ? &ro : &rw;
	struct vring_desc *desc = (void *)(ram + DESC_GPA);
	struct vring_avail *avail = (void *)(ram + AVAIL_GPA);
	struct vring_used *used = (void *)(ram + USED_GPA);
	uint32_t in_bytes[256];
	int req_of_head[256];
	unsigned descs_used = 0;
	uint16_t n = 0, next_desc = 0;

	memset(ram, 0, RAM_SIZE);
	memset(req_of_head, 0xff, sizeof(req_of_head));
	if (virtio_mmio__init(&t, &blk_dev_ops, b, 1, BLK_QUEUE_MAX, &gm, 0xd0000000, 5,
			      (struct irq_line){ .set = fuzz__no_irq }))
		abort();

	/* the driver's setup, as Linux's virtio_mmio does it, up to the queue */
	FUZZ_CHECK(fuzz__negotiate(&t, (flags & 1 ? 0 : 1ull << VIRTIO_RING_F_EVENT_IDX) |
				      (flags & 2 ? 0 : 1ull << VIRTIO_RING_F_INDIRECT_DESC)));
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, qsize);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	FUZZ_CHECK(rd(VIRTIO_MMIO_QUEUE_READY) == 1);

	/* the requests */
	while (in.n && n < qsize) {
		uint8_t shape = fin__u8(&in);
		unsigned ndata = shape & 7;
		uint64_t hdr = HDR_GPA + 32ull * n;
		struct seg s[MAX_SEGS];
		unsigned k = 0;

		fin__take(&in, ram + hdr, sizeof(struct virtio_blk_outhdr));
		ram[hdr + 24] = 0xee;
		uint32_t hlen = (shape & 0x80) ? fin__u8(&in) : sizeof(struct virtio_blk_outhdr);
		if (shape & 0x40) {
			s[k++] = (struct seg){ hdr, hlen / 2, false };
			s[k++] = (struct seg){ hdr + hlen / 2, hlen - hlen / 2, false };
		} else {
			s[k++] = (struct seg){ hdr, hlen, false };
		}
		for (unsigned i = 0; i < ndata; i++) {
			uint32_t len = fin__u16(&in);
			uint64_t gpa = DATA_GPA + 16ull * fin__u16(&in);
			bool w = shape & 0x20;
			if (!w) {
				uint32_t c = len < 16 ? len : 16;
				if (gpa + c <= RAM_SIZE)
					fin__take(&in, ram + gpa, c);
			}
			s[k++] = (struct seg){ gpa, len, w };
		}
		if (!(shape & 0x10))
			s[k++] = (struct seg){ hdr + 24, 1, true };
		in_bytes[n] = 0;
		for (unsigned i = 0; i < k; i++)
			if (s[i].write)
				in_bytes[n] += s[i].len;

		uint16_t head;
		if ((shape & 8) && k) {
			struct vring_desc *tbl = (void *)(ram + IND_GPA + 256ull * n);
			for (unsigned i = 0; i < k; i++)
				tbl[i] = (struct vring_desc){
					.addr = s[i].gpa, .len = s[i].len,
					.flags = (uint16_t)((s[i].write ? VRING_DESC_F_WRITE : 0) |
							    (i + 1 < k ? VRING_DESC_F_NEXT : 0)),
					.next = (uint16_t)(i + 1),
				};
			head = next_desc;
			desc[head] = (struct vring_desc){ .addr = IND_GPA + 256ull * n,
							  .len = 16 * k, .flags = VRING_DESC_F_INDIRECT };
			next_desc = (uint16_t)((next_desc + 1) % qsize);
		} else {
			head = next_desc;
			for (unsigned i = 0; i < k; i++) {
				uint16_t d = next_desc;
				next_desc = (uint16_t)((next_desc + 1) % qsize);
				desc[d] = (struct vring_desc){
					.addr = s[i].gpa, .len = s[i].len,
					.flags = (uint16_t)((s[i].write ? VRING_DESC_F_WRITE : 0) |
							    (i + 1 < k ? VRING_DESC_F_NEXT : 0)),
					.next = next_desc,
				};
			}
		}
		descs_used += (shape & 8) && k ? 1 : k;
		req_of_head[head] = n;
		avail->ring[n % qsize] = head;
		n++;
	}
	__atomic_store_n(&avail->idx, n, __ATOMIC_RELEASE);

	/* DRIVER_OK starts the I/O thread, which drains the queue; wait for every answer */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == n ||
		    (rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		FUZZ_CHECK(now.tv_sec - t0.tv_sec < 5);	/* a request was lost */
		sched_yield();
	}
	uint16_t done = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	FUZZ_CHECK((uint16_t)(done - 0) <= n);
	for (uint16_t i = 0; i < done; i++) {
		struct vring_used_elem e = used->ring[i % qsize];
		FUZZ_CHECK(e.id < qsize);
	}
	/* When no chain overwrote another's descriptors, each answer belongs to one request:
	 * it had a writable byte for the status (the last one of the chain), and the device
	 * claims to have written at least that byte and at most every writable byte. */
	if (descs_used <= qsize) {
		for (uint16_t i = 0; i < done; i++) {
			struct vring_used_elem e = used->ring[i % qsize];
			int r = req_of_head[e.id];
			FUZZ_CHECK(r >= 0);
			FUZZ_CHECK(in_bytes[r] > 0);
			FUZZ_CHECK(e.len >= 1 && e.len <= in_bytes[r]);
			req_of_head[e.id] = -1;		/* answered once */
		}
	}
	wr(VIRTIO_MMIO_STATUS, 0);
	FUZZ_CHECK(rd(VIRTIO_MMIO_STATUS) == 0);
	virtio_mmio__destroy(&t);
	return 0;
}
