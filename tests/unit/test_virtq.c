/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the split virtqueue against a test "driver" in flat guest memory, and hostile rings. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/lib/ck.h"
#include "virtio/virtq.h"
#include "vmm/memory.h"

/* Guest RAM is malloc'ed at exactly RAM bytes, so ASan catches any access past its end. */
#define RAM        (1u << 20)
#define DESC_GPA   0x0000ull        /* 16 * 1024 = 0x4000 at most */
#define AVAIL_GPA  0x4000ull        /* 6 + 2 * 1024 */
#define USED_GPA   0x5000ull        /* 6 + 8 * 1024 */
#define DATA_GPA   0x10000ull
#define INDIR_GPA  0x80000ull       /* indirect tables */

/* ---- the test driver: lays out rings and adds chains the way Linux's virtio_ring does ---- */

struct seg { uint64_t gpa; uint32_t len; };

struct drv {
	uint8_t *ram;                   /* flat RAM (NULL when the test built its own guest_mem) */
	struct guest_mem gm;
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;             /* shadow of avail->idx */
	uint16_t last_used;
	uint16_t free_head;
	unsigned num_free;
	uint16_t next_free[VIRTQ_MAX_SIZE];
	struct virtq q;
	struct virtq_chain c;
};

static void drv_attach(struct drv *d, uint16_t num, bool event_idx, bool indirect)
{
	d->num = num;
	d->desc = gm__ptr(&d->gm, DESC_GPA, 16u * num);
	d->avail = gm__ptr(&d->gm, AVAIL_GPA, 6u + 2u * num);
	d->used = gm__ptr(&d->gm, USED_GPA, 6u + 8u * num);
	ck_assert_ptr_nonnull(d->desc);
	ck_assert_ptr_nonnull(d->avail);
	ck_assert_ptr_nonnull(d->used);
	memset(d->desc, 0, 16u * num);
	memset(d->avail, 0, 6u + 2u * num);
	memset(d->used, 0, 6u + 8u * num);
	d->avail_idx = d->last_used = 0;
	d->free_head = 0;
	d->num_free = num;
	for (unsigned i = 0; i < num; i++)
		d->next_free[i] = (uint16_t)(i + 1);
	ck_assert_int_eq(virtq__init(&d->q, &d->gm, num, DESC_GPA, AVAIL_GPA, USED_GPA,
				     event_idx, indirect), 0);
	ck_assert(!d->q.broken);
}

static struct drv *drv_new(uint16_t num, bool event_idx, bool indirect)
{
	struct drv *d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	d->ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(d->ram);
	gm__init_flat(&d->gm, d->ram, RAM);
	drv_attach(d, num, event_idx, indirect);
	return d;
}

static void drv_free(struct drv *d)
{
	free(d->ram);
	free(d);
}

static uint16_t *used_event(struct drv *d) { return &d->avail->ring[d->num]; }
static uint16_t *avail_event(struct drv *d) { return (uint16_t *)&d->used->ring[d->num]; }

static void set_desc(struct vring_desc *t, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Makes `head` available: ring entry, write barrier, then idx (virtqueue_add_split's order). */
static void drv_publish(struct drv *d, uint16_t head)
{
	d->avail->ring[d->avail_idx & (d->num - 1)] = head;
	d->avail_idx++;
	__atomic_store_n(&d->avail->idx, d->avail_idx, __ATOMIC_RELEASE);
}

/* Adds n_out readable then n_in writable segments as one chain from the free list. */
static uint16_t drv_add(struct drv *d, const struct seg *s, unsigned n_out, unsigned n_in)
{
	unsigned n = n_out + n_in;
	ck_assert_uint_ge(d->num_free, n);
	uint16_t head = d->free_head, i = head, prev = head;

	for (unsigned k = 0; k < n; k++) {
		uint16_t flags = (k >= n_out ? VRING_DESC_F_WRITE : 0) | (k + 1 < n ? VRING_DESC_F_NEXT : 0);
		set_desc(d->desc, i, s[k].gpa, s[k].len, flags, d->next_free[i]);
		prev = i;
		i = d->next_free[i];
	}
	d->desc[prev].next = 0;
	d->free_head = i;
	d->num_free -= n;
	drv_publish(d, head);
	return head;
}

/* Adds the segments through one indirect table at table_gpa. */
static uint16_t drv_add_indirect(struct drv *d, uint64_t table_gpa, const struct seg *s,
				 unsigned n_out, unsigned n_in)
{
	unsigned n = n_out + n_in;
	struct vring_desc *t = gm__ptr(&d->gm, table_gpa, 16ull * n);
	ck_assert_ptr_nonnull(t);
	for (unsigned k = 0; k < n; k++)
		set_desc(t, k, s[k].gpa, s[k].len,
			 (k >= n_out ? VRING_DESC_F_WRITE : 0) | (k + 1 < n ? VRING_DESC_F_NEXT : 0),
			 (uint16_t)(k + 1 < n ? k + 1 : 0));
	ck_assert_uint_ge(d->num_free, 1);
	uint16_t head = d->free_head;
	d->free_head = d->next_free[head];
	d->num_free--;
	set_desc(d->desc, head, table_gpa, 16u * n, VRING_DESC_F_INDIRECT, 0);
	drv_publish(d, head);
	return head;
}

/* Takes the next used entry (-1 if none) and returns its descriptors to the free list. */
static int drv_get_used(struct drv *d, uint32_t *len)
{
	uint16_t idx = __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE);
	if (idx == d->last_used)
		return -1;
	struct vring_used_elem e = d->used->ring[d->last_used & (d->num - 1)];
	d->last_used++;
	ck_assert_uint_lt(e.id, d->num);
	if (len)
		*len = e.len;
	uint16_t i = (uint16_t)e.id;
	for (;;) {
		d->num_free++;
		if (!(d->desc[i].flags & VRING_DESC_F_NEXT))
			break;
		d->next_free[i] = d->desc[i].next;
		i = d->desc[i].next;
	}
	d->next_free[i] = d->free_head;
	d->free_head = (uint16_t)e.id;
	return (int)e.id;
}

static void *host(struct drv *d, uint64_t gpa) { return d->ram + gpa; }

static void assert_iov(struct drv *d, unsigned k, uint64_t gpa, uint32_t len)
{
	ck_assert_ptr_eq(d->c.iov[k].base, host(d, gpa));
	ck_assert_uint_eq(d->c.iov[k].len, len);
}

/* ---- well-formed chains ---- */

START_TEST(two_buffer_chain)
{
	struct drv *d = drv_new(8, false, false);
	struct seg s[] = { { DATA_GPA, 16 }, { DATA_GPA + 0x100, 1 } };

	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 0);
	ck_assert(!virtq__has_work(&d->q));
	uint16_t head = drv_add(d, s, 1, 1);
	ck_assert(virtq__has_work(&d->q));
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.head, head);
	ck_assert_uint_eq(d->c.n_out, 1);
	ck_assert_uint_eq(d->c.n_in, 1);
	ck_assert_uint_eq(d->c.out_len, 16);
	ck_assert_uint_eq(d->c.in_len, 1);
	assert_iov(d, 0, DATA_GPA, 16);
	assert_iov(d, 1, DATA_GPA + 0x100, 1);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 0);
	ck_assert(!virtq__has_work(&d->q));

	*(uint8_t *)d->c.iov[1].base = 0x5a;
	virtq__push(&d->q, head, 1);
	ck_assert_uint_eq(d->used->idx, 1);
	ck_assert_uint_eq(d->used->ring[0].id, head);
	ck_assert_uint_eq(d->used->ring[0].len, 1);
	uint32_t len = 0;
	ck_assert_int_eq(drv_get_used(d, &len), head);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(d->ram[DATA_GPA + 0x100], 0x5a);
	ck_assert_uint_eq(d->num_free, 8);
	drv_free(d);
}
END_TEST

