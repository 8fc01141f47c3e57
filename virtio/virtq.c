/* SPDX-License-Identifier: Apache-2.0 */
/* The split virtqueue, device side: checked chain walking, used-ring publishing, notifications. */
#include "virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Everything the guest can write is read here with one load into a local, and only the local is
 * looked at afterwards: the driver (or a hostile guest) may change the rings at any moment.
 * Ring fields are read/written with __atomic builtins on pointers whose alignment virtq__init
 * checked; descriptors are copied whole with memcpy followed by a compiler barrier, so the
 * compiler cannot turn a use of the copy back into a second read of guest memory.
 */
#define compiler_barrier() __asm__ __volatile__("" ::: "memory")

static inline uint16_t ld16(const void *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static inline void st16(void *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static inline void st32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/* used_event sits just past avail->ring[size]; avail_event just past used->ring[size]. */
static inline uint16_t *used_event_ptr(const struct virtq *q)
{
	return (uint16_t *)&q->avail->ring[q->size];
}

static inline uint16_t *avail_event_ptr(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

__attribute__((format(printf, 2, 3), cold, noinline))
static int init_fail(struct virtq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((format(printf, 2, 3), cold, noinline))
static int set_broken(struct virtq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);
	return -EIO;
}

/* Host view of [gpa, gpa+len) if it is in RAM and both the gpa and the host address are aligned. */
static void *ring_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	void *p = gm__ptr(mem, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;	/* both lie inside RAM: no wrap-around */
}

int virtq__init(struct virtq *q, const struct guest_mem *mem, uint16_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);	/* until every check below has passed */
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return init_fail(q, "queue size %u is not a power of two in 1..%u", size, VIRTQ_MAX_SIZE);

	/* Spec sizes: the +6 covers flags, idx and used_event / avail_event, which are always
	 * checked, whether or not EVENT_IDX was negotiated. */
	uint64_t desc_len = 16ull * size, avail_len = 6 + 2ull * size, used_len = 6 + 8ull * size;
	void *d = ring_ptr(mem, desc_gpa, desc_len, VRING_DESC_ALIGN_SIZE);
	void *a = ring_ptr(mem, avail_gpa, avail_len, VRING_AVAIL_ALIGN_SIZE);
	void *u = ring_ptr(mem, used_gpa, used_len, VRING_USED_ALIGN_SIZE);
	if (!d)
		return init_fail(q, "descriptor table at %#llx (+%llu) is outside RAM or not 16-aligned",
			    (unsigned long long)desc_gpa, (unsigned long long)desc_len);
	if (!a)
		return init_fail(q, "available ring at %#llx (+%llu) is outside RAM or not 2-aligned",
			    (unsigned long long)avail_gpa, (unsigned long long)avail_len);
	if (!u)
		return init_fail(q, "used ring at %#llx (+%llu) is outside RAM or not 4-aligned",
			    (unsigned long long)used_gpa, (unsigned long long)used_len);
	/* The used ring is what the device writes: over the table or the available ring, each
	 * write would change what it reads next (its own flags write moving avail->idx, say). */
	bool on_desc = overlap(used_gpa, used_len, desc_gpa, desc_len);
	if (on_desc || overlap(used_gpa, used_len, avail_gpa, avail_len))
		return init_fail(q, "used ring at %#llx (+%llu) overlaps the %s at %#llx",
			    (unsigned long long)used_gpa, (unsigned long long)used_len,
			    on_desc ? "descriptor table" : "available ring",
			    (unsigned long long)(on_desc ? desc_gpa : avail_gpa));

	q->size = size;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->desc = d;
	q->avail = a;
	q->used = u;
	__atomic_store_n(&q->broken, false, __ATOMIC_RELAXED);
	return 0;
}

/* One descriptor, read once. */
static inline void read_desc(struct vring_desc *out, const void *src)
{
	memcpy(out, src, sizeof(*out));
	compiler_barrier();
	out->addr = le64toh(out->addr);
	out->len = le32toh(out->len);
	out->flags = le16toh(out->flags);
	out->next = le16toh(out->next);
}

/* The walk of one chain: the table being read and where in it, and what it found so far. */
struct chain_walk {
	uint16_t head;
	const uint8_t *tbl;
	unsigned tbl_n;                /* entries in the table being walked */
	unsigned steps;                /* descriptors read from that table */
	unsigned total;                /* buffer descriptors in the chain, both tables */
	bool in_indirect, seen_write;
};

/* The walk goes on in the indirect table descriptor d names: 0, or -EIO (the queue broken). */
static int enter_indirect(struct virtq *q, struct chain_walk *w, const struct vring_desc *d)
{
	if (!q->indirect)
		return set_broken(q, "chain %u: indirect descriptor not negotiated", w->head);
	if (w->in_indirect)
		return set_broken(q, "chain %u: indirect descriptor inside an indirect table", w->head);
	if (d->flags & VRING_DESC_F_NEXT)
		return set_broken(q, "chain %u: INDIRECT together with NEXT", w->head);
	if (d->len == 0 || d->len % sizeof(struct vring_desc))
		return set_broken(q, "chain %u: bad indirect table length %u (not a nonzero multiple "
			      "of 16)", w->head, d->len);
	const void *t = gm__ptr(q->mem, d->addr, d->len);
	if (!t)
		return set_broken(q, "chain %u: indirect table outside RAM (%#llx+%u)", w->head,
			      (unsigned long long)d->addr, d->len);
	/* Its WRITE flag means nothing (the spec says to ignore it). */
	w->tbl = t;
	w->tbl_n = d->len / sizeof(struct vring_desc);
	w->steps = 0;
	w->in_indirect = true;
	return 0;
}

/* Buffer descriptor d joins the chain c: 0, or -EIO (the queue broken). */
static int add_buffer(struct virtq *q, struct chain_walk *w, struct virtq_chain *c,
		      const struct vring_desc *d)
{
	if (++w->total > VIRTQ_MAX_SEGS)
		return set_broken(q, "chain %u: more than %u descriptors", w->head, VIRTQ_MAX_SEGS);
	bool write = d->flags & VRING_DESC_F_WRITE;
	if (write)
		w->seen_write = true;
	else if (w->seen_write)
		return set_broken(q, "chain %u: readable buffer after a writable one", w->head);
	/* Zero-length buffers are legal (the spec does not forbid them): they carry no bytes, so
	 * they are checked for order and counted but not returned. */
	if (!d->len)
		return 0;
	void *p = gm__ptr(q->mem, d->addr, d->len);
	if (!p)
		return set_broken(q, "chain %u: buffer outside RAM (%#llx+%u)", w->head,
			      (unsigned long long)d->addr, d->len);
	struct virtq_iov *v = &c->iov[c->n_out + c->n_in];
	v->base = p;
	v->len = d->len;
	if (write) {
		c->n_in++;
		c->in_len += d->len;
	} else {
		c->n_out++;
		c->out_len += d->len;
	}
	return 0;
}

/* Follows the chain from w->head through the table (and one indirect table) into c. */
static int walk_chain(struct virtq *q, struct chain_walk *w, struct virtq_chain *c)
{
	unsigned i = w->head;

	for (;;) {
		struct vring_desc d;
		int e;

		if (i >= w->tbl_n)
			return set_broken(q, "chain %u: next %u out of range (%s table of %u)", w->head,
				      i, w->in_indirect ? "indirect" : "descriptor", w->tbl_n);
		/* A chain that visits more entries than its table holds has a loop. */
		if (++w->steps > w->tbl_n)
			return set_broken(q, "chain %u: loop or longer than its %s table (%u)", w->head,
				      w->in_indirect ? "indirect" : "descriptor", w->tbl_n);
		read_desc(&d, w->tbl + (size_t)i * sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if ((e = enter_indirect(q, w, &d)))
				return e;
			i = 0;
			continue;
		}
		if ((e = add_buffer(q, w, c, &d)))
			return e;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq__pop(struct virtq *q, struct virtq_chain *c)
{
	if (__atomic_load_n(&q->broken, __ATOMIC_RELAXED))
		return -EIO;

	/* Acquire: the ring entry and the descriptors are read only after idx. */
	uint16_t avail_idx = ld16(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return set_broken(q, "avail idx %u is %u ahead of %u (queue size %u)",
			      avail_idx, pending, q->last_avail, q->size);

	uint16_t head = ld16(&q->avail->ring[q->last_avail & (q->size - 1)], __ATOMIC_RELAXED);
	if (head >= q->size)
		return set_broken(q, "head %u out of range (queue size %u)", head, q->size);

	struct chain_walk w = { .head = head, .tbl = (const uint8_t *)q->desc, .tbl_n = q->size };
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	int e = walk_chain(q, &w, c);
	if (e)
		return e;
	if (c->out_len + c->in_len > (1ull << 32))
		return set_broken(q, "chain %u: longer than 2^32 bytes", head);
	c->head = head;
	__atomic_store_n(&q->last_avail, (uint16_t)(q->last_avail + 1), __ATOMIC_RELAXED);
	return 1;
}

void virtq__push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->used)
		return;		/* virtq__init failed */
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	st32(&e->id, head);
	st32(&e->len, written);
	__atomic_store_n(&q->used_idx, (uint16_t)(q->used_idx + 1), __ATOMIC_RELAXED);
	/* Release: the element (and the data written to the buffers) before idx. */
	st16(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	/* 65536 entries pushed without a notify decision: the old mark means nothing any more. */
	if (q->used_idx == q->signalled_used)
		q->signalled_valid = false;
}

void virtq__push_many(struct virtq *q, const struct vring_used_elem *e, unsigned n)
{
	if (!q->used || n == 0)
		return;
	uint16_t old = q->used_idx;

	for (unsigned i = 0; i < n; i++) {
		struct vring_used_elem *u = &q->used->ring[(uint16_t)(old + i) & (q->size - 1)];
		st32(&u->id, e[i].id);
		st32(&u->len, e[i].len);
	}
	__atomic_store_n(&q->used_idx, (uint16_t)(old + n), __ATOMIC_RELAXED);
	st16(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);	/* the elements before idx */
	if ((uint16_t)(q->signalled_used - old - 1) < n)
		q->signalled_valid = false;	/* passed the old mark (see virtq__push) */
}

bool virtq__should_notify(struct virtq *q)
{
	/* Our used->idx store before the driver's used_event / flags load (pairs with the
	 * driver's barrier between writing used_event and re-reading used->idx). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!q->avail)
		return false;	/* virtq__init failed */
	if (!q->event_idx)
		return !(ld16(&q->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);

	uint16_t old = q->signalled_used, new = q->used_idx;
	bool valid = q->signalled_valid;

	q->signalled_used = new;
	q->signalled_valid = true;
	if (!valid)
		return true;
	return vring_need_event(ld16(used_event_ptr(q), __ATOMIC_RELAXED), new, old);
}

void virtq__disable_notify(struct virtq *q)
{
	/* With EVENT_IDX the device must leave flags at 0: avail_event simply stays where the
	 * last enable put it, behind the driver, so the driver stops kicking by itself. */
	if (!q->used)
		return;
	if (!q->event_idx)
		st16(&q->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq__enable_notify(struct virtq *q)
{
	if (__atomic_load_n(&q->broken, __ATOMIC_RELAXED))
		return false;	/* nothing more will be popped until the device resets */
	if (q->event_idx)
		st16(avail_event_ptr(q), q->last_avail, __ATOMIC_RELAXED);
	else
		st16(&q->used->flags, 0, __ATOMIC_RELAXED);
	/* The re-arm store before the avail->idx load (pairs with the driver's barrier between
	 * writing avail->idx and reading avail_event / flags): no kick can be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(&q->avail->idx, __ATOMIC_RELAXED) != q->last_avail;
}

bool virtq__has_work(const struct virtq *q)
{
	if (__atomic_load_n(&q->broken, __ATOMIC_RELAXED))
		return false;
	return ld16(&q->avail->idx, __ATOMIC_RELAXED) != q->last_avail;
}

void virtq__snapshot(const struct virtq *q, struct virtq_snapshot *s)
{
	/* another thread's view of a queue its I/O thread owns: the indices are stored
	 * atomically, the rings are guest memory (mapped for the VM's life) */
	const struct vring_avail *avail = __atomic_load_n(&q->avail, __ATOMIC_RELAXED);
	const struct vring_used *used = __atomic_load_n(&q->used, __ATOMIC_RELAXED);
	uint16_t size = __atomic_load_n(&q->size, __ATOMIC_RELAXED);

	*s = (struct virtq_snapshot){
		.size = size,
		.last_avail = __atomic_load_n(&q->last_avail, __ATOMIC_RELAXED),
		.used_idx = __atomic_load_n(&q->used_idx, __ATOMIC_RELAXED),
		.event_idx = __atomic_load_n(&q->event_idx, __ATOMIC_RELAXED),
		.broken = __atomic_load_n(&q->broken, __ATOMIC_RELAXED),
		.rings = avail && used,
	};
	if (!s->rings)
		return;
	s->avail_idx = ld16(&avail->idx, __ATOMIC_RELAXED);
	s->used_ring_idx = ld16(&used->idx, __ATOMIC_RELAXED);
	s->avail_flags = ld16(&avail->flags, __ATOMIC_RELAXED);
	s->used_event = ld16(&avail->ring[size], __ATOMIC_RELAXED);
	s->avail_event = ld16((const uint16_t *)&used->ring[size], __ATOMIC_RELAXED);
}
