/* SPDX-License-Identifier: Apache-2.0 */
/* Disk backings (a regular file or a raw block device) and I/O engines (sync, io_uring). */
#ifndef KVMINI_DEVICES_DISK_DISK_H
#define KVMINI_DEVICES_DISK_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/disk/disk_req.h"

struct disk_opts {
	const char *path;
	bool readonly;
	bool force;                /* allow a mounted block device */
	enum disk_cache cache;
	enum disk_engine engine;
	unsigned copy_workers;     /* io_uring, cache=writeback: the most worker threads io_uring
	                            * runs for one submitting thread (large buffered requests are
	                            * page-cache copies on them); 0: io_uring's own limit. See
	                            * disk__copy_workers */
};

/* Opens and probes a backing: regular file (fstat) or block device (S_ISBLK, BLKGETSIZE64,
 * BLKSSZGET, refused while mounted unless opts->force), takes an exclusive flock (shared for
 * read-only), opens O_DIRECT for cache=none, and sets up the engine (io_uring is probed once;
 * if unavailable, falls back to sync and says so in `note`). 0, or -1 with a one-line reason
 * in err (missing file, a directory, read-only file without readonly, mounted device, locked
 * by another process...). */
int disk__open(struct disk *d, const struct disk_opts *opts, char *err, size_t errlen,
	       char *note, size_t notelen);
/* A second I/O context on an open disk (one per virtqueue): the same fds and properties, its
 * own engine instance (its own io_uring and completion eventfd). Close it with disk__close
 * before the parent. 0, or -1 with a reason in err. */
int disk__open_ctx(struct disk *ctx, const struct disk *parent, char *err, size_t errlen);
/* The copy_workers for each of `contexts` I/O contexts on a host with host_cpus CPUs running
 * vcpus vCPUs: the CPUs the vCPUs leave free, shared among the contexts, at least 1. A page-cache
 * copy is CPU work: more copies at once than there are free CPUs only take CPU time from the
 * vCPUs (the guest's steal time), and the guest gets its data no sooner. */
unsigned disk__copy_workers(unsigned host_cpus, unsigned vcpus, unsigned contexts);
/* Waits for requests still in flight (their results are dropped: reap first), then closes. */
void disk__close(struct disk *d);

/* Starts n requests (one io_uring submission for the whole batch; the sync engine hands them to
 * its worker threads, or does a lone request on an idle context inline). Returns n, or -errno if none could start.
 * READ/WRITE: len is set here to the sum of the iovecs. A request that is invalid (past the
 * end: -EIO; a write to a read-only disk: -EROFS; DISCARD without d->discard: -EOPNOTSUPP)
 * or fails still completes through disk__reap with that result; every accepted request comes
 * back exactly once. DISCARD and WRITE_ZEROES (fallocate / BLKDISCARD / BLKZEROOUT, or writing
 * zeroes) run on the context's discard thread in chunks of DISK_ZAP_CHUNK, whatever the
 * engine: other requests go on meanwhile. */
int disk__submit(struct disk *d, struct disk_req **reqs, unsigned n);
/* Collects finished requests into done[0..max); wait=true blocks for at least one if any are
 * in flight. Returns how many (0: none ready), or -errno if io_uring_enter itself failed (the
 * requests stay in flight: call again). When it returns max and more are done, the
 * completion fd stays readable. */
int disk__reap(struct disk *d, struct disk_req **done, unsigned max, bool wait);
/* An fd that becomes readable when completions are waiting (eventfd), for poll loops; reap
 * consumes it. It may be readable with nothing to reap (then reap returns 0). */
int disk__completion_fd(const struct disk *d);
/* Makes DISCARD / WRITE_ZEROES submitted so far stop after the chunk they are on, and those
 * not started yet not start: they come back -ECANCELED (a reset does not wait for a whole
 * disk). Later ones run as usual. */
void disk__cancel_slow(struct disk *d);
/* Requests submitted and not yet reaped. */
unsigned disk__inflight(const struct disk *d);
/* Bytes of the backing (file or block device) in the host's page cache now, whoever put them
 * there: mincore over a read-only shared mapping, 256 MiB at a time (about a millisecond a
 * GiB). 0, or -errno (*bytes 0). */
int disk__page_cache(const struct disk *d, uint64_t *bytes);
/* The sync engine's most requests running at once on its workers so far (0 on io_uring). */
unsigned disk_sync__peak(const struct disk *d);

#endif
