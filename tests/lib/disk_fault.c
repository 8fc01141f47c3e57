/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only fault injection: an engine wrapper that fails requests touching chosen bytes. */
#include "tests/lib/disk_fault.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "devices/disk/disk_engine.h"

static const struct disk_engine_ops *inner(const struct disk *d)
{
	return disk__engine_ops(d->engine);
}

static uint64_t req_len(const struct disk_req *r)
{
	if (r->op != DISK_READ && r->op != DISK_WRITE)
		return r->len;
	uint64_t n = 0;
	for (int i = 0; i < r->iovcnt; i++)
		n += r->iov[i].iov_len;
	return n;
}

static bool hits(const struct disk_fault *f, const struct disk_req *r)
{
	if (!(f->ops & (1u << r->op)))
		return false;
	if (r->op == DISK_FLUSH)
		return true;
	uint64_t len = req_len(r);
	return len && r->offset <= f->last && r->offset + len - 1 >= f->first;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* The log: what goes to the engine now, and what came back from it. */
static void log_submit(struct disk_fault *f, struct disk_req **reqs, unsigned n)
{
	uint64_t t = now_ns();
	for (unsigned i = 0; f->log && i < n && f->nlog < f->log_max; i++)
		f->log[f->nlog++] = (struct disk_fault_event){
			.op = reqs[i]->op, .offset = reqs[i]->offset, .len = req_len(reqs[i]),
			.submit_ns = t, .req = reqs[i] };
}

static void log_done(struct disk_fault *f, struct disk_req **done, unsigned n)
{
	uint64_t t = now_ns();
	for (unsigned i = 0; f->log && i < n; i++)
		for (unsigned k = f->nlog; k-- > 0;)
			if (f->log[k].req == done[i] && !f->log[k].done_ns) {
				f->log[k].done_ns = t;
				break;
			}
}

static int fault__init(struct disk *d, char *err, size_t errlen)
{
	return inner(d)->init(d, err, errlen);
}

static void fault__exit(struct disk *d)
{
	inner(d)->exit(d);
}

/* A request that completes here with res: it waits for disk__reap in the wrapper's queue. */
static void park(struct disk *d, struct disk_req *r, int64_t res)
{
	struct disk_fault *f = d->wrap_priv;

	r->bounce = NULL;
	r->resid_iov = NULL;
	r->next = NULL;
	r->len = req_len(r);
	disk__req_complete(d, r, res);
	if (f->tail)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
	f->waiting++;
}

static int fault__submit(struct disk *d, struct disk_req **reqs, unsigned n)
{
	struct disk_fault *f = d->wrap_priv;
	struct disk_req *pass[n ? n : 1];
	unsigned npass = 0, failed = 0;

	for (unsigned i = 0; i < n; i++) {
		struct disk_req *r = reqs[i];
		if (!hits(f, r)) {
			pass[npass++] = r;
			continue;
		}
		park(d, r, -f->err);
		failed++;
		__atomic_add_fetch(&f->hits, 1, __ATOMIC_RELAXED);
	}
	if (failed)
		disk__efd_signal(inner(d)->completion_fd(d));	/* readable with nothing to reap is fine */
	if (!npass)
		return (int)n;
	if (__atomic_load_n(&f->hold, __ATOMIC_ACQUIRE) && f->nheld + npass <= sizeof(f->held) / sizeof(f->held[0])) {
		memcpy(f->held + f->nheld, pass, npass * sizeof(pass[0]));
		f->nheld += npass;
		return (int)n;
	}
	log_submit(f, pass, npass);
	int rc = inner(d)->submit(d, pass, npass);
	return rc < 0 && !failed ? rc : (int)n;
}

static int fault__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait)
{
	struct disk_fault *f = d->wrap_priv;
	unsigned got = 0;

	if (wait && f->nheld) {	/* the device drains: what was held goes to the engine now */
		unsigned k = f->nheld;
		f->nheld = 0;
		log_submit(f, f->held, k);
		int rc = inner(d)->submit(d, f->held, k);
		for (unsigned i = 0; rc < 0 && i < k; i++)
			park(d, f->held[i], rc);	/* each still comes back exactly once */
	}
	while (got < max && f->head) {
		struct disk_req *r = f->head;
		f->head = r->next;
		if (!f->head)
			f->tail = NULL;
		r->next = NULL;
		f->waiting--;
		done[got++] = r;
	}
	if (got == max)
		return (int)got;
	int rc = inner(d)->reap(d, done + got, max - got, wait && !got);
	if (rc > 0)
		log_done(f, done + got, (unsigned)rc);
	return rc < 0 ? (got ? (int)got : rc) : (int)got + rc;
}

static int fault__completion_fd(const struct disk *d)
{
	return inner(d)->completion_fd(d);
}

static unsigned fault__inflight(const struct disk *d)
{
	const struct disk_fault *f = d->wrap_priv;

	return f->waiting + f->nheld + inner(d)->inflight(d);
}

static void fault__cancel(struct disk *d)
{
	if (inner(d)->cancel)
		inner(d)->cancel(d);
}

static const struct disk_engine_ops disk_fault_ops = {
	.name = "fault",
	.init = fault__init,
	.exit = fault__exit,
	.submit = fault__submit,
	.reap = fault__reap,
	.completion_fd = fault__completion_fd,
	.inflight = fault__inflight,
	.cancel = fault__cancel,
};

void disk_fault__attach(struct disk *d, struct disk_fault *f)
{
	f->head = f->tail = NULL;
	f->waiting = 0;
	f->nheld = 0;
	d->wrap = &disk_fault_ops;
	d->wrap_priv = f;
}
