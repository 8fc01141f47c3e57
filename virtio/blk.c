/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk (virtio 1.2 §5.2): parse requests, batch them to the disk engine, complete them. */
#include "virtio/blk.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "devices/thread.h"
#include "vmm/launcher.h"
#include "vmm/seccomp.h"

#define SECTOR 512ULL
/* A large request: a round of completions of requests this large, with more of the queue's
 * requests still in flight, waits for the next round (at most b->coalesce_ns) so that one
 * interrupt tells the guest about both (reap); while one is in flight the guest is not asked
 * to kick (kicks_stay_off). */
#define BLK_COALESCE_MIN (64u << 10)
#define BLK_MAX_IOV (BLK_SEG_MAX + 2)

struct blk_req {
	struct disk_req dr;
	struct iovec iov[BLK_MAX_IOV];
	uint16_t head;
	uint8_t *status;          /* the last writable byte of the chain */
	uint32_t written;         /* what goes in the used ring on success */
	uint32_t type;
	bool busy;
	bool large;               /* counted in the queue's large_inflight */
};

/* ---- config space and features ---- */

static uint64_t blk_features(void *priv)
{
	return ((struct blk_dev *)priv)->features;
}

static void blk_config_read(void *priv, uint32_t off, void *data, uint32_t len)
{
	struct blk_dev *b = priv;
	memcpy(data, (const uint8_t *)&b->config + off, len);	/* the transport bounds-checked */
}

long blk__coalesce_for(long exit_ns)
{
	long e = exit_ns > 0 ? exit_ns : BLK_ASSUMED_EXIT_NS;

	return e >= BLK_COALESCE_NS / BLK_COALESCE_EXITS ? BLK_COALESCE_NS : e * BLK_COALESCE_EXITS;
}

void blk__set_exit_cost(struct blk_dev *b, long exit_ns)
{
	if (b->coalesce_auto)
		b->coalesce_ns = blk__coalesce_for(exit_ns);
}

int blk__init(struct blk_dev *b, const struct blk_opts *opts, char *err, size_t errlen,
	      char *note, size_t notelen)
{
	memset(b, 0, sizeof(*b));
	b->stop_fd = -1;
	b->coalesce_auto = opts->coalesce_us < 0;
	b->coalesce_ns = b->coalesce_auto ? blk__coalesce_for(0) : opts->coalesce_us * 1000L;
	b->nq = opts->queues ? opts->queues : 1;
	if (b->nq > BLK_MAX_QUEUES) {
		snprintf(err, errlen, "disk %s: at most %u queues", opts->disk.path, BLK_MAX_QUEUES);
		return -1;
	}
	if (disk__open(&b->disk, &opts->disk, err, errlen, note, notelen))
		return -1;
	memcpy(b->serial, opts->serial, sizeof(b->serial));
	snprintf(b->name, sizeof(b->name), "virtio-blk %s", opts->disk.path);
	b->path = opts->disk.path;

	struct virtio_blk_config *c = &b->config;
	uint32_t bs = b->disk.block_size ? b->disk.block_size : SECTOR;
	c->capacity = b->disk.size / SECTOR;
	c->size_max = BLK_SIZE_MAX;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = bs;
	c->physical_block_exp = 0;
	c->alignment_offset = 0;
	c->min_io_size = 1;
	c->opt_io_size = 0;
	c->num_queues = (uint16_t)b->nq;
	c->max_discard_sectors = UINT32_MAX / SECTOR;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = bs / SECTOR;
	c->max_write_zeroes_sectors = UINT32_MAX / SECTOR;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 0;

	b->features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
		      (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		      (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY);
	if (b->disk.readonly)
		b->features |= 1ULL << VIRTIO_BLK_F_RO;
	else if (b->disk.discard)
		b->features |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	else
		b->features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	if (b->nq > 1)
		b->features |= 1ULL << VIRTIO_BLK_F_MQ;
	return 0;
}

void blk__free(struct blk_dev *b)
{
	disk__close(&b->disk);
}

/* A queue's counters have one writer, its I/O thread, and are read by others while it runs
 * (SIGUSR1 statistics): relaxed atomic stores and loads, plain moves on x86. */
#define STAT_ADD(q, field, n) \
	__atomic_store_n(&(q)->stats.field, (q)->stats.field + (n), __ATOMIC_RELAXED)

static void add_stats(struct blk_stats *to, const struct blk_stats *s)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)s;
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		t[i] += __atomic_load_n(&f[i], __ATOMIC_RELAXED);
}