START_TEST(three_buffer_chains)
{
	struct drv *d = drv_new(16, false, false);
	/* virtio-blk style: header out, data in, status in */
	struct seg blk[] = { { DATA_GPA, 16 }, { DATA_GPA + 0x1000, 4096 }, { DATA_GPA + 0x3000, 1 } };
	/* and two readable then one writable */
	struct seg wr[] = { { DATA_GPA + 0x4000, 16 }, { DATA_GPA + 0x5000, 512 }, { DATA_GPA + 0x6000, 1 } };

	uint16_t h1 = drv_add(d, blk, 1, 2);
	uint16_t h2 = drv_add(d, wr, 2, 1);
	ck_assert_uint_ne(h1, h2);

	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.head, h1);
	ck_assert_uint_eq(d->c.n_out, 1);
	ck_assert_uint_eq(d->c.n_in, 2);
	ck_assert_uint_eq(d->c.out_len, 16);
	ck_assert_uint_eq(d->c.in_len, 4097);
	for (unsigned k = 0; k < 3; k++)
		assert_iov(d, k, blk[k].gpa, blk[k].len);

	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.head, h2);
	ck_assert_uint_eq(d->c.n_out, 2);
	ck_assert_uint_eq(d->c.n_in, 1);
	ck_assert_uint_eq(d->c.out_len, 528);
	ck_assert_uint_eq(d->c.in_len, 1);
	for (unsigned k = 0; k < 3; k++)
		assert_iov(d, k, wr[k].gpa, wr[k].len);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 0);

	virtq__push(&d->q, h2, 1);	/* out of order completion is fine */
	virtq__push(&d->q, h1, 4097);
	ck_assert_int_eq(drv_get_used(d, NULL), h2);
	ck_assert_int_eq(drv_get_used(d, NULL), h1);
	ck_assert_int_eq(drv_get_used(d, NULL), -1);
	drv_free(d);
}
END_TEST

START_TEST(only_readable_or_only_writable)
{
	struct drv *d = drv_new(4, false, false);
	struct seg s[] = { { DATA_GPA, 100 }, { DATA_GPA + 200, 300 } };

	drv_add(d, s, 2, 0);
	drv_add(d, s, 0, 2);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.n_out, 2);
	ck_assert_uint_eq(d->c.n_in, 0);
	ck_assert_uint_eq(d->c.out_len, 400);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.n_out, 0);
	ck_assert_uint_eq(d->c.n_in, 2);
	ck_assert_uint_eq(d->c.in_len, 400);
	assert_iov(d, 1, DATA_GPA + 200, 300);
	drv_free(d);
}
END_TEST

START_TEST(zero_length_buffers_are_skipped)
{
	struct drv *d = drv_new(8, false, false);
	/* The spec does not forbid them; they carry no bytes and are not returned. Their address
	 * is never used, so even a wild one is harmless. */
	struct seg s[] = { { DATA_GPA, 16 }, { UINT64_MAX, 0 }, { DATA_GPA + 64, 0 }, { DATA_GPA + 128, 8 } };

	drv_add(d, s, 2, 2);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.n_out, 1);
	ck_assert_uint_eq(d->c.n_in, 1);
	assert_iov(d, 0, DATA_GPA, 16);
	assert_iov(d, 1, DATA_GPA + 128, 8);
	for (unsigned k = 0; k < d->c.n_out + d->c.n_in; k++) {
		ck_assert_ptr_nonnull(d->c.iov[k].base);
		ck_assert_uint_gt(d->c.iov[k].len, 0);
	}
	drv_free(d);
}
END_TEST

