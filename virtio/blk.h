/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk: requests from the virtqueue to a disk backing, on one I/O thread per disk. */
#ifndef KVMINI_VIRTIO_BLK_H
#define KVMINI_VIRTIO_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <linux/virtio_blk.h>

#include "virtio/core.h"
#include "devices/disk/disk.h"
#include "virtio/virtio.h"

#define BLK_QUEUE_MAX 256u           /* QueueNumMax we offer */
#define BLK_MAX_QUEUES 8u            /* queues=: at most 8 virtqueues (one I/O thread each) */
#define BLK_SEG_MAX   (BLK_QUEUE_MAX - 2) /* seg_max: data segments of one request */
#define BLK_SIZE_MAX  (1u << 20)         /* size_max: bytes of one segment */
#define BLK_SERIAL_MAX 20            /* VIRTIO_BLK_ID_BYTES */

/* One --disk option, parsed. */
struct blk_opts {
	struct disk_opts disk;             /* disk.path points into buf */
	char serial[BLK_SERIAL_MAX + 1];
	unsigned queues;                   /* virtqueues, 1..BLK_MAX_QUEUES (0 reads as 1) */
	long coalesce_us;                  /* coalesce=: 0 off; -1 auto (the default) */
	char buf[4096];
};

/* Parses "path=PATH[,ro=on|off][,cache=writeback|none][,engine=sync|io_uring][,serial=ID]
 * [,force=on][,queues=N][,coalesce=auto|US]". A bare first item without '=' is the path; ",," is a literal comma.
 * 0, or -1 with a one-line reason in err. */
int blk__parse_opts(const char *spec, struct blk_opts *opts, char *err, size_t errlen);

struct blk_req;

/* coalesce=auto (the default) sets the window from what a VM exit costs here (blk__coalesce_for;
 * the model is in docs/benchmarks.md, "Defaults from the exit cost"): BLK_COALESCE_EXITS exits'
 * worth, at most BLK_COALESCE_NS (the nested L1's tuned value: about the time the host takes to
 * copy 1 MiB there). Windows of BLK_KICKS_OFF_MIN_NS and more also turn kicks off while a large
 * request is in flight (the queue then looks at the ring once a window instead: fewer than
 * 5000 wake-ups a second). An exit cost that could not be measured counts as
 * BLK_ASSUMED_EXIT_NS, hardware's: the short window, kicks on. */
#define BLK_COALESCE_NS 500000L
#define BLK_COALESCE_EXITS 16
#define BLK_KICKS_OFF_MIN_NS 200000L
#define BLK_ASSUMED_EXIT_NS 2000L
#define BLK_COALESCE_MAX_US 100000L	/* coalesce=: at most 100 ms */

struct blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t read_bytes, write_bytes;
	uint64_t io_errors, bad_requests, unsupported;
	uint64_t kicks, batches, interrupts;
	uint64_t coalesced;                /* interrupts held back to go with the next round */
	uint64_t unkicked;                 /* looks at the ring made without a kick (kicks off) */
};

struct blk_dev;

/* One virtqueue and everything its I/O thread owns. */
struct blk_queue {
	struct blk_dev *b;
	unsigned idx;
	struct disk *disk;           /* queue 0: &b->disk; the others: &ctx, their own engine */
	struct disk ctx;
	pthread_t thread;
	bool running;
	struct blk_req *reqs;        /* indexed by chain head */
	unsigned nreqs;
	struct blk_stats stats;      /* written by this queue's thread only */
	bool notify_owed;            /* completions pushed, their interrupt held back (reap) */
	struct timespec owed_since;  /* since when (CLOCK_MONOTONIC) */
	unsigned large_inflight;     /* requests of BLK_COALESCE_MIN or more in flight */
	bool kicks_off;              /* the guest is not asked to kick (process_queue) */
	int busy;                    /* atomic: looking at the ring (blk__hold waits it out) */
};

struct blk_dev {
	struct disk disk;
	char serial[BLK_SERIAL_MAX + 1];
	struct virtio_blk_config config;
	uint64_t features;
	unsigned nq;                 /* virtqueues offered (num_queues) */
	struct virtio_dev *vdev;     /* set while active (atomic stores: the queue report reads it) */
	int stop_fd;
	long coalesce_ns;            /* how long a held-back interrupt waits (reap); tests set it */
	bool coalesce_auto;          /* coalesce_ns follows the exit cost (blk__set_exit_cost) */
	struct blk_queue q[VIRTIO_MAX_QUEUES];
	struct blk_stats stats;      /* totals of queues that have stopped (see blk__stats) */
	char name[64];               /* "virtio-blk <path>", for reports */
	const char *path;            /* the backing, as given (the caller's string) */
	struct virtio_report reports;  /* backing errors said once per kind (virtio/core.h) */
	int held;                    /* atomic: paused, no queue takes a new request (blk__hold) */
};

/* The coalescing window for an exit cost of exit_ns (<= 0: not measured), in ns. */
long blk__coalesce_for(long exit_ns);
/* Whether a window that long also turns kicks off while a large request is in flight. */
static inline bool blk__kicks_off(long window_ns)
{
	return window_ns >= BLK_KICKS_OFF_MIN_NS;
}
/* Before the device starts: with coalesce=auto, the window for this exit cost. */
void blk__set_exit_cost(struct blk_dev *b, long exit_ns);

/* Opens the backing and fills the config space. 0, or -1 with a reason in err. */
int blk__init(struct blk_dev *b, const struct blk_opts *opts, char *err, size_t errlen,
	      char *note, size_t notelen);
void blk__free(struct blk_dev *b);
/* The statistics so far: every queue's plus what stopped queues left (quiescent reads). */
void blk__stats(const struct blk_dev *b, struct blk_stats *out);
/* One queue's state and counters at one moment (SIGUSR1 statistics, from any thread):
 * requests waiting in the ring, in flight in kvmini, the EVENT_IDX marks, kicks and
 * interrupts. vmm/report.c formats it. */
struct blk_queue_snap {
	const char *path;
	unsigned idx;
	struct virtq_snapshot s;             /* s.rings false: the queue is not active */
	unsigned waiting, inflight;          /* avail - taken, taken - used (ring counters) */
	unsigned long long kicks, unkicked, irqs, coalesced, batches;
	unsigned long long reads, writes, read_bytes, write_bytes;
};
/* Each of b's queues into out (at most max of them); returns how many. */
unsigned blk__snapshot_queues(const struct blk_dev *b, struct blk_queue_snap *out, unsigned max);
/* Pausing the VM (the control socket): while held, no queue takes a new request from its ring
 * (kicks are counted, then left); requests already taken complete and interrupt as usual.
 * After blk__hold(b, true), blk__quiet says when nothing is in flight any more; blk__hold(b,
 * false) lets every queue look at its ring again (a kick of its own). */
void blk__hold(struct blk_dev *b, bool on);
bool blk__quiet(const struct blk_dev *b);

extern const struct virtio_dev_ops blk_dev_ops;

#endif