void blk__stats(const struct blk_dev *b, struct blk_stats *out)
{
	*out = b->stats;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		add_stats(out, &b->q[i].stats);
}

unsigned blk__snapshot_queues(const struct blk_dev *b, struct blk_queue_snap *out, unsigned max)
{
	const struct virtio_dev *vdev = __atomic_load_n(&b->vdev, __ATOMIC_ACQUIRE);
	unsigned n = b->nq < max ? b->nq : max;

	for (unsigned i = 0; i < n; i++) {
		const struct blk_queue *q = &b->q[i];
		struct blk_queue_snap *v = &out[i];

		*v = (struct blk_queue_snap){
			.path = b->path,
			.idx = i,
			.kicks = __atomic_load_n(&q->stats.kicks, __ATOMIC_RELAXED),
			.irqs = __atomic_load_n(&q->stats.interrupts, __ATOMIC_RELAXED),
			.coalesced = __atomic_load_n(&q->stats.coalesced, __ATOMIC_RELAXED),
			.unkicked = __atomic_load_n(&q->stats.unkicked, __ATOMIC_RELAXED),
			.batches = __atomic_load_n(&q->stats.batches, __ATOMIC_RELAXED),
			.reads = __atomic_load_n(&q->stats.reads, __ATOMIC_RELAXED),
			.writes = __atomic_load_n(&q->stats.writes, __ATOMIC_RELAXED),
			.read_bytes = __atomic_load_n(&q->stats.read_bytes, __ATOMIC_RELAXED),
			.write_bytes = __atomic_load_n(&q->stats.write_bytes, __ATOMIC_RELAXED),
		};
		if (vdev)
			virtq__snapshot(&vdev->vq[i], &v->s);
		v->waiting = (uint16_t)(v->s.avail_idx - v->s.last_avail);
		v->inflight = (uint16_t)(v->s.last_avail - v->s.used_idx);
	}
	return n;
}

/* ---- request parsing ---- */

