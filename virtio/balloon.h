/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-balloon: inflate/deflate, the guest's memory statistics, free page reporting; one thread. */
#ifndef KVMINI_VIRTIO_BALLOON_H
#define KVMINI_VIRTIO_BALLOON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/core.h"
#include "virtio/virtio.h"

#define BALLOON_QUEUE_MAX 128u       /* QueueNumMax we offer */
#define BALLOON_STATS_MAX 16u        /* statistics tags we keep (virtio 1.2 5.5.6.3: 0..9) */
#define BALLOON_STATS_WAIT_MS 200    /* how long a request for fresh statistics waits */

/* --balloon, parsed: what is offered and the first target */
struct balloon_opts {
	bool on;
	uint64_t size;                   /* bytes to take from the guest at start (size=) */
	bool stats;                      /* statistics queue (stats=on, the default) */
	bool deflate_on_oom;             /* the guest may deflate under memory pressure */
	bool free_page_reporting;        /* the guest reports free pages; kvmini drops them */
};

/* Parses "[size=SIZE][,stats=on|off][,deflate_on_oom=on|off][,free_page_reporting=on|off]"
 * (an empty string: the defaults). 0, or -1 with a one-line reason in err. */
int balloon__parse_opts(const char *spec, struct balloon_opts *o, char *err, size_t errlen);

/* The guest's statistics as last sent (virtio 1.2 5.5.6.3: bytes or counts) */
struct balloon_stats {
	uint64_t updated_ns;             /* CLOCK_MONOTONIC when they came (0: never) */
	uint64_t updates;                /* how many times they came */
	uint32_t have;                   /* bit t: tag t was sent */
	uint64_t v[BALLOON_STATS_MAX];
};

/* what the device has done (vm.memory, vm.counters) */
struct balloon_counters {
	uint64_t inflated, deflated;     /* 4 KiB pages the guest gave and took back */
	uint64_t inflate_dropped;        /* of the inflated, given back to the host (madvise) */
	uint64_t reported_bytes;         /* free page reporting: bytes given back to the host */
	uint64_t errors;                 /* driver errors (bad pages, bad buffers) */
};

struct balloon {
	struct balloon_opts opts;
	const struct guest_mem *mem;
	struct virtio_dev *vdev;         /* set while active */
	pthread_t thread;
	bool running;
	int stop_fd;
	int stats_req_fd;                /* eventfd: give the stats buffer back for fresh figures */
	pthread_mutex_t lock;            /* config, stats, counters */
	pthread_cond_t stats_cond;
	uint32_t num_pages;              /* the target the device asks for (config) */
	uint32_t actual;                 /* what the driver says it holds (config) */
	struct balloon_stats stats;
	struct balloon_counters counters;
	int stats_head;                  /* the statistics buffer the device holds, -1: none */
	struct virtio_report reports;
};

extern const struct virtio_dev_ops balloon_dev_ops;

/* Before the transport: the device's state from opts. 0, or -1 with err. */
int balloon__init(struct balloon *b, const struct balloon_opts *opts, const struct guest_mem *mem,
		  char *err, size_t errlen);
void balloon__free(struct balloon *b);
/* The number of virtqueues the transport offers (inflate, deflate, stats, reporting). */
unsigned balloon__num_queues(const struct balloon *b);
/* vm.resize's desired_balloon: the new target in bytes (4 KiB pages, at most guest RAM);
 * tells the guest (a configuration change). 0, or -1 with err. */
int balloon__set_target(struct balloon *b, uint64_t bytes, uint64_t ram, char *err, size_t errlen);
/* A copy of the statistics, fresh if the guest answers within BALLOON_STATS_WAIT_MS. */
void balloon__stats(struct balloon *b, struct balloon_stats *s, bool refresh);
/* Target and actual in bytes, and the counters. */
void balloon__state(struct balloon *b, uint64_t *target, uint64_t *actual,
		    struct balloon_counters *c);
/* The name of statistics tag t (virtio 1.2: "swap_in", ... "hugetlb_failures"), or NULL. */
const char *balloon__stat_name(unsigned t);

#endif
