/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the split-virtqueue walker (virtio/virtq.c) on guest memory the input writes. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "virtio/virtq.h"
#include "vmm/memory.h"

/*
 * Guest memory: two regions, so chains can point across a hole. Each is its own malloc of
 * exactly its size, so ASan catches any access past either end.
 *   low:  gpa 0 .. LOW_SIZE           (rings and most buffers)
 *   high: gpa HIGH_GPA .. +HIGH_SIZE  (after a hole, like RAM above 4 GiB)
 *
 * Input: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 ring addresses from the input),
 * size selector, [3 x u64 ring addresses], u16 image length + that many bytes copied to gpa 0,
 * then operations (one byte each, plus their arguments) until the input ends.
 * Without bit 2 the rings are packed from gpa 0: desc, avail (2-aligned), used (4-aligned),
 * so a small image already covers them.
 */
#define LOW_SIZE  (64u << 10)
#define HIGH_GPA  (1ull << 32)
#define HIGH_SIZE (16u << 10)

enum op { OP_POP, OP_PUSH, OP_NOTIFY, OP_DISABLE, OP_ENABLE, OP_HAS_WORK, OP_POKE16, OP_POKE_DESC,
	  OP_REINIT, OP_PUBLISH, OP_COUNT };

static struct virtq_chain chain;

static uint8_t *region_host(const struct guest_mem *gm, unsigned r, uint32_t off, uint32_t len)
{
	const struct gm_region *g = &gm->r[r % gm->n];
	if (len > g->size || off > g->size - len)
		return NULL;
	return g->host + off;
}

/* Every iov of a popped chain lies wholly inside one region's host buffer. */
static bool in_ram(const struct guest_mem *gm, const void *p, uint32_t len)
{
	for (unsigned r = 0; r < gm->n; r++) {
		const uint8_t *b = gm->r[r].host;
		if ((const uint8_t *)p >= b && (size_t)((const uint8_t *)p - b) <= gm->r[r].size &&
		    len <= gm->r[r].size - (size_t)((const uint8_t *)p - b))
			return true;
	}
	return false;
}

static void check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(c->head < q->size);
	FUZZ_CHECK(c->n_out + c->n_in <= VIRTQ_MAX_SEGS);
	for (unsigned i = 0; i < c->n_out + c->n_in; i++) {
		const struct virtq_iov *v = &c->iov[i];
		FUZZ_CHECK(v->len > 0 && v->base);
		FUZZ_CHECK(in_ram(q->mem, v->base, v->len));
		volatile uint8_t *b = v->base;
		(void)b[0];
		(void)b[v->len - 1];
		if (i >= c->n_out) {
			b[0] = 0xa5;	/* what a device writes: must be guest RAM */
			b[v->len - 1] = 0x5a;
			in += v->len;
		} else {
			out += v->len;
		}
	}
	FUZZ_CHECK(out == c->out_len && in == c->in_len);
	FUZZ_CHECK(out + in <= (1ull << 32));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t *low = calloc(1, LOW_SIZE), *high = calloc(1, HIGH_SIZE);
	struct guest_mem gm = { .n = 2, .ram_size = LOW_SIZE + HIGH_SIZE };
	struct virtq q;

	if (!low || !high)
		goto out;
	gm.r[0] = (struct gm_region){ .gpa = 0, .size = LOW_SIZE, .host = low };
	gm.r[1] = (struct gm_region){ .gpa = HIGH_GPA, .size = HIGH_SIZE, .host = high };

	uint8_t flags = fin__u8(&in), sz = fin__u8(&in);
	bool event_idx = flags & 1, indirect = flags & 2;
	uint16_t qsize = (sz & 0x80) ? (uint16_t)(sz & 0x7f) : (uint16_t)(1u << ((sz & 0x7f) % 12));
	uint64_t desc = 0, avail, used;
	if (flags & 4) {
		desc = fin__u64(&in);
		avail = fin__u64(&in);
		used = fin__u64(&in);
	} else {
		avail = 16ull * qsize;
		used = (avail + 6 + 2ull * qsize + 3) & ~3ull;
	}
	uint16_t image = fin__u16(&in);
	fin__take(&in, low, image);	/* u16: always inside LOW_SIZE */

	int init = virtq__init(&q, &gm, qsize, desc, avail, used, event_idx, indirect);
	FUZZ_CHECK(init == 0 || (init == -EINVAL && q.broken));
	uint16_t shadow_idx = 0;	/* the driver's avail->idx for OP_PUBLISH */

	for (unsigned ops = 0; in.n && ops < 4096; ops++) {
		switch (fin__u8(&in) % OP_COUNT) {
		case OP_POP: {
			bool was_broken = q.broken;
			int r = virtq__pop(&q, &chain);
			if (r == 1)
				check_chain(&q, &chain);
			else if (r < 0)
				FUZZ_CHECK(r == -EIO && q.broken);
			else
				FUZZ_CHECK(r == 0 && !was_broken);
			if (was_broken)
				FUZZ_CHECK(r == -EIO);
			break;
		}
		case OP_PUSH: {
			uint16_t head = fin__u16(&in);
			virtq__push(&q, head, fin__u32(&in));
			break;
		}
		case OP_NOTIFY: (void)virtq__should_notify(&q); break;
		case OP_DISABLE: virtq__disable_notify(&q); break;
		case OP_ENABLE:
			if (virtq__enable_notify(&q))
				FUZZ_CHECK(!q.broken);
			break;
		case OP_HAS_WORK:
			if (virtq__has_work(&q))
				FUZZ_CHECK(!q.broken);
			break;
		case OP_POKE16: {
			unsigned r = fin__u8(&in);
			uint16_t off = fin__u16(&in), v = fin__u16(&in);
			uint8_t *p = region_host(&gm, r, off, 2);
			if (p)
				memcpy(p, &v, 2);
			break;
		}
		case OP_POKE_DESC: {
			unsigned r = fin__u8(&in);
			uint16_t off = fin__u16(&in);
			uint8_t d[16];
			fin__take(&in, d, sizeof(d));
			uint8_t *p = region_host(&gm, r, off, sizeof(d));
			if (p)
				memcpy(p, d, sizeof(d));
			break;
		}
		case OP_REINIT:
			init = virtq__init(&q, &gm, qsize, desc, avail, used, event_idx, indirect);
			FUZZ_CHECK(init == 0 || q.broken);
			shadow_idx = 0;
			break;
		case OP_PUBLISH: {
			/* the driver's way: ring entry, then idx (through the checked accessor) */
			uint16_t head = fin__u16(&in);
			struct vring_avail *a = gm__ptr(&gm, avail, 4 + 2ull * (qsize ? qsize : 1));
			if (a && qsize && !(avail & 1)) {
				a->ring[shadow_idx & (qsize - 1)] = head;
				a->idx = ++shadow_idx;
			}
			break;
		}
		}
	}
out:
	free(low);
	free(high);
	return 0;
}