/* Copies up to len bytes starting `skip` bytes into the chain's readable buffers. */
static uint64_t chain_copy_out(const struct virtq_chain *c, uint64_t skip, void *dst, uint64_t len)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < c->n_out && done < len; i++) {
		uint64_t l = c->iov[i].len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t n = l - skip < len - done ? l - skip : len - done;
		memcpy((uint8_t *)dst + done, (uint8_t *)c->iov[i].base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

/* Builds r->iov from iov[first..first+count) of the chain, dropping `skip_front` bytes at the
 * start and `skip_back` at the end. Returns the data length, or -1 if it needs too many iovs. */
static int64_t build_iov(struct blk_req *r, const struct virtq_chain *c, unsigned first,
			 unsigned count, uint64_t skip_front, uint64_t skip_back)
{
	uint64_t total = 0;
	int n = 0;

	for (unsigned i = first; i < first + count; i++)
		total += c->iov[i].len;
	if (total < skip_front + skip_back)
		return -1;
	uint64_t want = total - skip_front - skip_back;
	uint64_t left = want;
	for (unsigned i = first; i < first + count && left; i++) {
		uint64_t l = c->iov[i].len;
		uint8_t *p = c->iov[i].base;
		if (skip_front >= l) {
			skip_front -= l;
			continue;
		}
		p += skip_front;
		l -= skip_front;
		skip_front = 0;
		if (l > left)
			l = left;
		if (n == BLK_MAX_IOV)
			return -1;
		r->iov[n++] = (struct iovec){ .iov_base = p, .iov_len = l };
		left -= l;
	}
	r->dr.iov = r->iov;
	r->dr.iovcnt = n;
	return (int64_t)want;
}

enum parse_result { PARSE_SUBMIT, PARSE_DONE };

/* Sets *r->status and returns PARSE_DONE for requests answered without I/O. */
static enum parse_result finish_now(struct blk_req *r, uint8_t status)
{
	*r->status = status;
	if (status != VIRTIO_BLK_S_OK)
		r->written = 1;
	return PARSE_DONE;
}

/* What the device advertises, enforced: at most BLK_SEG_MAX data segments (seg_max), none
 * longer than BLK_SIZE_MAX (size_max), so no request is over BLK_SEG_MAX x BLK_SIZE_MAX. */
static bool segments_ok(const struct virtq_chain *c)
{
	if (c->n_out + c->n_in > BLK_SEG_MAX + 2)	/* + the header and the status */
		return false;
	for (unsigned i = 0; i < c->n_out + c->n_in; i++)
		if (c->iov[i].len > BLK_SIZE_MAX + sizeof(struct virtio_blk_outhdr))
			return false;	/* (a header or status may share a descriptor) */
	return true;
}

static bool range_ok(const struct blk_dev *b, uint64_t off, uint64_t len)
{
	uint32_t bs = b->disk.block_size ? b->disk.block_size : SECTOR;
	return off <= b->disk.size && len <= b->disk.size - off && off % bs == 0 && len % bs == 0;
}

/* A request the device refuses: counted, answered IOERR at once. */
static enum parse_result bad_request(struct blk_queue *q, struct blk_req *r)
{
	STAT_ADD(q, bad_requests, 1);
	return finish_now(r, VIRTIO_BLK_S_IOERR);
}

/* VIRTIO_BLK_T_IN / T_OUT at byte offset off. */
static enum parse_result parse_rw(struct blk_queue *q, struct blk_req *r,
				  const struct virtq_chain *c, bool in, uint64_t off)
{
	const struct blk_dev *b = q->b;
	const size_t hdr = sizeof(struct virtio_blk_outhdr);

	if ((in && c->out_len != hdr) || (!in && b->disk.readonly) || !segments_ok(c))
		return bad_request(q, r);
	int64_t len = in ? build_iov(r, c, c->n_out, c->n_in, 0, 1)
			 : build_iov(r, c, 0, c->n_out, hdr, 0);
	if (!in && c->in_len != 1)
		len = -1;	/* a write's only writable byte is the status */
	if (len <= 0 || len % SECTOR || !range_ok(b, off, (uint64_t)len))
		return bad_request(q, r);
	r->dr.op = in ? DISK_READ : DISK_WRITE;
	r->dr.offset = off;
	r->dr.len = (uint64_t)len;
	r->written = in ? (uint32_t)len + 1 : 1;
	return PARSE_SUBMIT;
}

/* VIRTIO_BLK_T_GET_ID: the serial, answered here. */
static enum parse_result parse_get_id(struct blk_queue *q, struct blk_req *r,
				      const struct virtq_chain *c)
{
	int64_t len = build_iov(r, c, c->n_out, c->n_in, 0, 1);
	if (len < 0)
		return bad_request(q, r);
	uint64_t n = (uint64_t)len < BLK_SERIAL_MAX ? (uint64_t)len : BLK_SERIAL_MAX;
	uint64_t copied = 0;
	char id[BLK_SERIAL_MAX] = { 0 };
	memcpy(id, q->b->serial, strnlen(q->b->serial, BLK_SERIAL_MAX));
	for (int i = 0; i < r->dr.iovcnt && copied < n; i++) {
		uint64_t k = r->iov[i].iov_len < n - copied ? r->iov[i].iov_len : n - copied;
		memcpy(r->iov[i].iov_base, id + copied, k);
		copied += k;
	}
	STAT_ADD(q, get_ids, 1);
	r->written = (uint32_t)copied + 1;
	return finish_now(r, VIRTIO_BLK_S_OK);
}

/* VIRTIO_BLK_T_DISCARD / T_WRITE_ZEROES: exactly one segment (max_*_seg = 1). */
static enum parse_result parse_zap(struct blk_queue *q, struct blk_req *r,
				   const struct virtq_chain *c, bool dis)
{
	const struct blk_dev *b = q->b;
	const size_t hdr = sizeof(struct virtio_blk_outhdr);
	struct virtio_blk_discard_write_zeroes seg;

	if (!(b->features & (1ULL << (dis ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES))))
		return STAT_ADD(q, unsupported, 1), finish_now(r, VIRTIO_BLK_S_UNSUPP);
	if (c->out_len != hdr + sizeof(seg) ||
	    chain_copy_out(c, hdr, &seg, sizeof(seg)) != sizeof(seg) ||
	    (seg.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
	    (dis && seg.flags) || seg.sector > UINT64_MAX / SECTOR ||
	    !range_ok(b, seg.sector * SECTOR, (uint64_t)seg.num_sectors * SECTOR))
		return bad_request(q, r);
	r->dr.op = dis ? DISK_DISCARD : DISK_WRITE_ZEROES;
	r->dr.offset = seg.sector * SECTOR;
	r->dr.len = (uint64_t)seg.num_sectors * SECTOR;
	r->dr.iovcnt = 0;
	return PARSE_SUBMIT;
}

static enum parse_result parse(struct blk_queue *q, struct blk_req *r, const struct virtq_chain *c)
{
	struct virtio_blk_outhdr hdr;
	const struct virtq_iov *last = &c->iov[c->n_out + c->n_in - 1];

	r->status = (uint8_t *)last->base + last->len - 1;
	r->written = 1;
	if (c->out_len < sizeof(hdr) || chain_copy_out(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return bad_request(q, r);
	r->type = hdr.type;
	if (hdr.sector > UINT64_MAX / SECTOR)
		return bad_request(q, r);

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(q, r, c, hdr.type == VIRTIO_BLK_T_IN, hdr.sector * SECTOR);
	case VIRTIO_BLK_T_FLUSH:
		r->dr.op = DISK_FLUSH;
		r->dr.offset = r->dr.len = 0;
		r->dr.iovcnt = 0;
		return PARSE_SUBMIT;
	case VIRTIO_BLK_T_GET_ID:
		return parse_get_id(q, r, c);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_zap(q, r, c, hdr.type == VIRTIO_BLK_T_DISCARD);
	default:
		STAT_ADD(q, unsupported, 1);
		return finish_now(r, VIRTIO_BLK_S_UNSUPP);
	}
}

/* ---- the I/O thread ---- */

static void complete(struct virtq *vq, struct blk_req *r)
{
	virtq__push(vq, r->head, r->written);
	r->busy = false;
}

static void account(struct blk_queue *q, struct blk_req *r)
{
	int64_t res = r->dr.result;

	if (r->large) {
		r->large = false;
		q->large_inflight--;
	}

	if (res < 0 || (r->dr.op <= DISK_WRITE && (uint64_t)res != r->dr.len)) {
		STAT_ADD(q, io_errors, 1);
		/* the backing failed, not the guest: once per kind of error, the rest are counted */
		virtio_core__report(&q->b->reports, q->b->name, "I/O error from the backing: %s (the guest "
			      "gets IOERR; kvmini goes on and counts them)",
			      strerror(res < 0 ? (int)-res : EIO));
		*r->status = VIRTIO_BLK_S_IOERR;
		r->written = 1;
		return;
	}
	*r->status = VIRTIO_BLK_S_OK;
	switch (r->dr.op) {
	case DISK_READ: STAT_ADD(q, reads, 1); STAT_ADD(q, read_bytes, r->dr.len); break;
	case DISK_WRITE: STAT_ADD(q, writes, 1); STAT_ADD(q, write_bytes, r->dr.len); break;
	case DISK_FLUSH: STAT_ADD(q, flushes, 1); break;
	case DISK_DISCARD: STAT_ADD(q, discards, 1); break;
	case DISK_WRITE_ZEROES: STAT_ADD(q, write_zeroes, 1); break;
	}
}

static void maybe_notify(struct blk_queue *q, struct virtq *vq)
{
	q->notify_owed = false;	/* should_notify covers everything pushed since the last */
	if (virtq__should_notify(vq)) {
		STAT_ADD(q, interrupts, 1);
		q->b->vdev->t_ops->notify_used(q->b->vdev->transport, q->idx);
	}
}

/* While a large request is in flight the queue does not ask the guest to kick: a kick is a
 * VM exit and a thread wake-up (costly where they are emulated: docs/benchmarks.md), and this
 * thread wakes for the completion anyway. It looks at the ring at every wake-up instead, and
 * at least every coalesce_ns (blk_thread), so a request that comes meanwhile waits at most
 * that long. Only with windows of BLK_KICKS_OFF_MIN_NS and more: where exits are cheap
 * (hardware) a kick costs less than looking at the ring that often. With nothing large in
 * flight it asks for kicks again (the usual re-arm and re-check of virtq__enable_notify, so
 * none is missed). */
static bool kicks_stay_off(struct blk_queue *q)
{
	q->kicks_off = q->large_inflight > 0 && blk__kicks_off(q->b->coalesce_ns);
	return q->kicks_off;
}

/* Pops every available chain, answers the malformed ones, submits the rest as one batch. */
static void process_queue(struct blk_queue *q, struct virtq *vq, struct virtq_chain *chain)
{
	struct blk_dev *b = q->b;
	struct disk_req *batch[BLK_QUEUE_MAX];
	bool pushed = false;
	unsigned empty = 0;	/* passes in a row that found nothing although the ring said more */

	do {
		unsigned n = 0;
		bool popped = false;
		virtq__disable_notify(vq);
		for (;;) {
			int got = virtq__pop(vq, chain);
			if (got < 0) {
				b->vdev->t_ops->needs_reset(b->vdev->transport, vq->error);
				return;
			}
			if (got == 0)
				break;
			popped = true;
			struct blk_req *r = &q->reqs[chain->head];
			if (r->busy || chain->n_in == 0 || chain->iov[chain->n_out + chain->n_in - 1].len == 0) {
				/* a head still in flight, or no byte for the status: the guest broke it */
				__atomic_store_n(&vq->broken, true, __ATOMIC_RELAXED);
				b->vdev->t_ops->needs_reset(b->vdev->transport,
							    r->busy ? "request head reused while in flight"
								    : "request without a status byte");
				return;
			}
			r->busy = true;
			r->head = chain->head;
			r->dr = (struct disk_req){ .cookie = r };
			if (parse(q, r, chain) == PARSE_DONE) {
				complete(vq, r);
				pushed = true;
			} else {
				r->large = r->dr.len >= BLK_COALESCE_MIN;
				q->large_inflight += r->large;
				batch[n++] = &r->dr;
			}
		}
		if (n) {
			STAT_ADD(q, batches, 1);
			int e = disk__submit(q->disk, batch, n);
			if (e < 0) {
				for (unsigned i = 0; i < n; i++) {
					struct blk_req *r = batch[i]->cookie;
					r->dr.result = e;
					account(q, r);
					complete(vq, r);
				}
				pushed = true;
			}
		}
		empty = popped ? 0 : empty + 1;
		/* A pass that finds nothing although the re-check said more is a race with the
		 * driver once (the flags write of disable_notify before its kick test); twice in a
		 * row it is guest memory changing under the device's own writes: stop looking
		 * (virtq__init refuses the ring layouts that do it; this is the second line). */
	} while (empty < 2 && !kicks_stay_off(q) && virtq__enable_notify(vq));
	if (pushed)
		maybe_notify(q, vq);
}

/* Reaps what has completed. The interrupt for it goes out now, or, when only large requests
 * completed and more are in flight, with the next round (blk_thread sends it after
 * coalesce_ns if no round comes): a large request takes long enough that the guest
 * loses nothing by hearing about it with the next, and it handles one interrupt instead of
 * two. Interrupts cost the guest far more than a memcpy where its APIC is emulated (the
 * nested L1: docs/benchmarks.md). Never two rounds in a row. */
static void reap(struct blk_queue *q, struct virtq *vq, bool wait)
{
	struct disk_req *done[64];
	int n;
	bool any = false, small = false;

	while ((n = disk__reap(q->disk, done, 64, wait)) > 0) {
		for (int i = 0; i < n; i++) {
			struct blk_req *r = done[i]->cookie;
			small |= r->dr.len < BLK_COALESCE_MIN;
			account(q, r);
			if (vq)
				complete(vq, r);
			else
				r->busy = false;
		}
		any = true;
		wait = wait && disk__inflight(q->disk) > 0;
	}
	if (any && vq) {
		if (!small && !q->notify_owed && disk__inflight(q->disk) && q->b->coalesce_ns) {
			STAT_ADD(q, coalesced, 1);
			q->notify_owed = true;
			clock_gettime(CLOCK_MONOTONIC, &q->owed_since);
		} else {
			maybe_notify(q, vq);
		}
	}
}

/* What is left of ns since t (CLOCK_MONOTONIC), at least 0 */
static long long ns_left(const struct timespec *t, long ns)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	long long left = ns - ((now.tv_sec - t->tv_sec) * 1000000000LL + (now.tv_nsec - t->tv_nsec));
	return left < 0 ? 0 : left;
}

/* How long blk_thread may sleep: until a held-back interrupt is due (reap) or the next look
 * at the ring with kicks off (kicks_stay_off: every wake-up looks, so that is coalesce_ns
 * from now), in ns; -1 when neither is pending. No clock read unless an interrupt is held:
 * in an emulated machine a clock read can cost as much as a kick. */
static long long next_deadline(const struct blk_queue *q)
{
	long long wait = q->kicks_off ? q->b->coalesce_ns : -1;

	if (q->notify_owed) {
		long long w = ns_left(&q->owed_since, q->b->coalesce_ns);
		wait = wait < 0 || w < wait ? w : wait;
	}
	return wait;
}

/* Takes what the ring holds, unless the device is held (blk__hold). busy and held are a
 * Dekker pair (sequentially consistent): either blk__quiet sees this queue busy, or this
 * queue sees the hold and takes nothing. */
static void look_at_ring(struct blk_queue *q, struct virtq *vq, struct virtq_chain *chain)
{
	__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&q->b->held, __ATOMIC_SEQ_CST))
		process_queue(q, vq, chain);
	__atomic_store_n(&q->busy, 0, __ATOMIC_SEQ_CST);
}

void blk__hold(struct blk_dev *b, bool on)
{
	const struct virtio_dev *vdev = __atomic_load_n(&b->vdev, __ATOMIC_ACQUIRE);

	__atomic_store_n(&b->held, on, __ATOMIC_SEQ_CST);
	if (on || !vdev)
		return;
	for (unsigned i = 0; i < b->nq; i++)	/* what came while held is taken now */
		if (vdev->kick_fd[i] >= 0)
			eventfd_write(vdev->kick_fd[i], 1);
}

bool blk__quiet(const struct blk_dev *b)
{
	const struct virtio_dev *vdev = __atomic_load_n(&b->vdev, __ATOMIC_ACQUIRE);

	if (!vdev)
		return true;
	for (unsigned i = 0; i < b->nq; i++) {
		struct virtq_snapshot s;
		if (__atomic_load_n(&b->q[i].busy, __ATOMIC_SEQ_CST))
			return false;
		virtq__snapshot(&vdev->vq[i], &s);
		if (s.last_avail != s.used_idx)	/* taken, not answered yet */
			return false;
	}
	return true;
}

/* One per queue: its own ring, request table, disk context (io_uring) and statistics, so
 * queues never share a lock or a cache line on the request path. */
static void *blk_thread(void *arg)
{
	struct blk_queue *q = arg;
	struct blk_dev *b = q->b;
	struct virtq *vq = &b->vdev->vq[q->idx];
	struct virtq_chain *chain = malloc(sizeof(*chain));
	char name[16];

	snprintf(name, sizeof(name), "virtio-blk-q%u", q->idx % 100u);	/* 15 bytes at most */
	pthread_setname_np(pthread_self(), name);	/* prctl on itself: no /proc file */
	seccomp__enter(SECCOMP_KIND_BLK);

	struct pollfd p[3] = {
		{ .fd = b->vdev->kick_fd[q->idx], .events = POLLIN },
		{ .fd = disk__completion_fd(q->disk), .events = POLLIN },
		{ .fd = b->stop_fd, .events = POLLIN },
	};

	if (!chain) {
		b->vdev->t_ops->needs_reset(b->vdev->transport, "out of memory");
		return NULL;
	}
	look_at_ring(q, vq, chain);	/* kicks that came before DRIVER_OK */
	while (!(p[2].revents & POLLIN)) {
		struct timespec left;
		long long wait = next_deadline(q);	/* ns; -1: none */

		if (wait >= 0)
			left = (struct timespec){ .tv_sec = wait / 1000000000LL,
						  .tv_nsec = wait % 1000000000LL };
		int np = ppoll(p, 3, wait >= 0 ? &left : NULL, NULL);

		if (np < 0)
			continue;
		if (np == 0 && q->notify_owed && ns_left(&q->owed_since, b->coalesce_ns) == 0)
			maybe_notify(q, vq);	/* no second round came in time */
		bool look = q->kicks_off, kicked = false;	/* kicks off: every wake-up looks */
		if (p[1].revents & POLLIN) {
			eventfd_t v;
			eventfd_read(p[1].fd, &v);
			reap(q, vq, false);
		}
		if (p[0].revents & POLLIN) {
			eventfd_t v;
			eventfd_read(p[0].fd, &v);
			STAT_ADD(q, kicks, 1);
			look = kicked = true;
		}
		if (look && !__atomic_load_n(&vq->broken, __ATOMIC_RELAXED)) {
			if (!kicked)
				STAT_ADD(q, unkicked, 1);
			look_at_ring(q, vq, chain);
		}
	}
	/* stopping (reset or exit): let what is in flight land, but touch no ring any more; a
	 * discard of the whole disk stops at its next chunk */
	disk__cancel_slow(q->disk);
	while (disk__inflight(q->disk))
		reap(q, NULL, true);
	free(chain);
	return NULL;
}

static void stop_queues(struct blk_dev *b)
{
	if (b->stop_fd >= 0)
		eventfd_write(b->stop_fd, 1);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct blk_queue *q = &b->q[i];
		if (q->running) {
			pthread_join(q->thread, NULL);
			q->running = false;
		}
		if (q->disk == &q->ctx)
			disk__close(&q->ctx);
		q->disk = NULL;
		free(q->reqs);
		q->reqs = NULL;
		add_stats(&b->stats, &q->stats);
		memset(&q->stats, 0, sizeof(q->stats));
	}
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	b->stop_fd = -1;
}