START_TEST(many_chains_in_one_batch)
{
	struct drv *d = drv_new(32, false, true);
	uint16_t heads[32];
	unsigned nh = 0;

	/* 10 single, 5 triple (15 descriptors), 6 indirect of 4 segments: 31 of 32 descriptors */
	for (unsigned k = 0; k < 10; k++) {
		struct seg s = { DATA_GPA + k * 0x100, 0x10 + k };
		heads[nh++] = drv_add(d, &s, k & 1, !(k & 1));
	}
	for (unsigned k = 0; k < 5; k++) {
		struct seg s[3] = { { DATA_GPA + 0x2000 + k * 0x100, 8 }, { DATA_GPA + 0x3000, 0x40 },
				    { DATA_GPA + 0x4000 + k, 1 } };
		heads[nh++] = drv_add(d, s, 1, 2);
	}
	for (unsigned k = 0; k < 6; k++) {
		struct seg s[4] = { { DATA_GPA + 0x5000, 16 }, { DATA_GPA + 0x6000, 32 },
				    { DATA_GPA + 0x7000 + k * 0x10, 0x10 }, { DATA_GPA + 0x8000, 1 } };
		heads[nh++] = drv_add_indirect(d, INDIR_GPA + k * 0x100, s, 2, 2);
	}
	ck_assert_uint_eq(d->num_free, 1);

	for (unsigned k = 0; k < nh; k++) {
		ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
		ck_assert_uint_eq(d->c.head, heads[k]);
		if (k < 10) {
			ck_assert_uint_eq(d->c.n_out + d->c.n_in, 1);
			ck_assert_uint_eq(d->c.n_out, k & 1);
			assert_iov(d, 0, DATA_GPA + k * 0x100, 0x10 + k);
		} else if (k < 15) {
			ck_assert_uint_eq(d->c.n_out, 1);
			ck_assert_uint_eq(d->c.n_in, 2);
			assert_iov(d, 2, DATA_GPA + 0x4000 + (k - 10), 1);
		} else {
			ck_assert_uint_eq(d->c.n_out, 2);
			ck_assert_uint_eq(d->c.n_in, 2);
			ck_assert_uint_eq(d->c.out_len, 48);
			ck_assert_uint_eq(d->c.in_len, 17);
			assert_iov(d, 2, DATA_GPA + 0x7000 + (k - 15) * 0x10, 0x10);
		}
	}
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 0);
	for (unsigned k = 0; k < nh; k++)
		virtq__push(&d->q, heads[nh - 1 - k], k);
	for (unsigned k = 0; k < nh; k++) {
		uint32_t len;
		ck_assert_int_eq(drv_get_used(d, &len), heads[nh - 1 - k]);
		ck_assert_uint_eq(len, k);
	}
	ck_assert_uint_eq(d->num_free, 32);
	drv_free(d);
}
END_TEST

START_TEST(direct_then_indirect_chain)
{
	/* virtio 1.2 2.7.5.3.2: the device MUST handle normal descriptors followed by one
	 * indirect descriptor. The WRITE flag of the indirect descriptor itself is ignored. */
	struct drv *d = drv_new(8, false, true);
	struct vring_desc *t = host(d, INDIR_GPA);

	set_desc(d->desc, 3, DATA_GPA, 16, VRING_DESC_F_NEXT, 5);
	set_desc(d->desc, 5, INDIR_GPA, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	set_desc(t, 0, DATA_GPA + 0x100, 8, VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, DATA_GPA + 0x200, 4, VRING_DESC_F_WRITE, 0);
	drv_publish(d, 3);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.head, 3);
	ck_assert_uint_eq(d->c.n_out, 2);
	ck_assert_uint_eq(d->c.n_in, 1);
	assert_iov(d, 0, DATA_GPA, 16);
	assert_iov(d, 1, DATA_GPA + 0x100, 8);
	assert_iov(d, 2, DATA_GPA + 0x200, 4);
	drv_free(d);
}
END_TEST

START_TEST(longest_legal_chains)
{
	struct drv *d = drv_new(VIRTQ_MAX_SIZE, false, true);
	static struct seg s[VIRTQ_MAX_SEGS];

	for (unsigned k = 0; k < VIRTQ_MAX_SEGS; k++)
		s[k] = (struct seg){ DATA_GPA + k * 8, 8 };
	/* a direct chain using the whole table */
	drv_add(d, s, 500, VIRTQ_MAX_SIZE - 500);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.n_out, 500);
	ck_assert_uint_eq(d->c.n_in, VIRTQ_MAX_SIZE - 500);
	assert_iov(d, VIRTQ_MAX_SIZE - 1, DATA_GPA + (VIRTQ_MAX_SIZE - 1) * 8, 8);
	virtq__push(&d->q, d->c.head, 0);
	drv_get_used(d, NULL);
	/* an indirect table of VIRTQ_MAX_SEGS */
	drv_add_indirect(d, INDIR_GPA, s, 1, VIRTQ_MAX_SEGS - 1);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert_uint_eq(d->c.n_out + d->c.n_in, VIRTQ_MAX_SEGS);
	ck_assert_uint_eq(d->c.in_len, 8 * (VIRTQ_MAX_SEGS - 1));
	drv_free(d);
}
END_TEST

START_TEST(ring_wraps_16bit_indices)
{
	struct drv *d = drv_new(8, true, false);
	uint32_t head_seq[8];
	uint32_t seq = 0, done = 0, rng = 12345;
	const uint32_t total = 70000;	/* > 65536: avail and used idx both wrap */

	while (done < total) {
		/* the driver adds 1..4 requests (two descriptors each) */
		unsigned want = 1 + (rng = rng * 1103515245 + 12345) % 4;
		for (unsigned k = 0; k < want && d->num_free >= 2 && seq < total; k++) {
			uint16_t h = d->free_head;
			struct seg s[2] = { { DATA_GPA + h * 64, 4 }, { DATA_GPA + h * 64 + 32, 4 } };
			memcpy(host(d, s[0].gpa), &seq, 4);
			ck_assert_uint_eq(drv_add(d, s, 1, 1), h);
			head_seq[h] = seq++;
		}
		/* the device serves everything: reads seq, writes ~seq */
		int r;
		while ((r = virtq__pop(&d->q, &d->c)) == 1) {
			uint32_t v;
			ck_assert_uint_eq(d->c.n_out, 1);
			ck_assert_uint_eq(d->c.n_in, 1);
			memcpy(&v, d->c.iov[0].base, 4);
			ck_assert_uint_eq(v, head_seq[d->c.head]);
			v = ~v;
			memcpy(d->c.iov[1].base, &v, 4);
			virtq__push(&d->q, d->c.head, 4);
		}
		ck_assert_int_eq(r, 0);
		/* the driver collects: each head once, in order, with its answer */
		int h;
		uint32_t len;
		while ((h = drv_get_used(d, &len)) >= 0) {
			uint32_t v;
			ck_assert_uint_eq(len, 4);
			memcpy(&v, host(d, DATA_GPA + h * 64 + 32), 4);
			ck_assert_uint_eq(v, ~head_seq[h]);
			ck_assert_uint_eq(head_seq[h], done);
			done++;
		}
	}
	ck_assert_uint_eq(done, total);
	ck_assert_uint_eq(d->q.last_avail, (uint16_t)total);
	ck_assert_uint_eq(d->q.used_idx, (uint16_t)total);
	ck_assert_uint_eq(d->used->idx, (uint16_t)total);
	ck_assert_uint_eq(d->num_free, 8);
	drv_free(d);
}
END_TEST

