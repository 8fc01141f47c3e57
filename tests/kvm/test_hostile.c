/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile guests: a scripted guest attacks virtio-blk over virtio-mmio and virtio-pci, and the UART. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "devices/pci.h"
#include "devices/serial.h"
#include "firmware/x86/layout.h"
#include "virtio/pci.h"
#include "tests/kvm/hostile.h"
#include "tests/lib/disk_fault.h"

#define DISK_SIZE   (1ULL << 20)
#define F_INDIRECT  (1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define NEEDS_RESET VIRTIO_CONFIG_S_NEEDS_RESET
#define QSZ         16

/* Every line kvmini printed is there once: guest misbehaviour never repeats a report. */
static void assert_no_repeated_line(const struct hg *h)
{
	const char *p = h->err_text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
		ck_assert_msg(hg__count(h, line) == 1, "reported more than once: %s", line);
		p += n;
	}
}

/* ---- broken chains and rings: each one must end in NEEDS_RESET, never in a crash ---- */

struct chain_attack {
	const char *name;
	/* lays out the chain in the ring set; returns the head to publish (or -1: done itself) */
	int (*lay)(struct hg *h, struct hg_dev *d);
};

static uint64_t hdr_gpa(struct hg *h, struct hg_dev *d, uint64_t sector)
{
	uint64_t a = hg__data(h, d, 16);
	struct virtio_blk_outhdr *o = hg__ram(h, a, 16);
	o->type = VIRTIO_BLK_T_IN;
	o->sector = sector;
	return a;
}

static void set(struct hg *h, struct hg_dev *d, unsigned i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	*hg__desc(h, d, i) = (struct vring_desc){ addr, len, flags, next };
}

#define N VRING_DESC_F_NEXT
#define W VRING_DESC_F_WRITE
#define I VRING_DESC_F_INDIRECT

static int lay_loop(struct hg *h, struct hg_dev *d)
{
	set(h, d, 0, hdr_gpa(h, d, 0), 16, N, 1);
	set(h, d, 1, hg__data(h, d, 512), 512, N, 0);
	return 0;
}

static int lay_head_past_queue(struct hg *h, struct hg_dev *d)
{
	(void)h, (void)d;
	return 200;
}

static int lay_next_past_queue(struct hg *h, struct hg_dev *d)
{
	set(h, d, 0, hdr_gpa(h, d, 0), 16, N, 99);
	return 0;
}

static int lay_avail_ahead(struct hg *h, struct hg_dev *d)
{
	hg__store(h, 2, HG_RINGS + (uint64_t)d->ring * 0x4000 + 0x1000 + 2, QSZ + 5);
	return -1;
}

static int lay_buf(struct hg *h, struct hg_dev *d, uint64_t addr, uint32_t len)
{
	set(h, d, 0, hdr_gpa(h, d, 0), 16, N, 1);
	set(h, d, 1, addr, len, N | W, 2);
	set(h, d, 2, hg__data(h, d, 1), 1, W, 0);
	return 0;
}

static int lay_past_ram(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, LAYOUT_MMIO_HOLE_END + (HG_RAM - LAYOUT_MMIO_HOLE), 512);
}

static int lay_across_hole(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, LAYOUT_MMIO_HOLE - 0x1000, 0x2000);
}

static int lay_in_hole(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, d->base, 512);	/* the device's own registers */
}

static int lay_into_high_ram(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, LAYOUT_MMIO_HOLE_END - 0x1000, 0x2000);
}

static int lay_gigantic(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, HG_DATA, 0xffffffffu);
}

static int lay_wrapping(struct hg *h, struct hg_dev *d)
{
	return lay_buf(h, d, 0xffffffffffffff00ULL, 0x200);
}

static int lay_indirect(struct hg *h, struct hg_dev *d, uint32_t len, uint16_t flags,
			const struct vring_desc *tbl, unsigned n)
{
	uint64_t t = hg__data(h, d, 256);
	memcpy(hg__ram(h, t, 256), tbl, n * sizeof(*tbl));
	set(h, d, 0, t, len, flags, 1);
	return 0;
}

static int lay_indirect_loop(struct hg *h, struct hg_dev *d)
{
	struct vring_desc tbl[2] = { { hdr_gpa(h, d, 0), 16, N, 1 },
				     { hg__data(h, d, 1), 1, W | N, 0 } };
	return lay_indirect(h, d, 32, I, tbl, 2);
}

static int lay_indirect_outside(struct hg *h, struct hg_dev *d)
{
	set(h, d, 0, 0x200000000ULL, 64, I, 0);
	return 0;
}

static int lay_indirect_next(struct hg *h, struct hg_dev *d)
{
	struct vring_desc tbl[1] = { { hdr_gpa(h, d, 0), 16, 0, 0 } };
	return lay_indirect(h, d, 16, I | N, tbl, 1);
}

static int lay_indirect_nested(struct hg *h, struct hg_dev *d)
{
	struct vring_desc tbl[1] = { { HG_DATA, 16, I, 0 } };
	return lay_indirect(h, d, 16, I, tbl, 1);
}

static int lay_indirect_bad_len(struct hg *h, struct hg_dev *d)
{
	struct vring_desc tbl[2] = { { hdr_gpa(h, d, 0), 16, 0, 0 } };
	return lay_indirect(h, d, 24, I, tbl, 2);
}

static int lay_read_after_write(struct hg *h, struct hg_dev *d)
{
	set(h, d, 0, hg__data(h, d, 1), 1, W | N, 1);
	set(h, d, 1, hdr_gpa(h, d, 0), 16, 0, 0);
	return 0;
}

