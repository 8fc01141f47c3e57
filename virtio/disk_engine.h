/* SPDX-License-Identifier: Apache-2.0 */
/* Private to virtio/disk*.c: the I/O engine ops table and the helpers the engines share. */
#ifndef KVMINI_VIRTIO_DISK_ENGINE_H
#define KVMINI_VIRTIO_DISK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

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

/* eventfd helpers: make readable / consume */
void disk__efd_signal(int efd);
void disk__efd_drain(int efd);

#endif