/* ---- notifications ---- */

static void push_n(struct drv *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		virtq__push(&d->q, 0, 0);
}

START_TEST(event_idx_first_notification_and_suppression)
{
	struct drv *d = drv_new(8, true, false);

	*used_event(d) = 100;		/* far away: the first decision still says yes */
	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));
	ck_assert_uint_eq(d->q.signalled_used, 1);
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));	/* used_event 100 not reached */
	*used_event(d) = 4;		/* notify once entry 4 is written (idx reaches 5) */
	push_n(d, 2);			/* idx 4 */
	ck_assert(!virtq__should_notify(&d->q));
	push_n(d, 1);			/* idx 5 */
	ck_assert(virtq__should_notify(&d->q));
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));	/* 4 already passed */
	ck_assert(!virtq__should_notify(&d->q));	/* nothing new */
	*used_event(d) = 6;		/* a batch that steps over the event */
	push_n(d, 3);			/* idx 6 -> 9 */
	ck_assert(virtq__should_notify(&d->q));
	/* the flag is ignored with EVENT_IDX */
	d->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	*used_event(d) = 9;
	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));
	/* an event the device already passed before its last decision gives no (late,
	 * spurious) notification: the driver re-checks used->idx itself after moving it */
	*used_event(d) = 20;
	push_n(d, 2);			/* idx 12 */
	ck_assert(!virtq__should_notify(&d->q));
	*used_event(d) = 11;
	push_n(d, 1);			/* idx 13 */
	ck_assert(!virtq__should_notify(&d->q));
	drv_free(d);
}
END_TEST

START_TEST(event_idx_wraps_at_65535)
{
	struct drv *d = drv_new(8, true, false);

	ck_assert(virtq__should_notify(&d->q));		/* first decision at idx 0 */
	*used_event(d) = 65534;
	push_n(d, 65533);
	ck_assert(!virtq__should_notify(&d->q));	/* idx 65533: not there yet */
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));	/* idx 65534: entry 65534 not written */
	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));		/* idx 65535 */
	*used_event(d) = 1;
	push_n(d, 1);
	ck_assert_uint_eq(d->used->idx, 0);
	ck_assert(!virtq__should_notify(&d->q));	/* idx 0 */
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));	/* idx 1 */
	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));		/* idx 2: entry 1 written */
	/* a batch across the wrap */
	push_n(d, 65532);				/* idx 65534 */
	*used_event(d) = 65535;
	ck_assert(!virtq__should_notify(&d->q));
	push_n(d, 3);					/* idx 1 */
	ck_assert(virtq__should_notify(&d->q));
	*used_event(d) = 0;
	push_n(d, 3);					/* 1 -> 4 */
	ck_assert(!virtq__should_notify(&d->q));
	drv_free(d);
}
END_TEST

START_TEST(event_idx_mark_expires_after_65536_pushes)
{
	struct drv *d = drv_new(8, true, false);

	ck_assert(virtq__should_notify(&d->q));
	*used_event(d) = 0x8000;
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));	/* mark at 1 */
	/* a full lap without a decision: the old mark is meaningless, so say yes */
	push_n(d, 65536);
	*used_event(d) = 0;
	ck_assert(virtq__should_notify(&d->q));
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));
	drv_free(d);
}
END_TEST

START_TEST(no_interrupt_flag_without_event_idx)
{
	struct drv *d = drv_new(8, false, false);

	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));
	d->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));
	*used_event(d) = 2;				/* ignored without EVENT_IDX */
	push_n(d, 1);
	ck_assert(!virtq__should_notify(&d->q));
	d->avail->flags = 0;
	push_n(d, 1);
	ck_assert(virtq__should_notify(&d->q));
	ck_assert(virtq__should_notify(&d->q));
	drv_free(d);
}
END_TEST

/* What the driver (Linux virtqueue_kick_prepare_split) would do after adding old..new. */
static bool driver_would_kick(struct drv *d, uint16_t old, bool event_idx)
{
	if (event_idx)
		return vring_need_event(*avail_event(d), d->avail_idx, old);
	return !(d->used->flags & VRING_USED_F_NO_NOTIFY);
}

START_TEST(enable_disable_without_event_idx)
{
	struct drv *d = drv_new(8, false, false);
	struct seg s = { DATA_GPA, 8 };

	virtq__disable_notify(&d->q);
	ck_assert_uint_eq(d->used->flags, VRING_USED_F_NO_NOTIFY);
	uint16_t old = d->avail_idx;
	drv_add(d, &s, 1, 0);
	ck_assert(!driver_would_kick(d, old, false));
	ck_assert(virtq__enable_notify(&d->q));		/* a buffer arrived while disabled */
	ck_assert_uint_eq(d->used->flags, 0);
	virtq__disable_notify(&d->q);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert(!virtq__enable_notify(&d->q));
	ck_assert_uint_eq(d->used->flags, 0);
	old = d->avail_idx;
	drv_add(d, &s, 1, 0);
	ck_assert(driver_would_kick(d, old, false));
	drv_free(d);
}
END_TEST

START_TEST(enable_disable_with_event_idx)
{
	struct drv *d = drv_new(8, true, false);
	struct seg s = { DATA_GPA, 8 };

	for (int k = 0; k < 3; k++)
		drv_add(d, &s, 0, 1);
	virtq__disable_notify(&d->q);
	ck_assert_uint_eq(d->used->flags, 0);		/* flags stay 0 with EVENT_IDX */
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert(!virtq__enable_notify(&d->q));
	ck_assert_uint_eq(*avail_event(d), 3);
	/* the driver's next add crosses avail_event: it kicks; the one after does not */
	uint16_t old = d->avail_idx;
	drv_add(d, &s, 0, 1);
	ck_assert(driver_would_kick(d, old, true));
	old = d->avail_idx;
	drv_add(d, &s, 0, 1);
	ck_assert(!driver_would_kick(d, old, true));
	ck_assert(virtq__has_work(&d->q));
	virtq__disable_notify(&d->q);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	/* one still waiting: enable says so, and re-arms at last_avail */
	ck_assert(virtq__enable_notify(&d->q));
	ck_assert_uint_eq(*avail_event(d), 4);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);
	ck_assert(!virtq__enable_notify(&d->q));
	ck_assert_uint_eq(*avail_event(d), 5);
	ck_assert(!virtq__has_work(&d->q));
	drv_free(d);
}
END_TEST