static int lay_no_status(struct hg *h, struct hg_dev *d)
{
	set(h, d, 0, hdr_gpa(h, d, 0), 16, 0, 0);
	return 0;
}

static int lay_too_many(struct hg *h, struct hg_dev *d)
{
	for (unsigned i = 0; i < QSZ; i++)	/* every entry, then back to the start */
		set(h, d, i, hg__data(h, d, 512), 512, W | N, (uint16_t)((i + 1) % QSZ));
	return 0;
}

/* a good read published twice in one batch: its head is in flight when it comes again */
static int lay_head_twice(struct hg *h, struct hg_dev *d)
{
	hg__blk_req(h, d, VIRTIO_BLK_T_IN, 0, 0, 4096);
	struct vring_avail *a = hg__ram(h, HG_RINGS + (uint64_t)d->ring * 0x4000 + 0x1000, 64);
	a->ring[0] = a->ring[1] = 0;
	hg__store(h, 2, HG_RINGS + (uint64_t)d->ring * 0x4000 + 0x1000 + 2, 2);
	return -1;
}

/* an indirect table of 2000 chained readable descriptors: more than VIRTQ_MAX_SEGS */
static int lay_indirect_huge(struct hg *h, struct hg_dev *d)
{
	const unsigned n = 2000;
	uint64_t t = hg__data(h, d, 16 * n), hdr = hdr_gpa(h, d, 0);
	struct vring_desc *tbl = hg__ram(h, t, 16 * n);
	for (unsigned i = 0; i < n; i++)
		tbl[i] = (struct vring_desc){ hdr, 16, i + 1 < n ? N : 0, (uint16_t)(i + 1) };
	set(h, d, 0, t, 16 * n, I, 0);
	return 0;
}

static const struct chain_attack chain_attacks[] = {
	{ "descriptor loop", lay_loop },
	{ "head index past the queue", lay_head_past_queue },
	{ "next index past the queue", lay_next_past_queue },
	{ "avail idx more than the queue size ahead", lay_avail_ahead },
	{ "buffer past the end of RAM", lay_past_ram },
	{ "buffer across the start of the MMIO hole", lay_across_hole },
	{ "buffer inside the MMIO hole (the device's registers)", lay_in_hole },
	{ "buffer from the hole into RAM above 4 GiB", lay_into_high_ram },
	{ "gigantic length (4 GiB - 1)", lay_gigantic },
	{ "address + length wraps around", lay_wrapping },
	{ "indirect table with a loop", lay_indirect_loop },
	{ "indirect table outside RAM", lay_indirect_outside },
	{ "indirect descriptor with NEXT", lay_indirect_next },
	{ "indirect table inside an indirect table", lay_indirect_nested },
	{ "indirect table length not a multiple of 16", lay_indirect_bad_len },
	{ "readable buffer after a writable one", lay_read_after_write },
	{ "request without a status byte", lay_no_status },
	{ "chain through every descriptor and around", lay_too_many },
	{ "the same head twice in one batch (in flight)", lay_head_twice },
	{ "indirect chain of 2000 descriptors", lay_indirect_huge },
};
#define N_CHAIN (sizeof(chain_attacks) / sizeof(chain_attacks[0]))

/* ---- queue set-up and status attacks: NEEDS_RESET at enable or DRIVER_OK ---- */

struct setup_attack {
	const char *name;
	uint16_t qsize;
	uint64_t desc, avail, used;      /* 0: the ring set's own */
};

static const struct setup_attack setup_attacks[] = {
	{ "queue size 3 (not a power of two)", 3, 0, 0, 0 },
	{ "queue size 0", 0, 0, 0, 0 },
	{ "queue size 512 (more than QueueNumMax)", 512, 0, 0, 0 },
	{ "queue size 100 (not a power of two)", 100, 0, 0, 0 },
	{ "descriptor table outside RAM", QSZ, 0x200000000ULL, 0, 0 },
	{ "used ring across the MMIO hole", QSZ, 0, 0, LAYOUT_MMIO_HOLE - 0x40 },
	{ "available ring at an odd address", QSZ, 0, HG_RINGS + 0x3001, 0 },
	{ "descriptor table in the MMIO hole", QSZ, LAYOUT_PCI_ECAM, 0, 0 },
};
#define N_SETUP (sizeof(setup_attacks) / sizeof(setup_attacks[0]))

/* ---- requests the device answers with IOERR/UNSUPP and lives on ---- */

struct req_attack {
	const char *name;
	uint32_t type;
	uint64_t sector;
	uint32_t len;
	uint8_t want;
};

static const struct req_attack req_attacks[] = {
	{ "read at the sector past the end", VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512, VIRTIO_BLK_S_IOERR },
	{ "read across the end", VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 1024, VIRTIO_BLK_S_IOERR },
	{ "read at sector 2^64 - 1", VIRTIO_BLK_T_IN, UINT64_MAX, 512, VIRTIO_BLK_S_IOERR },
	{ "read at sector 2^55 (offset overflows)", VIRTIO_BLK_T_IN, 1ULL << 55, 512, VIRTIO_BLK_S_IOERR },
	{ "read of 100 bytes (not whole sectors)", VIRTIO_BLK_T_IN, 0, 100, VIRTIO_BLK_S_IOERR },
	{ "read of 32 MiB from a 1 MiB disk", VIRTIO_BLK_T_IN, 0, 32u << 20, VIRTIO_BLK_S_IOERR },
	{ "write of 0 bytes", VIRTIO_BLK_T_OUT, 0, 0, VIRTIO_BLK_S_IOERR },
	{ "unknown request type 0x77", 0x77, 0, 512, VIRTIO_BLK_S_UNSUPP },
	{ "discard with its segment in a writable buffer", VIRTIO_BLK_T_DISCARD, 0, 16,
	  VIRTIO_BLK_S_IOERR },
	{ "good read (the device still works)", VIRTIO_BLK_T_IN, 8, 4096, VIRTIO_BLK_S_OK },
};
#define N_REQ (sizeof(req_attacks) / sizeof(req_attacks[0]))

