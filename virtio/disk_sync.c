/* SPDX-License-Identifier: Apache-2.0 */
/* The sync disk engine: I/O done inside disk__submit (preadv/pwritev), completions queued. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/disk_engine.h"

struct disk_sync {
	int efd;
	unsigned inflight;
	struct disk_reqq done;
};

static int sync__init(struct disk *d, char *err, size_t errlen)
{
	struct disk_sync *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		int e = errno;

		snprintf(err, errlen, "eventfd: %s", strerror(e));
		free(s);
		return -e;
	}
	d->engine_priv = s;
	return 0;
}

static void sync__exit(struct disk *d)
{
	struct disk_sync *s = d->engine_priv;

	/* queued requests are complete already: nothing of ours is attached to them */
	close(s->efd);
	free(s);
	d->engine_priv = NULL;
}

static int sync__submit(struct disk *d, struct disk_req **reqs, unsigned n)
{
	struct disk_sync *s = d->engine_priv;

	for (unsigned i = 0; i < n; i++) {
		struct disk_req *r = reqs[i];
		int64_t res = disk__req_prepare(d, r);

		if (!res)
			res = disk__req_sync(d, r);
		disk__req_complete(d, r, res);
		disk_reqq__push(&s->done, r);
		s->inflight++;
	}
	disk__efd_signal(s->efd);
	return (int)n;
}

static int sync__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait)
{
	struct disk_sync *s = d->engine_priv;
	struct disk_req *r;
	unsigned got = 0;

	(void)wait;	/* everything submitted is complete already */
	disk__efd_drain(s->efd);
	while (got < max && (r = disk_reqq__pop(&s->done)))
		done[got++] = r;
	s->inflight -= got;
	if (s->done.head)
		disk__efd_signal(s->efd);	/* more than max were waiting */
	return (int)got;
}

static int sync__completion_fd(const struct disk *d)
{
	const struct disk_sync *s = d->engine_priv;

	return s->efd;
}

static unsigned sync__inflight(const struct disk *d)
{
	const struct disk_sync *s = d->engine_priv;

	return s->inflight;
}

const struct disk_engine_ops disk_sync_ops = {
	.name = "sync",
	.init = sync__init,
	.exit = sync__exit,
	.submit = sync__submit,
	.reap = sync__reap,
	.completion_fd = sync__completion_fd,
	.inflight = sync__inflight,
};
