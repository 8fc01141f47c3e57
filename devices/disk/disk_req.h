/* SPDX-License-Identifier: Apache-2.0 */
/* A disk and its requests, and what every engine does with them (devices/disk/disk_req.c); the public calls are in disk.h. */
#ifndef KVMINI_DEVICES_DISK_DISK_REQ_H
#define KVMINI_DEVICES_DISK_DISK_REQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE /* O_DIRECT */ };
enum disk_engine { DISK_ENGINE_SYNC, DISK_ENGINE_IO_URING };

struct disk_engine_ops;

/* Bounce buffers one I/O context may hold at once (cache=none, guest buffers O_DIRECT cannot
 * take). A request that would go past it is done through the page cache instead (the
 * buffered fd): no allocation a guest can drive past this, and no wait for room. */
#define DISK_BOUNCE_BUDGET (8ULL << 20)

enum disk_op { DISK_READ, DISK_WRITE, DISK_FLUSH, DISK_DISCARD, DISK_WRITE_ZEROES };

/* One request. The caller owns it until it comes back from disk__reap. */
struct disk_req {
	enum disk_op op;
	uint64_t offset;           /* bytes */
	uint64_t len;              /* bytes (DISCARD/WRITE_ZEROES; READ/WRITE: sum of iov) */
	struct iovec *iov;         /* READ/WRITE: guest buffers (host pointers) */
	int iovcnt;
	void *cookie;              /* the caller's */
	int64_t result;            /* filled on completion: len (FLUSH: 0) or -errno */
	/* private to the engine */
	void *bounce;              /* aligned copy of the data for misaligned cache=none I/O */
	struct iovec bounce_iov;
	bool buffered;             /* through buffered_fd: misaligned, and no bounce room left */
	unsigned zap_gen;          /* DISCARD / WRITE_ZEROES: the discard thread's cancel count */
	struct iovec *resid_iov;   /* what is left after a short transfer (allocated) */
	uint64_t done;             /* bytes transferred so far */
	struct disk_req *next;     /* engine queues */
};

struct disk {
	int fd;
	uint64_t size;             /* bytes */
	uint32_t block_size;       /* logical block size: 512 for files (cache=none: at least the
	                            * filesystem's O_DIRECT offset alignment), BLKSSZGET for devices */
	uint32_t mem_align;        /* buffer alignment O_DIRECT needs (1 without O_DIRECT) */
	bool is_blockdev;
	bool readonly;
	bool direct;               /* opened O_DIRECT */
	bool discard;              /* the backing can discard / punch holes */
	int buffered_fd;           /* cache=none: a second fd without O_DIRECT for requests whose
	                            * offset/length are not block aligned; -1 otherwise */
	enum disk_engine engine;   /* what is really in use (io_uring may have fallen back) */
	unsigned copy_workers;     /* from disk_opts (contexts inherit it) */
	uint64_t errors;           /* requests that completed with an error */
	uint64_t bounce_bytes;     /* bounce buffers allocated now (at most DISK_BOUNCE_BUDGET) */
	uint64_t bounce_peak;      /* ... and at most so far */
	uint64_t bounce_overflows; /* requests that went through the page cache for want of room */
	bool borrowed;             /* a context of another disk: its fds are not ours to close */
	void *engine_priv;
	/* tests only: an engine put in front of this disk's own (fault injection,
	 * tests/lib/disk_fault.c), and its state; NULL in kvmini */
	const struct disk_engine_ops *wrap;
	void *wrap_priv;
};

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