/* ---- hostile rings: every one must break the queue, with no access outside RAM ---- */

struct hostile {
	const char *name;
	const char *why;        /* expected in q->error: the check that must have caught it */
	bool indirect;          /* negotiate VIRTIO_RING_F_INDIRECT_DESC */
	void (*setup)(struct drv *d, struct vring_desc *t);	/* t: indirect table at INDIR_GPA */
};

#define NF VRING_DESC_F_NEXT
#define WF VRING_DESC_F_WRITE
#define IF VRING_DESC_F_INDIRECT

static void h_head_range(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, 0, 0);
	drv_publish(d, d->num);
}
static void h_head_ffff(struct drv *d, struct vring_desc *t)
{
	(void)t;
	drv_publish(d, 0xffff);
}
static void h_next_range(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, NF, d->num);
	drv_publish(d, 0);
}
static void h_loop_ab(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 2, DATA_GPA, 8, NF, 5);
	set_desc(d->desc, 5, DATA_GPA, 8, NF, 2);
	drv_publish(d, 2);
}
static void h_self_loop(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 4, DATA_GPA, 8, NF, 4);
	drv_publish(d, 4);
}
static void h_size_plus_one(struct drv *d, struct vring_desc *t)
{
	(void)t;
	for (unsigned i = 0; i < d->num; i++)	/* 0 -> 1 -> ... -> 7 -> 0 */
		set_desc(d->desc, i, DATA_GPA + i * 8, 8, NF, (uint16_t)((i + 1) % d->num));
	drv_publish(d, 0);
}
static void h_loop_late(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, NF, 1);
	set_desc(d->desc, 1, DATA_GPA, 8, NF | WF, 2);
	set_desc(d->desc, 2, DATA_GPA, 8, NF | WF, 1);
	drv_publish(d, 0);
}
static void h_addr_beyond(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, RAM, 1, 0, 0);
	drv_publish(d, 0);
}
static void h_addr_far(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, 1ull << 40, 4096, WF, 0);
	drv_publish(d, 0);
}
static void h_addr_overflow(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, UINT64_MAX - 7, 16, 0, 0);
	drv_publish(d, 0);
}
static void h_straddle_end(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, NF, 1);
	set_desc(d->desc, 1, RAM - 8, 16, WF, 0);
	drv_publish(d, 0);
}
static void h_len_huge(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, 0x10, UINT32_MAX, WF, 0);
	drv_publish(d, 0);
}
static void h_read_after_write(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, NF | WF, 1);
	set_desc(d->desc, 1, DATA_GPA + 8, 8, 0, 0);
	drv_publish(d, 0);
}
static void h_indirect_not_negotiated(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, 0, 0);
	set_desc(d->desc, 0, INDIR_GPA, 16, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_len_odd(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, 0, 0);	/* its first 16 bytes alone are a valid table */
	set_desc(d->desc, 0, INDIR_GPA, 24, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_len_zero(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, INDIR_GPA, 0, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_beyond(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, RAM - 16, 32, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_nested(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, NF, 1);
	set_desc(t, 1, INDIR_GPA + 0x100, 16, IF, 0);
	set_desc(t, 16, DATA_GPA, 8, 0, 0);
	set_desc(d->desc, 0, INDIR_GPA, 32, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_next_range(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, NF, 1);
	set_desc(t, 1, DATA_GPA, 8, NF, 2);	/* the table has 2 entries */
	set_desc(t, 2, DATA_GPA, 8, 0, 0);	/* (in RAM, but not in the table) */
	set_desc(d->desc, 0, INDIR_GPA, 32, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_loop(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, NF, 1);
	set_desc(t, 1, DATA_GPA, 8, NF, 0);
	set_desc(d->desc, 0, INDIR_GPA, 32, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_with_next(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, 0, 0);
	set_desc(d->desc, 1, DATA_GPA, 8, 0, 0);
	set_desc(d->desc, 0, INDIR_GPA, 16, IF | NF, 1);
	drv_publish(d, 0);
}
static void h_ind_buffer_outside(struct drv *d, struct vring_desc *t)
{
	set_desc(t, 0, DATA_GPA, 8, NF, 1);
	set_desc(t, 1, RAM - 4, 8, WF, 0);
	set_desc(d->desc, 0, INDIR_GPA, 32, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_read_after_write(struct drv *d, struct vring_desc *t)
{
	/* writable direct descriptor, then a table starting with a readable one */
	set_desc(t, 0, DATA_GPA, 8, 0, 0);
	set_desc(d->desc, 0, DATA_GPA, 8, NF | WF, 1);
	set_desc(d->desc, 1, INDIR_GPA, 16, IF, 0);
	drv_publish(d, 0);
}
static void h_ind_too_many(struct drv *d, struct vring_desc *t)
{
	/* a straight chain through a table of VIRTQ_MAX_SEGS + 1 entries */
	for (unsigned i = 0; i <= VIRTQ_MAX_SEGS; i++)
		set_desc(t, i, DATA_GPA, 8, i < VIRTQ_MAX_SEGS ? NF : 0, (uint16_t)(i + 1));
	set_desc(d->desc, 0, INDIR_GPA, 16 * (VIRTQ_MAX_SEGS + 1), IF, 0);
	drv_publish(d, 0);
}
static void h_ind_len_huge(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, 0, 0xfffffff0u, IF, 0);
	drv_publish(d, 0);
}
static void h_avail_jump(struct drv *d, struct vring_desc *t)
{
	(void)t;
	set_desc(d->desc, 0, DATA_GPA, 8, 0, 0);
	d->avail_idx = (uint16_t)(d->avail_idx + d->num + 1);	/* ring entries: valid heads */
	d->avail->idx = d->avail_idx;
}
static void h_avail_backwards(struct drv *d, struct vring_desc *t)
{
	(void)t;
	d->avail->idx = 0xffff;			/* "65535 ahead" of 0 */
}

static const struct hostile hostile_cases[] = {
	{ "head >= size", "head", false, h_head_range },
	{ "head 0xffff", "head", false, h_head_ffff },
	{ "next >= size", "out of range (descriptor", false, h_next_range },
	{ "loop a->b->a", "loop", false, h_loop_ab },
	{ "self loop", "loop", false, h_self_loop },
	{ "chain of size+1 via a loop", "loop", false, h_size_plus_one },
	{ "loop after the head", "loop", false, h_loop_late },
	{ "buffer at the end of RAM", "buffer outside RAM", false, h_addr_beyond },
	{ "buffer far beyond RAM", "buffer outside RAM", false, h_addr_far },
	{ "addr+len overflows 2^64", "buffer outside RAM", false, h_addr_overflow },
	{ "buffer straddles the end of RAM", "buffer outside RAM", false, h_straddle_end },
	{ "len 4 GiB - 1", "buffer outside RAM", false, h_len_huge },
	{ "readable after writable", "readable", false, h_read_after_write },
	{ "indirect not negotiated", "not negotiated", false, h_indirect_not_negotiated },
	{ "indirect len not a multiple of 16", "bad indirect table length", true, h_ind_len_odd },
	{ "indirect len zero", "bad indirect table length", true, h_ind_len_zero },
	{ "indirect table beyond RAM", "indirect table outside RAM", true, h_ind_beyond },
	{ "indirect table 4 GiB long", "indirect table outside RAM", true, h_ind_len_huge },
	{ "indirect inside indirect", "inside an indirect", true, h_ind_nested },
	{ "indirect next out of table", "out of range (indirect", true, h_ind_next_range },
	{ "loop inside indirect table", "loop", true, h_ind_loop },
	{ "INDIRECT with NEXT", "together with NEXT", true, h_ind_with_next },
	{ "indirect buffer outside RAM", "buffer outside RAM", true, h_ind_buffer_outside },
	{ "readable in table after writable", "readable", true, h_ind_read_after_write },
	{ "indirect chain > VIRTQ_MAX_SEGS", "more than", true, h_ind_too_many },
	{ "avail idx size+1 ahead", "ahead", false, h_avail_jump },
	{ "avail idx 65535 ahead", "ahead", false, h_avail_backwards },
};
#define N_HOSTILE (int)(sizeof(hostile_cases) / sizeof(hostile_cases[0]))

START_TEST(hostile)
{
	const struct hostile *h = &hostile_cases[_i];
	struct drv *d = drv_new(8, false, h->indirect);
	struct virtq *q = &d->q;

	/* one good chain first: it must still come out, the bad one after it must not */
	struct seg s = { DATA_GPA + 0x800, 4 };
	drv_add(d, &s, 0, 1);
	ck_assert_int_eq(virtq__pop(q, &d->c), 1);
	virtq__push(q, d->c.head, 0);
	drv_get_used(d, NULL);

	h->setup(d, host(d, INDIR_GPA));
	int r = virtq__pop(q, &d->c);
	ck_assert_msg(r == -EIO, "%s: pop returned %d", h->name, r);
	ck_assert_msg(q->broken, "%s: not broken", h->name);
	ck_assert_msg(strstr(q->error, h->why), "%s: caught by the wrong check: %s", h->name, q->error);
	ck_assert_uint_eq(q->last_avail, 1);			/* nothing consumed */
	ck_assert_int_eq(virtq__pop(q, &d->c), -EIO);		/* and it stays broken */
	ck_assert(!virtq__has_work(q));
	ck_assert(!virtq__enable_notify(q));
	ck_assert_uint_eq(q->last_avail, 1);
	ck_assert_uint_eq(d->used->idx, 1);

	/* a reset (re-init) brings the queue back */
	drv_attach(d, 8, false, h->indirect);
	drv_add(d, &s, 0, 1);
	ck_assert_int_eq(virtq__pop(q, &d->c), 1);
	drv_free(d);
}
END_TEST

START_TEST(buffers_across_the_hole)
{
	/* Two regions built by hand: 1 MiB at 0 and 64 KiB at 4 GiB, separate host buffers. */
	const uint64_t lo_size = RAM, hi_size = 64 << 10, hi_gpa = 4ull << 30;
	struct drv *d = calloc(1, sizeof(*d));
	uint8_t *lo = calloc(1, lo_size), *hi = calloc(1, hi_size);
	ck_assert(d && lo && hi);
	d->gm.r[0] = (struct gm_region){ .gpa = 0, .size = lo_size, .host = lo };
	d->gm.r[1] = (struct gm_region){ .gpa = hi_gpa, .size = hi_size, .host = hi };
	d->gm.n = 2;
	d->gm.ram_size = lo_size + hi_size;

	static const struct { uint64_t addr; uint32_t len; int want; } cases[] = {
		{ 4ull << 30, 0x100, 1 },		/* inside the high region */
		{ (4ull << 30) + (64 << 10) - 8, 8, 1 },/* its last bytes */
		{ RAM - 8, 8, 1 },			/* the last bytes below the hole */
		{ RAM - 8, 16, -EIO },			/* into the hole */
		{ RAM, 8, -EIO },			/* in the hole */
		{ 3ull << 30, 8, -EIO },
		{ (4ull << 30) - 8, 16, -EIO },		/* from the hole into high RAM */
		{ RAM - 8, (uint32_t)((4ull << 30) - RAM + 16), -EIO },	/* across the whole hole */
		{ (4ull << 30) + (64 << 10) - 8, 16, -EIO },	/* off the end of high RAM */
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		drv_attach(d, 8, false, false);
		set_desc(d->desc, 0, cases[k].addr, cases[k].len, WF, 0);
		drv_publish(d, 0);
		int r = virtq__pop(&d->q, &d->c);
		ck_assert_msg(r == cases[k].want, "case %u: %d", k, r);
		if (r == 1) {
			uint8_t *want = cases[k].addr >= hi_gpa ? hi + (cases[k].addr - hi_gpa)
								: lo + cases[k].addr;
			ck_assert_ptr_eq(d->c.iov[0].base, want);
			memset(d->c.iov[0].base, 0xaa, d->c.iov[0].len);
		} else {
			ck_assert(d->q.broken);
		}
	}
	/* rings themselves may not sit across the hole either */
	ck_assert_int_eq(virtq__init(&d->q, &d->gm, 8, RAM - 64, AVAIL_GPA, USED_GPA, false, false),
			 -EINVAL);
	ck_assert_int_eq(virtq__init(&d->q, &d->gm, 8, hi_gpa, hi_gpa + 0x1000, hi_gpa + 0x2000,
				     true, true), 0);
	free(lo);
	free(hi);
	free(d);
}
END_TEST

START_TEST(chain_longer_than_4gib)
{
	/* Drivers MUST NOT add a chain longer than 2^32 bytes (2.7.5.1): out_len + in_len can
	 * never exceed that, so device code may add them in 32 bits. Needs real-sized RAM. */
	struct drv *d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	/* one region from 0 (whatever the architecture's layout), MAP_NORESERVE: costs nothing */
	uint8_t *big = mmap(NULL, 7ull << 30, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_ptr_ne(big, MAP_FAILED);
	d->gm.r[0] = (struct gm_region){ .gpa = 0, .size = 7ull << 30, .host = big };
	d->gm.n = 1;
	d->gm.ram_size = 7ull << 30;
	d->gm.smaps_fd = -1;
	drv_attach(d, 8, false, false);
	set_desc(d->desc, 0, 0, 1u << 31, NF, 1);
	set_desc(d->desc, 1, 4ull << 30, 1u << 31, NF | WF, 2);
	set_desc(d->desc, 2, 0, 0, WF, 0);
	drv_publish(d, 0);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), 1);		/* exactly 2^32 */
	ck_assert_uint_eq(d->c.out_len + d->c.in_len, 1ull << 32);
	d->desc[2].len = 1;
	drv_publish(d, 0);
	ck_assert_int_eq(virtq__pop(&d->q, &d->c), -EIO);
	ck_assert_ptr_nonnull(strstr(d->q.error, "2^32"));
	munmap(big, 7ull << 30);
	free(d);
}
END_TEST

/* ---- virtq__init ---- */

START_TEST(init_rejections)
{
	struct drv *d = drv_new(8, false, false);
	struct virtq *q = &d->q;
	const struct guest_mem *gm = &d->gm;

#define INIT(size, dg, ag, ug) virtq__init(q, gm, size, dg, ag, ug, true, true)
	static const uint16_t bad_sizes[] = { 0, 3, 6, 1000, 2048, 0x8000, 0xffff };
	for (unsigned k = 0; k < sizeof(bad_sizes) / sizeof(bad_sizes[0]); k++) {
		ck_assert_int_eq(INIT(bad_sizes[k], DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
		ck_assert(q->error[0]);
		ck_assert_int_eq(virtq__pop(q, &d->c), -EIO);	/* a failed queue is unusable */
		ck_assert(!virtq__has_work(q));
	}
	static const uint16_t good_sizes[] = { 1, 2, 4, 256, VIRTQ_MAX_SIZE };
	for (unsigned k = 0; k < sizeof(good_sizes) / sizeof(good_sizes[0]); k++) {
		ck_assert_int_eq(INIT(good_sizes[k], DESC_GPA, AVAIL_GPA, USED_GPA), 0);
		ck_assert_uint_eq(q->size, good_sizes[k]);
	}

	/* exact fits at the end of RAM pass, one byte short fails (size 8: 128, 22, 70 bytes) */
	ck_assert_int_eq(INIT(8, RAM - 128, AVAIL_GPA, USED_GPA), 0);
	ck_assert_int_eq(INIT(8, RAM - 112, AVAIL_GPA, USED_GPA), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, RAM - 22, USED_GPA), 0);
	ck_assert_int_eq(INIT(8, DESC_GPA, RAM - 20, USED_GPA), -EINVAL);	/* no used_event */
	ck_assert_int_eq(virtq__init(q, gm, 8, DESC_GPA, RAM - 20, USED_GPA, false, false),
			 -EINVAL);	/* checked even without EVENT_IDX */
	ck_assert_int_eq(INIT(8, DESC_GPA, AVAIL_GPA, RAM - 72), 0);
	ck_assert_int_eq(INIT(8, DESC_GPA, AVAIL_GPA, RAM - 68), -EINVAL);	/* no avail_event */
	ck_assert_int_eq(INIT(8, RAM, AVAIL_GPA, USED_GPA), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, 1ull << 40, USED_GPA), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, AVAIL_GPA, UINT64_MAX - 15), -EINVAL);
	ck_assert_int_eq(INIT(VIRTQ_MAX_SIZE, RAM - 0x2000, AVAIL_GPA, USED_GPA), -EINVAL);

	/* alignment: desc 16, avail 2, used 4 */
	ck_assert_int_eq(INIT(8, DESC_GPA + 8, AVAIL_GPA, USED_GPA), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, AVAIL_GPA + 1, USED_GPA), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL);
	/* the used ring (the device's writes) over the available ring or the table: refused;
	 * size 8: desc 128, avail 22, used 70 bytes. (A fuzzed driver put avail->idx under
	 * used->flags: the device's own flags write then moved idx, and it never stopped.) */
	ck_assert_int_eq(INIT(8, DESC_GPA, 0x5000, 0x5000 + 20), -EINVAL);
	ck_assert_msg(strstr(q->error, "overlaps the available ring"), "%s", q->error);
	ck_assert_int_eq(INIT(8, DESC_GPA, 0x5000, 0x5000 - 68), -EINVAL);
	ck_assert_int_eq(INIT(8, 0x6000, AVAIL_GPA, 0x6000 + 124), -EINVAL);
	ck_assert_msg(strstr(q->error, "overlaps the descriptor table"), "%s", q->error);
	ck_assert_int_eq(INIT(8, 0x6000, AVAIL_GPA, 0x6000 - 68), -EINVAL);
	ck_assert_int_eq(INIT(8, DESC_GPA, 0x5000, 0x5000 + 24), 0);	/* right behind it */
	ck_assert_int_eq(INIT(8, 0x6000, AVAIL_GPA, 0x6000 + 128), 0);
	ck_assert_int_eq(INIT(8, 0x6000, 0x6000 + 64, USED_GPA), 0);	/* read-only areas may */
	ck_assert_int_eq(INIT(8, DESC_GPA + 16, AVAIL_GPA + 2, USED_GPA + 4), 0);
	ck_assert(!q->broken);
	ck_assert_uint_eq(q->last_avail, 0);
	ck_assert_uint_eq(q->used_idx, 0);

	/* aligned guest addresses on a misaligned host mapping: the rings are accessed with
	 * atomics, so that is refused too */
	struct guest_mem odd;
	gm__init_flat(&odd, d->ram + 1, RAM - 1);
	ck_assert_int_eq(virtq__init(q, &odd, 8, DESC_GPA, AVAIL_GPA, USED_GPA, true, true), -EINVAL);
	/* and the reverse: a misaligned guest address is refused even if the host one is fine */
	gm__init_flat(&odd, d->ram + 8, RAM - 8);
	ck_assert_int_eq(virtq__init(q, &odd, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, true, true), -EINVAL);
#undef INIT
	drv_free(d);
}
END_TEST

/* ---- random rings: never crash, never hand out memory outside RAM ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;	/* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void random_desc(struct vring_desc *t, unsigned i, unsigned range)
{
	uint64_t addr;
	uint32_t len;

	switch (rnd() % 8) {
	case 0: case 1: case 2: case 3: addr = DATA_GPA + rnd() % 0x4000; break;
	case 4: addr = RAM - rnd() % 64; break;
	case 5: addr = INDIR_GPA + 16 * (rnd() % 8); break;
	case 6: addr = rnd(); break;
	default: addr = UINT64_MAX - rnd() % 64; break;
	}
	switch (rnd() % 8) {
	case 0: case 1: case 2: case 3: len = (uint32_t)(rnd() % 0x200); break;
	case 4: len = 0; break;
	case 5: len = 16 * (uint32_t)(rnd() % 80); break;
	case 6: len = (uint32_t)rnd(); break;
	default: len = RAM - (uint32_t)(rnd() % 16); break;
	}
	uint16_t flags = (uint16_t)(rnd() % 4);
	if (rnd() % 6 == 0)
		flags |= IF;
	if (rnd() % 16 == 0)
		flags = (uint16_t)rnd();
	set_desc(t, i, addr, len, flags, (uint16_t)(rnd() % (range + 2)));
}

static void check_chain(struct drv *d)
{
	const struct virtq_chain *c = &d->c;
	uint64_t out = 0, in = 0;
	uintptr_t lo = (uintptr_t)d->ram, hi = lo + RAM;

	ck_assert_uint_le(c->n_out + c->n_in, VIRTQ_MAX_SEGS);
	ck_assert_uint_lt(c->head, d->num);
	for (unsigned k = 0; k < c->n_out + c->n_in; k++) {
		uintptr_t b = (uintptr_t)c->iov[k].base;
		ck_assert_uint_gt(c->iov[k].len, 0);
		ck_assert(b >= lo && b < hi && c->iov[k].len <= hi - b);
		volatile uint8_t *p = c->iov[k].base;
		(void)p[0];
		(void)p[c->iov[k].len - 1];
		if (k < c->n_out)
			out += c->iov[k].len;
		else
			in += c->iov[k].len;
	}
	ck_assert_uint_eq(out, c->out_len);
	ck_assert_uint_eq(in, c->in_len);
}

START_TEST(random_rings)
{
	struct drv *d = drv_new(8, false, false);
	struct vring_desc *ind = host(d, INDIR_GPA);
	unsigned seen_ok = 0, seen_empty = 0, seen_eio = 0, multi = 0;

	for (int iter = 0; iter < 10000; iter++) {
		uint16_t num = (uint16_t)(1u << (rnd() % 6));
		bool ev = rnd() & 1, indirect = rnd() % 4 != 0;
		drv_attach(d, num, ev, indirect);
		for (unsigned i = 0; i < num; i++)
			random_desc(d->desc, i, num);
		for (unsigned i = 0; i < 80; i++)
			random_desc(ind, i, 8);
		for (unsigned i = 0; i < num; i++)
			d->avail->ring[i] = (uint16_t)(rnd() % 8 ? rnd() % num : rnd());
		d->avail->idx = (uint16_t)(rnd() % 8 ? rnd() % (num + 1u) : rnd());

		int r;
		unsigned pops = 0;
		while ((r = virtq__pop(&d->q, &d->c)) == 1) {
			check_chain(d);
			if (d->c.n_out + d->c.n_in > 1)
				multi++;
			virtq__push(&d->q, d->c.head, (uint32_t)d->c.in_len);
			ck_assert_uint_le(++pops, num);
			seen_ok++;
		}
		ck_assert_msg(r == 0 || r == -EIO, "pop returned %d", r);
		if (r == 0) {
			seen_empty++;
			ck_assert(!d->q.broken);
		} else {
			seen_eio++;
			ck_assert(d->q.broken);
			ck_assert_int_eq(virtq__pop(&d->q, &d->c), -EIO);
		}
		virtq__should_notify(&d->q);
		virtq__enable_notify(&d->q);
	}
	/* the generator must reach all three outcomes for the test to mean anything */
	ck_assert_uint_gt(seen_ok, 1000);
	ck_assert_uint_gt(seen_empty, 500);
	ck_assert_uint_gt(seen_eio, 1000);
	ck_assert_uint_gt(multi, 50);		/* chains of several buffers */
	drv_free(d);
}
END_TEST

Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("chains");
	tcase_add_test(tc, two_buffer_chain);
	tcase_add_test(tc, three_buffer_chains);
	tcase_add_test(tc, only_readable_or_only_writable);
	tcase_add_test(tc, zero_length_buffers_are_skipped);
	tcase_add_test(tc, many_chains_in_one_batch);
	tcase_add_test(tc, direct_then_indirect_chain);
	tcase_add_test(tc, longest_legal_chains);
	tcase_add_test(tc, ring_wraps_16bit_indices);
	suite_add_tcase(s, tc);

	tc = tcase_create("notify");
	tcase_add_test(tc, event_idx_first_notification_and_suppression);
	tcase_add_test(tc, event_idx_wraps_at_65535);
	tcase_add_test(tc, event_idx_mark_expires_after_65536_pushes);
	tcase_add_test(tc, no_interrupt_flag_without_event_idx);
	tcase_add_test(tc, enable_disable_without_event_idx);
	tcase_add_test(tc, enable_disable_with_event_idx);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_loop_test(tc, hostile, 0, N_HOSTILE);
	tcase_add_test(tc, buffers_across_the_hole);
	tcase_add_test(tc, chain_longer_than_4gib);
	tcase_add_test(tc, init_rejections);
	tcase_add_test(tc, random_rings);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
