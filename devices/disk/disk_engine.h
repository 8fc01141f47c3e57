/* SPDX-License-Identifier: Apache-2.0 */
/* Private to devices/disk/disk*.c: the I/O engine ops table, the engines, the discard worker. */
#ifndef KVMINI_DEVICES_DISK_DISK_ENGINE_H
#define KVMINI_DEVICES_DISK_DISK_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/disk/disk_req.h"

struct disk_engine_ops {
	const char *name;
	/* 0, or -errno with a reason in err (the caller falls back to sync for io_uring) */
	int (*init)(struct disk *d, char *err, size_t errlen);
	void (*exit)(struct disk *d);
	int (*submit)(struct disk *d, struct disk_req **reqs, unsigned n);
	int (*reap)(struct disk *d, struct disk_req **done, unsigned max, bool wait);
	int (*completion_fd)(const struct disk *d);
	unsigned (*inflight)(const struct disk *d);
	/* lets long DISCARD / WRITE_ZEROES stop early (-ECANCELED); they still come back */
	void (*cancel)(struct disk *d);
};

extern const struct disk_engine_ops disk_sync_ops;
extern const struct disk_engine_ops disk_uring_ops;

/* The engine itself (not a wrapper a test put in front of it), or NULL for an unknown one. */
const struct disk_engine_ops *disk__engine_ops(enum disk_engine e);

/* Is io_uring usable in this process? Probed once. 0, or -errno with a reason in why. */
int disk_uring__probe(char *why, size_t whylen);

/* The worker that runs an I/O context's DISCARD and WRITE_ZEROES (devices/disk/disk_zap.c): a whole
 * disk of them must hold up neither the other requests nor a reset. Started by the engine's
 * init on a writable disk; done(ctx, r, result) runs on the worker for each request. */
struct disk_zap;
struct disk_zap *disk_zap__start(struct disk *d, void (*done)(void *ctx, struct disk_req *r,
							      int64_t res),
				 void *ctx, int *err);
void disk_zap__queue(struct disk_zap *z, struct disk_req *r);
/* What is queued or running now stops after its chunk and comes back -ECANCELED; later
 * requests run. No wait. */
void disk_zap__cancel(struct disk_zap *z);
/* disk_zap__cancel, then waits for the worker and frees it (NULL: nothing). */
void disk_zap__stop(struct disk_zap *z);

#endif