struct results {
	unsigned chain_poll[N_CHAIN], setup_poll[N_SETUP];
	uint64_t req_status[N_REQ], req_data[N_REQ];
	unsigned req_wait, after_poll, final_wait, inflight_wait, early_wait, sg_wait;
	uint64_t sg_status;
	uint64_t final_status, early_status, final_data, early_data;
	unsigned mark_end;
};

#define RESET_ROUNDS 8
#define INFLIGHT     16

/* The attacks both transports share, in one script; marks 1.. as it goes. */
static void virtq_attacks(struct hg *h, struct hg_dev *d, struct results *r)
{
	uint32_t mark = 1;

	for (unsigned i = 0; i < N_CHAIN; i++) {
		hg__bringup(h, d, F_INDIRECT, QSZ, true);
		int head = chain_attacks[i].lay(h, d);
		if (head >= 0)
			hg__publish(h, d, (uint16_t)head, 1);
		hg__notify(h, d, 0);
		r->chain_poll[i] = hg__wait_needs_reset(h, d);
		/* a driver that goes on kicking a broken queue: still one report */
		hg__op(h, SOP_REPSTORE, d->pci ? 2 : 4,
		       d->pci ? d->base + 0x3000 : d->base + VIRTIO_MMIO_QUEUE_NOTIFY, 0, 200, 0);
		hg__mark(h, mark++);
	}
	for (unsigned i = 0; i < N_SETUP; i++) {
		const struct setup_attack *a = &setup_attacks[i];
		hg__bringup(h, d, 0, 0, false);
		hg__queue(h, d, a->qsize, a->desc, a->avail, a->used);
		r->setup_poll[i] = hg__wait_needs_reset(h, d);
		hg__mark(h, mark++);
	}
	/* DRIVER_OK without FEATURES_OK, and with the queue never enabled */
	hg__status(h, d, 0);
	hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_DRIVER_OK);
	r->after_poll = hg__wait_needs_reset(h, d);
	hg__mark(h, mark++);

	/* a kick before DRIVER_OK is served once the driver is ready */
	hg__bringup(h, d, 0, QSZ, false);
	uint64_t st = hg__blk_req(h, d, VIRTIO_BLK_T_IN, 0, 0, 512);
	r->early_data = h->last_data;
	hg__publish(h, d, 0, 1);
	hg__notify(h, d, 0);
	hg__notify(h, d, 7);	/* and one for a queue that does not exist */
	hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	r->early_wait = hg__wait_used(h, d, 1);
	r->early_status = st;
	hg__mark(h, mark++);

	/* requests the device refuses one by one */
	hg__bringup(h, d, 0, 64, true);
	for (unsigned i = 0; i < N_REQ; i++) {
		r->req_status[i] = hg__blk_req(h, d, req_attacks[i].type, req_attacks[i].sector, 0,
					       req_attacks[i].len);
		r->req_data[i] = h->last_data;
	}
	hg__publish(h, d, 0, N_REQ);
	hg__notify(h, d, 0);
	r->req_wait = hg__wait_used(h, d, N_REQ);
	hg__mark(h, mark++);

	/* a read scattered over 600 segments of 512 bytes (seg_max is 254): IOERR, device lives */
	hg__bringup(h, d, F_INDIRECT, QSZ, true);
	{
		const unsigned segs = 600;
		uint64_t t = hg__data(h, d, 16 * (segs + 2)), buf = hg__data(h, d, 512 * segs);
		struct vring_desc *tbl = hg__ram(h, t, 16 * (segs + 2));
		r->sg_status = hg__data(h, d, 1);
		*(uint8_t *)hg__ram(h, r->sg_status, 1) = 0xff;
		tbl[0] = (struct vring_desc){ hdr_gpa(h, d, 0), 16, N, 1 };
		for (unsigned i = 0; i < segs; i++)
			tbl[1 + i] = (struct vring_desc){ buf + 512 * i, 512, N | W, (uint16_t)(i + 2) };
		tbl[segs + 1] = (struct vring_desc){ r->sg_status, 1, W, 0 };
		set(h, d, 0, t, 16 * (segs + 2), I, 0);
		hg__publish(h, d, 0, 1);
		hg__notify(h, d, 0);
		r->sg_wait = hg__wait_used(h, d, 1);
	}
	hg__mark(h, mark++);

	/* reset with requests in flight, RESET_ROUNDS times */
	for (unsigned round = 0; round < RESET_ROUNDS; round++) {
		hg__bringup(h, d, 0, 64, true);
		for (unsigned i = 0; i < INFLIGHT; i++)
			hg__blk_req(h, d, i & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 64 * i, 0,
				    32768);
		hg__publish(h, d, 0, INFLIGHT);
		hg__notify(h, d, 0);
		hg__status(h, d, 0);	/* at once: the device must wait for them, then forget */
	}
	hg__mark(h, mark++);

	/* after all that, a plain read works */
	hg__bringup(h, d, 0, QSZ, true);
	r->final_status = hg__blk_req(h, d, VIRTIO_BLK_T_IN, 16, 0, 4096);
	r->final_data = h->last_data;
	hg__publish(h, d, 0, 1);
	hg__notify(h, d, 0);
	r->final_wait = hg__wait_used(h, d, 1);
	r->mark_end = mark;
	hg__mark(h, mark);
}