/* On the launcher thread (vmm/launcher.c): opens the queues' I/O contexts, starts their
 * threads. */
static int activate_queues(struct blk_dev *b, struct virtio_dev *vdev)
{
	char why[256];

	for (unsigned i = 0; i < b->nq; i++)
		if (!vdev->vq_ready[i])
			return -EINVAL;	/* the driver must set up every queue it was offered */
	__atomic_store_n(&b->vdev, vdev, __ATOMIC_RELEASE);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0)
		goto fail;
	for (unsigned i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];
		*q = (struct blk_queue){ .b = b, .idx = i, .disk = &b->disk, .nreqs = vdev->vq[i].size };
		if (i && disk__open_ctx(&q->ctx, &b->disk, why, sizeof(why))) {
			fprintf(stderr, "kvmini: virtio-blk queue %u: %s\n", i, why);
			goto fail;
		}
		if (i)
			q->disk = &q->ctx;
		q->reqs = calloc(q->nreqs, sizeof(*q->reqs));
		if (!q->reqs || thread__create(&q->thread, 0, true, blk_thread, q))
			goto fail;
		q->running = true;
	}
	return 0;
fail:
	stop_queues(b);
	__atomic_store_n(&b->vdev, NULL, __ATOMIC_RELEASE);
	return -ENOMEM;
}

struct activate_call {
	struct blk_dev *b;
	struct virtio_dev *vdev;
};

static int activate_on_launcher(void *arg)
{
	struct activate_call *c = arg;
	return activate_queues(c->b, c->vdev);
}

/* DRIVER_OK, on a vCPU: the launcher does it */
static int blk_activate(void *priv, struct virtio_dev *vdev)
{
	struct activate_call c = { .b = priv, .vdev = vdev };
	return launcher__call(activate_on_launcher, &c);
}

static int reset_on_launcher(void *priv)
{
	struct blk_dev *b = priv;

	stop_queues(b);
	__atomic_store_n(&b->vdev, NULL, __ATOMIC_RELEASE);
	return 0;
}

/* a device reset, on a vCPU (or at the end, on the main thread) */
static void blk_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

const struct virtio_dev_ops blk_dev_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = blk_features,
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.config_write = NULL,
	.activate = blk_activate,
	.reset = blk_reset,
};
