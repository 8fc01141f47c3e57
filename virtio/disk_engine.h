/* SPDX-License-Identifier: Apache-2.0 */
/* Private to virtio/disk*.c: the I/O engine ops table and the helpers the engines share. */
#ifndef KVMINI_VIRTIO_DISK_ENGINE_H
#define KVMINI_VIRTIO_DISK_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/disk.h"

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
extern const struct disk_engine_ops disk_fault_ops;   /* virtio/disk_fault.c, tests only */

/* The engine itself (not a fault wrapper in front of it), or NULL for an unknown one. */
const struct disk_engine_ops *disk__engine_ops(enum disk_engine e);

/* Is io_uring usable in this process? Probed once. 0, or -errno with a reason in why. */
int disk_uring__probe(char *why, size_t whylen);

/* A FIFO of requests linked through disk_req.next. */
struct disk_reqq {
	struct disk_req *head, *tail;
};

void disk_reqq__push(struct disk_reqq *q, struct disk_req *r);
struct disk_req *disk_reqq__pop(struct disk_reqq *q);

/* Validates a request and readies it: len of READ/WRITE from its iovecs, a bounce buffer when
 * cache=none needs one (write data copied in). 0, or -errno to complete it with. */
int disk__req_prepare(struct disk *d, struct disk_req *r);
/* The fd a READ/WRITE goes to: the buffered one for offsets/lengths O_DIRECT cannot take. */
int disk__req_fd(const struct disk *d, const struct disk_req *r);
/* The iovecs still to transfer (after r->done bytes). 0 or -ENOMEM. */
int disk__req_iov(struct disk_req *r, const struct iovec **iov, int *cnt);
/* Does the whole request synchronously: bytes (READ/WRITE: len) or 0, or -errno. */
int64_t disk__req_sync(struct disk *d, struct disk_req *r);
/* Finishes a request: copies a read's bounce buffer out, frees engine memory, sets result,
 * counts errors. */
void disk__req_complete(struct disk *d, struct disk_req *r, int64_t result);

/* DISCARD / WRITE_ZEROES in chunks of DISK_ZAP_CHUNK, asking stopping(arg) (may be NULL)
 * between two: bytes, or -errno (-ECANCELED once it says stop). */
#define DISK_ZAP_CHUNK (64ULL << 20)
int64_t disk__zap_chunked(struct disk *d, struct disk_req *r, bool (*stopping)(const void *),
			  const void *arg);

/* The worker that runs an I/O context's DISCARD and WRITE_ZEROES (virtio/disk_zap.c): a whole
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

/* Starts an engine thread (sync workers, the discard thread): every signal blocked (the main
 * thread takes them), a DISK_THREAD_STACK stack; it enters its seccomp filter itself. A
 * context is opened on the main thread before the filters are installed, or on the launcher,
 * whose filter allows this. 0 or an errno. */
#define DISK_THREAD_STACK (256u << 10)
int disk__thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* eventfd helpers: make readable / consume */
void disk__efd_signal(int efd);
void disk__efd_drain(int efd);

#endif