static void check_virtq_attacks(struct hg *h, const struct hg_dev *d, const struct results *r)
{
	for (unsigned i = 0; i < N_CHAIN; i++)
		ck_assert_msg(hg__out(h, r->chain_poll[i]) & NEEDS_RESET,
			      "%s: no NEEDS_RESET (status 0x%llx)", chain_attacks[i].name,
			      (unsigned long long)hg__out(h, r->chain_poll[i]));
	for (unsigned i = 0; i < N_SETUP; i++)
		ck_assert_msg(hg__out(h, r->setup_poll[i]) & NEEDS_RESET,
			      "%s: no NEEDS_RESET (status 0x%llx)", setup_attacks[i].name,
			      (unsigned long long)hg__out(h, r->setup_poll[i]));
	ck_assert(hg__out(h, r->after_poll) & NEEDS_RESET);
	ck_assert_uint_eq(hg__out(h, r->early_wait), 1);
	ck_assert_uint_eq(hg__byte(h, r->early_status), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__out(h, r->req_wait), N_REQ);
	for (unsigned i = 0; i < N_REQ; i++)
		ck_assert_msg(hg__byte(h, r->req_status[i]) == req_attacks[i].want,
			      "%s: status %u, want %u", req_attacks[i].name,
			      hg__byte(h, r->req_status[i]), req_attacks[i].want);
	ck_assert_uint_eq(hg__out(h, r->sg_wait), 1);
	ck_assert_uint_eq(hg__byte(h, r->sg_status), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(hg__out(h, r->final_wait), 1);
	ck_assert_uint_eq(hg__byte(h, r->final_status), VIRTIO_BLK_S_OK);
	/* what the good reads brought is what the disk holds, byte for byte */
	ck_assert_msg(hg__matches_disk(h, d->idx, r->early_data, 0, 512), "early read: wrong data");
	ck_assert_msg(hg__matches_disk(h, d->idx, r->final_data, 16, 4096), "final read: wrong data");
	for (unsigned i = 0; i < N_REQ; i++)
		if (req_attacks[i].want == VIRTIO_BLK_S_OK && req_attacks[i].type == VIRTIO_BLK_T_IN)
			ck_assert_msg(hg__matches_disk(h, d->idx, r->req_data[i], req_attacks[i].sector,
						       req_attacks[i].len), "%s: wrong data",
				      req_attacks[i].name);
	/* every attack reached its mark, in order */
	ck_assert_uint_ge(h->nmarks, r->mark_end);
	for (unsigned i = 0; i < r->mark_end; i++)
		ck_assert_uint_eq(h->marks[i], i + 1);

	struct blk_stats s = hg__blk_stats(h, d->idx);
	/* the bad requests are counted as such, not as I/O errors of the disk */
	ck_assert_uint_eq(s.io_errors, 0);
	ck_assert_uint_ge(s.bad_requests, 8);
	ck_assert_uint_ge(s.unsupported, 1);
	ck_assert_uint_gt(hg__protocol_errors(h, d->idx), N_SETUP);
	/* stderr: no line twice, and at most VIRTIO_REPORT_KINDS + 1 per device */
	assert_no_repeated_line(h);
	ck_assert_uint_le(hg__count(h, "kvmini: "), 2 * (VIRTIO_REPORT_KINDS + 1));
	ck_assert_uint_ge(hg__count(h, "device needs reset"), 1);
}

/* ---- register files: every width at every offset, read-only registers ---- */

static const uint32_t widths[] = { 1, 2, 4, 8 };

/* Reads of every width at every offset of [lo, hi) of the window at base; returns the first op */
static unsigned sweep_reads(struct hg *h, uint64_t base, uint32_t lo, uint32_t hi)
{
	unsigned first = h->nops;
	for (uint32_t off = lo; off < hi; off++)
		for (unsigned w = 0; w < 4; w++)
			hg__load(h, widths[w], base + off);
	return first;
}

static void sweep_writes(struct hg *h, uint64_t base, uint32_t lo, uint32_t hi, uint64_t val)
{
	for (uint32_t off = lo; off < hi; off++)
		for (unsigned w = 0; w < 4; w++)
			hg__store(h, widths[w], base + off, val);
}

/* What an in-bounds config read must return: the device's config bytes. */
static void check_config_sweep(struct hg *h, unsigned first, uint32_t cfg_size, unsigned extra)
{
	const uint8_t *cfg = (const uint8_t *)&h->m->blk[0].config;
	for (uint32_t off = 0; off < cfg_size + extra; off++) {
		for (unsigned w = 0; w < 4; w++) {
			uint64_t got = hg__out(h, first + off * 4 + w), want = 0;
			if (off + widths[w] <= cfg_size)
				memcpy(&want, cfg + off, widths[w]);
			ck_assert_msg(got == want, "config read of %u bytes at %u: 0x%llx, want 0x%llx",
				      widths[w], off, (unsigned long long)got, (unsigned long long)want);
		}
	}
}

START_TEST(mmio_hostile_driver)
{
	struct hg *h = hg__new(1, DISK_SIZE, false, ",engine=io_uring", NULL);
	struct hg_dev d;
	static struct results r;
	const uint32_t cfg_size = sizeof(struct virtio_blk_config);

	hg__dev_init(h, &d, 0);
	virtq_attacks(h, &d, &r);
	uint32_t mark = r.mark_end + 1;

	/* the register file: reads of every width at every offset, writes to read-only ones */
	hg__bringup(h, &d, 0, QSZ, true);
	sweep_reads(h, d.base, 0, VIRTIO_MMIO_CONFIG);
	static const uint32_t ro[] = { VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION,
		VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_VENDOR_ID, VIRTIO_MMIO_DEVICE_FEATURES,
		VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_INTERRUPT_STATUS,
		VIRTIO_MMIO_CONFIG_GENERATION, 0x0ac, 0x0b0, 0x0f0 };
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		hg__store(h, 4, d.base + ro[i], 0x5a5a5a5a);
	unsigned magic = hg__load(h, 4, d.base + VIRTIO_MMIO_MAGIC_VALUE);
	unsigned devid = hg__load(h, 4, d.base + VIRTIO_MMIO_DEVICE_ID);
	unsigned qmax = hg__load(h, 4, d.base + VIRTIO_MMIO_QUEUE_NUM_MAX);
	/* queue registers with QueueSel past the last queue; live-queue reconfiguration */
	hg__store(h, 4, d.base + VIRTIO_MMIO_QUEUE_SEL, 9);
	hg__store(h, 4, d.base + VIRTIO_MMIO_QUEUE_NUM, 8);
	hg__store(h, 4, d.base + VIRTIO_MMIO_QUEUE_SEL, 0);
	hg__store(h, 4, d.base + VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	hg__store(h, 4, d.base + VIRTIO_MMIO_QUEUE_READY, 0);
	/* config space: every width at every offset, past the end too; writes to it */
	unsigned cfg_first = sweep_reads(h, d.base + VIRTIO_MMIO_CONFIG, 0, cfg_size + 16);
	sweep_writes(h, d.base + VIRTIO_MMIO_CONFIG, 0, cfg_size + 16, 0);
	/* two kinds of error alternating 200 times: two lines, not 400 */
	for (unsigned i = 0; i < 200; i++) {
		hg__load(h, 2, d.base + 2);
		hg__load(h, 4, d.base + VIRTIO_MMIO_CONFIG + cfg_size);
	}
	/* the device still works */
	uint64_t st = hg__blk_req(h, &d, VIRTIO_BLK_T_IN, 0, 0, 512);
	hg__publish(h, &d, 0, 1);
	hg__notify(h, &d, 0);
	unsigned w = hg__wait_used(h, &d, 1);
	unsigned status = hg__status_read(h, &d);
	hg__mark(h, mark);

	ck_assert_msg(hg__run(h, 100000), "the payload did not finish: %s", h->m->vm.stop_msg);
	check_virtq_attacks(h, &d, &r);
	ck_assert_uint_eq(hg__out(h, magic), 0x74726976);
	ck_assert_uint_eq(hg__out(h, devid), VIRTIO_ID_BLOCK);
	ck_assert_uint_eq(hg__out(h, qmax), BLK_QUEUE_MAX);
	check_config_sweep(h, cfg_first, cfg_size, 16);
	ck_assert_uint_eq(hg__out(h, w), 1);
	ck_assert_uint_eq(hg__byte(h, st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__out(h, status) & NEEDS_RESET, 0);
	ck_assert_uint_eq(hg__count(h, "register read that is not 32-bit aligned"), 1);
	ck_assert_uint_eq(hg__count(h, "config read past the end of config space"), 1);
	ck_assert_uint_eq(hg__count(h, "write to a read-only register"), 1);
	ck_assert_uint_eq(h->marks[h->nmarks - 1], mark);
	hg__free(h);
}
END_TEST

static void set_bar0(struct hg *h, const struct hg_dev *d, uint64_t addr)
{
	hg__store(h, 4, d->ecam + PCI_CFG_BAR0, (uint32_t)addr);
	hg__store(h, 4, d->ecam + PCI_CFG_BAR0 + 4, (uint32_t)(addr >> 32));
}

/* One plain read on a fresh ring set; returns the status byte's gpa and sets *wait. */
static uint64_t plain_read(struct hg *h, struct hg_dev *d, unsigned *wait)
{
	hg__bringup(h, d, 0, QSZ, true);
	uint64_t st = hg__blk_req(h, d, VIRTIO_BLK_T_IN, 0, 0, 512);
	hg__publish(h, d, 0, 1);
	hg__notify(h, d, 0);
	*wait = hg__wait_used(h, d, 1);
	return st;
}

/* a read with the queue's vector (1) masked until its completion is pending in the PBA
 * (*pba: the PBA then), then unmasked, which delivers it */
static uint64_t masked_read(struct hg *h, struct hg_dev *d, unsigned *wait, unsigned *pba)
{
	hg__bringup(h, d, 0, QSZ, true);
	hg__store(h, 4, d->base + VPCI_MSIX_OFF + 16 + 12, 1);
	uint64_t st = hg__blk_req(h, d, VIRTIO_BLK_T_IN, 0, 0, 512);
	hg__publish(h, d, 0, 1);
	hg__notify(h, d, 0);
	*wait = hg__wait_used(h, d, 1);
	*pba = hg__poll(h, 8, d->base + VPCI_PBA_OFF, 2, 2);
	hg__store(h, 4, d->base + VPCI_MSIX_OFF + 16 + 12, 0);
	return st;
}

START_TEST(pci_hostile_driver)
{
	struct hg *h = hg__new(2, DISK_SIZE, true, ",engine=sync", NULL);
	struct hg_dev d, d2;
	static struct results r;
	const uint32_t cfg_size = sizeof(struct virtio_blk_config);

	hg__dev_init(h, &d, 0);
	hg__dev_init(h, &d2, 1);
	hg__msix_setup(h, &d, LAYOUT_LAPIC);
	virtq_attacks(h, &d, &r);
	uint32_t mark = r.mark_end + 1;

	/* common configuration: every width at every offset, read-only fields written */
	hg__bringup(h, &d, 0, QSZ, true);
	sweep_reads(h, d.base, 0, VPCI_COMMON_LEN + 8);
	hg__store(h, 4, d.base + VIRTIO_PCI_COMMON_DF, 0xffffffff);
	hg__store(h, 2, d.base + VIRTIO_PCI_COMMON_NUMQ, 7);
	hg__store(h, 1, d.base + VIRTIO_PCI_COMMON_CFGGENERATION, 7);
	hg__store(h, 2, d.base + VIRTIO_PCI_COMMON_Q_NOFF, 7);
	hg__store(h, 2, d.base + VIRTIO_PCI_COMMON_Q_MSIX, 50);	/* no such vector */
	unsigned numq = hg__load(h, 2, d.base + VIRTIO_PCI_COMMON_NUMQ);
	unsigned qvec = hg__load(h, 2, d.base + VIRTIO_PCI_COMMON_Q_MSIX);
	hg__store(h, 2, d.base + VIRTIO_PCI_COMMON_Q_MSIX, 1);
	/* device config: every width at every offset, past the end too; writes */
	unsigned cfg_first = sweep_reads(h, d.base + VPCI_DEVCFG_OFF, 0, cfg_size + 16);
	sweep_writes(h, d.base + VPCI_DEVCFG_OFF, 0, cfg_size + 16, 0);
	/* ISR with the wrong width, holes of BAR 0, the PBA written, MSI-X entries past the table */
	hg__load(h, 2, d.base + VPCI_ISR_OFF);
	hg__load(h, 4, d.base + 0x7000);
	hg__store(h, 8, d.base + VPCI_PBA_OFF, ~0ULL);
	hg__store(h, 4, d.base + VPCI_MSIX_OFF + 16 * 40, 0xfee00000);
	unsigned past_table = hg__load(h, 4, d.base + VPCI_MSIX_OFF + 16 * 40);
	hg__mark(h, mark++);

	/* config space through ECAM: every width at every offset of the header and capabilities;
	 * read-only ids written; an access across the end of the function's 4 KiB; an absent
	 * function; the same through CF8/CFC */
	sweep_reads(h, d.ecam, 0, 0x100);
	hg__store(h, 4, d.ecam + PCI_CFG_VENDOR, 0x12345678);
	hg__store(h, 4, d.ecam + PCI_CFG_REVISION, 0x12345678);
	unsigned vendor = hg__load(h, 4, d.ecam + PCI_CFG_VENDOR);
	unsigned across = hg__load(h, 8, d.ecam + 0xffc);
	unsigned absent = hg__load(h, 4, LAYOUT_PCI_ECAM + (9u << 15));
	hg__op(h, SOP_OUT, 4, PCI_CF8_PORT, 0x80000000u | (d.ecam - LAYOUT_PCI_ECAM) >> 4, 0, 0);
	unsigned cf8_vendor = hg__op(h, SOP_IN, 4, PCI_CF8_PORT + 4, 0, 0, 0);
	hg__op(h, SOP_OUT, 4, PCI_CF8_PORT, 0x800000fcu | (d.ecam - LAYOUT_PCI_ECAM) >> 4, 0, 0);
	hg__op(h, SOP_IN, 4, PCI_CF8_PORT + 6, 0, 0, 0);	/* a dword across the data window */
	hg__mark(h, mark++);

	/* MSI-X entries pointing nowhere: interrupts are dropped, requests still complete. The
	 * queue's vector stays masked until its completion is pending, and the unmask delivers
	 * it to nowhere before the entries point at the LAPIC again: without the mask the guest
	 * could repoint them between the used entry and the device's interrupt (seen in the L1) */
	hg__msix_setup(h, &d, 0x12340000);
	unsigned nowhere_wait, nowhere_pba;
	uint64_t nowhere_st = masked_read(h, &d, &nowhere_wait, &nowhere_pba);
	hg__msix_setup(h, &d, LAYOUT_LAPIC);
	hg__mark(h, mark++);

	/* the queue's vector masked: the completion leaves its PBA bit, the unmask delivers it */
	unsigned masked_wait, pba;
	uint64_t masked_st = masked_read(h, &d, &masked_wait, &pba);
	unsigned pba_after = hg__load(h, 8, d.base + VPCI_PBA_OFF);
	hg__mark(h, mark++);

	/* a driver that never enables MSI-X (the second function): INTx, requests complete */
	unsigned nomsix_wait;
	uint64_t nomsix_st = plain_read(h, &d2, &nomsix_wait);
	uint64_t nomsix_st2 = plain_read(h, &d2, &nomsix_wait);
	hg__mark(h, mark++);

	/* BAR 0 programmed over RAM: the RAM wins, the device is unreachable, then moved back */
	memcpy(hg__ram(h, 0x600000 + VIRTIO_PCI_COMMON_NUMQ, 4), &(uint32_t){ 0x1234abcd }, 4);
	set_bar0(h, &d, 0x600000);
	unsigned over_ram = hg__load(h, 4, 0x600000 + VIRTIO_PCI_COMMON_NUMQ);
	hg__store(h, 2, 0x600000 + 0x3000, 0);	/* a "kick" into RAM */
	unsigned old_place = hg__load(h, 4, d.base);
	set_bar0(h, &d, d.base);
	unsigned back_wait;
	uint64_t back_st = plain_read(h, &d, &back_wait);
	hg__mark(h, mark++);

	/* the second function's BAR 0 over the first one's, back and forth: the first function
	 * answers there, one report, and both work once it is moved back */
	for (unsigned i = 0; i < 10; i++) {
		set_bar0(h, &d2, d.base);
		set_bar0(h, &d2, d2.base);
	}
	set_bar0(h, &d2, d.base);
	unsigned shared_numq = hg__load(h, 2, d.base + VIRTIO_PCI_COMMON_NUMQ);
	set_bar0(h, &d2, d2.base);
	/* and over the ECAM window and above 4 GiB (outside the BAR window: nothing answers) */
	set_bar0(h, &d2, LAYOUT_PCI_ECAM);
	unsigned ecam_vendor = hg__load(h, 4, d.ecam + PCI_CFG_VENDOR);
	set_bar0(h, &d2, 0x100000000ULL);
	set_bar0(h, &d2, d2.base);
	unsigned both1_wait, both2_wait;
	uint64_t both1_st = plain_read(h, &d, &both1_wait);
	uint64_t both2_st = plain_read(h, &d2, &both2_wait);
	hg__mark(h, mark);

	ck_assert_msg(hg__run(h, 150000), "the payload did not finish: %s", h->m->vm.stop_msg);
	check_virtq_attacks(h, &d, &r);
	ck_assert_uint_eq(hg__out(h, numq), 1);
	ck_assert_uint_eq(hg__out(h, qvec), VPCI_NO_VECTOR);
	check_config_sweep(h, cfg_first, cfg_size, 16);
	ck_assert_uint_eq(hg__out(h, past_table), 0);
	ck_assert_uint_eq(hg__out(h, vendor), 0x10421af4);
	/* KVM splits it at the page: register 0xffc (0), then the absent function 1 (all-ones) */
	ck_assert_uint_eq(hg__out(h, across), 0xffffffff00000000ULL);
	ck_assert_uint_eq(hg__out(h, absent), 0xffffffff);
	ck_assert_uint_eq(hg__out(h, cf8_vendor), 0x10421af4);
	ck_assert_uint_eq(hg__out(h, nowhere_wait), 1);
	ck_assert_uint_eq(hg__byte(h, nowhere_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__out(h, nowhere_pba), 2);
	ck_assert_uint_gt(__atomic_load_n(&h->m->vpci[0].msix.dropped, __ATOMIC_RELAXED), 0);
	ck_assert_uint_eq(hg__out(h, masked_wait), 1);
	ck_assert_uint_eq(hg__byte(h, masked_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__out(h, pba), 2);
	ck_assert_uint_eq(hg__out(h, pba_after), 0);
	ck_assert_uint_eq(hg__out(h, nomsix_wait), 1);
	ck_assert_uint_eq(hg__byte(h, nomsix_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__byte(h, nomsix_st2), VIRTIO_BLK_S_OK);
	/* the function falls back to INTx (its GSI from _PRT / the MP table): no interrupt lost */
	ck_assert_uint_gt(__atomic_load_n(&h->m->vpci[1].intx_irqs, __ATOMIC_RELAXED), 0);
	ck_assert_uint_eq(h->m->vpci[1].no_msix_irqs, 0);
	ck_assert_uint_eq(hg__count(h, "did not set up MSI-X"), 0);
	ck_assert_uint_eq(hg__out(h, over_ram), 0x1234abcd);
	ck_assert_uint_eq(hg__out(h, old_place), 0xffffffff);
	ck_assert_uint_eq(hg__out(h, back_wait), 1);
	ck_assert_uint_eq(hg__byte(h, back_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__out(h, shared_numq), 1);
	ck_assert_uint_eq(hg__out(h, ecam_vendor), 0x10421af4);
	ck_assert_uint_eq(hg__out(h, both1_wait), 1);
	ck_assert_uint_eq(hg__out(h, both2_wait), 1);
	ck_assert_uint_eq(hg__byte(h, both1_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(hg__byte(h, both2_st), VIRTIO_BLK_S_OK);
	ck_assert_uint_le(hg__count(h, "KVM_IOEVENTFD"), 1);
	ck_assert_uint_eq(hg__count(h, "write to a read-only common configuration field"), 1);
	ck_assert_uint_eq(hg__count(h, "device config access past its end"), 1);
	ck_assert_uint_gt(h->m->pci.bad_accesses, 0);
	ck_assert_uint_eq(h->marks[h->nmarks - 1], mark);
	hg__free(h);
}
END_TEST

static void release_hold(struct hg *h, uint32_t mark)
{
	if (mark == 4)	/* the resets are done: the disk answers again */
		__atomic_store_n(&((struct disk_fault *)h->ctx)->hold, false, __ATOMIC_RELEASE);
}

/* A reset (status 0) while the disk still holds 16 requests (the fault wrapper keeps them in
 * flight until the device drains): the reset waits for them, they are never answered in the
 * old used ring, from the moment it returns the device writes nothing more to the old rings or
 * buffers, and the next driver works. Both transports, both engines. */
START_TEST(reset_while_requests_in_flight)
{
	static const char *const engines[] = { ",engine=io_uring", ",engine=sync" };

	for (unsigned c = 0; c < 4; c++) {
		bool pci = c & 1;
		struct hg *h = hg__new(1, DISK_SIZE, pci, engines[c >> 1], NULL);
		struct disk_fault slow = { .ops = 0, .hold = true };	/* in flight until the drain */
		struct hg_dev d;
		uint64_t st[INFLIGHT];

		disk_fault__attach(&h->m->blk[0].disk, &slow);
		h->ctx = &slow;
		h->on_mark = release_hold;
		hg__dev_init(h, &d, 0);
		if (pci)
			hg__msix_setup(h, &d, LAYOUT_LAPIC);
		unsigned u1[4], u2[4], b1[4], b2[4];
		for (unsigned round = 0; round < 4; round++) {
			hg__bringup(h, &d, 0, 64, true);
			uint64_t used_idx = HG_RINGS + (uint64_t)d.ring * 0x4000 + 0x2000 + 2;
			for (unsigned i = 0; i < INFLIGHT; i++)
				st[i] = hg__blk_req(h, &d, VIRTIO_BLK_T_IN, 8 * i, 0, 4096);
			hg__publish(h, &d, 0, INFLIGHT);
			hg__notify(h, &d, 0);
			hg__status(h, &d, 0);
			u1[round] = hg__load(h, 2, used_idx);
			b1[round] = hg__load(h, 1, st[INFLIGHT - 1]);
			/* ~50 ms of nothing: a poll that cannot succeed */
			hg__op(h, SOP_POLL, 1, st[0], 0x100, 0xff, 200);
			u2[round] = hg__load(h, 2, used_idx);
			b2[round] = hg__load(h, 1, st[INFLIGHT - 1]);
			hg__mark(h, round + 1);
		}
		unsigned w;
		hg__bringup(h, &d, 0, QSZ, true);
		uint64_t good = hg__blk_req(h, &d, VIRTIO_BLK_T_IN, 0, 0, 4096);
		hg__publish(h, &d, 0, 1);
		hg__notify(h, &d, 0);
		w = hg__wait_used(h, &d, 1);
		hg__mark(h, 5);

		ck_assert_msg(hg__run(h, 60000), "case %u: the payload did not finish: %s", c,
			      h->m->vm.stop_msg);
		ck_assert_uint_eq(h->nmarks, 5);
		unsigned unanswered = 0;
		for (unsigned round = 0; round < 4; round++) {
			unanswered += INFLIGHT - (unsigned)hg__out(h, u1[round]);
			ck_assert_msg(hg__out(h, u1[round]) == hg__out(h, u2[round]),
				      "case %u round %u: used idx %llu after the reset, %llu later", c,
				      round, (unsigned long long)hg__out(h, u1[round]),
				      (unsigned long long)hg__out(h, u2[round]));
			ck_assert_uint_eq(hg__out(h, b1[round]), hg__out(h, b2[round]));
		}
		ck_assert_uint_eq(hg__out(h, w), 1);
		ck_assert_uint_eq(hg__byte(h, good), VIRTIO_BLK_S_OK);
		struct blk_stats s = hg__blk_stats(h, 0);
		fprintf(stderr, "reset in flight, case %u: %u of %u requests were never answered "
			"(reset first)\n", c, unanswered, 4 * INFLIGHT);
		ck_assert_uint_eq(unanswered, 4 * INFLIGHT);	/* all caught in flight */
		ck_assert_uint_eq(s.reads, 4 * INFLIGHT + 1);	/* the resets waited for each one */
		ck_assert_uint_eq(s.io_errors, 0);
		hg__free(h);
	}
}
END_TEST

/* The UART flooded at full speed into a console nobody reads, its receiver overrun in loopback,
 * and every port read at every width. */
START_TEST(uart_flood)
{
	struct hg *h = hg__new(0, 0, false, NULL, NULL);
	const uint64_t flood = 256u << 10;
	struct timespec t0, t1;

	memset(hg__ram(h, HG_DATA, flood), 'x', flood);
	hg__op(h, SOP_OUTS, 1, PORT_COM1, HG_DATA, flood, 0);
	hg__mark(h, 1);
	hg__op(h, SOP_OUT, 1, PORT_COM1 + 2, 0x07, 0, 0);	/* FIFO on, both cleared */
	hg__op(h, SOP_OUT, 1, PORT_COM1 + 4, 0x10, 0, 0);	/* loopback */
	hg__op(h, SOP_OUTS, 1, PORT_COM1, HG_DATA, 4096, 0);
	unsigned lsr = hg__op(h, SOP_IN, 1, PORT_COM1 + 5, 0, 0, 0);
	unsigned lsr2 = hg__op(h, SOP_IN, 1, PORT_COM1 + 5, 0, 0, 0);
	hg__op(h, SOP_OUT, 1, PORT_COM1 + 4, 0, 0, 0);
	hg__mark(h, 2);
	for (unsigned port = PORT_COM1; port < PORT_COM1 + 8; port++)
		for (unsigned w = 1; w <= 4; w *= 2)
			hg__op(h, SOP_IN, w, port, 0, 0, 0);
	hg__op(h, SOP_OUTS, 1, PORT_COM1, HG_DATA, flood, 0);
	hg__mark(h, 3);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_msg(hg__run(h, 100000), "the payload did not finish: %s", h->m->vm.stop_msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t dropped = serial__out_dropped(h->m->uart);
	fprintf(stderr, "uart flood: %llu bytes in %.2f s, %llu dropped\n",
		(unsigned long long)(2 * flood), s, (unsigned long long)dropped);
	ck_assert_uint_eq(h->nmarks, 3);
	ck_assert_uint_ne(hg__out(h, lsr) & 0x02, 0);	/* overrun */
	ck_assert_uint_eq(hg__out(h, lsr2) & 0x02, 0);	/* cleared by the read */
	/* the pipe holds what it holds; the rest is dropped, and said once */
	ck_assert_uint_ge(dropped, 2 * flood - (256u << 10));
	ck_assert_uint_eq(hg__count(h, "console output does not drain"), 1);
	/* one exit per byte: ~1 s on kvm_pvm, 35-65 s in the nested L1 under ASan beside other
	 * work; a stalled console would take the test's whole 240 s */
	ck_assert_uint_lt(s, 150);
	hg__free(h);
}
END_TEST

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile-guest");
	TCase *tc = tcase_create("attacks");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, mmio_hostile_driver);
	tcase_add_test(tc, pci_hostile_driver);
	tcase_add_test(tc, reset_while_requests_in_flight);
	tcase_add_test(tc, uart_flood);
	suite_add_tcase(s, tc);
	return s;
}
