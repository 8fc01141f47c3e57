/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng: the host's getrandom() for the guest, optionally rate-limited; one thread. */
#ifndef KVMINI_VIRTIO_RNG_H
#define KVMINI_VIRTIO_RNG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/core.h"
#include "virtio/virtio.h"

#define RNG_QUEUE_MAX 64u            /* QueueNumMax we offer (one queue: requestq) */
#define RNG_CHUNK_MAX (64u << 10)    /* bytes one buffer gets at most */
#define RNG_MIN_FILL 64u             /* rate-limited: the device pops only with this many bytes
				      * in the bucket (Linux asks for 64 at a time) */
#define RNG_BATCH 64u                /* buffers served per wake-up before polling again */
#define RNG_WAIT_MAX_MS 5000         /* longest poll while waiting for the bucket to refill
				      * (a kick or a stop ends it sooner) */

/* --rng, parsed */
struct rng_opts {
	bool on;
	uint64_t rate;                   /* bytes per second, 0: unlimited */
	uint64_t burst;                  /* the token bucket's size in bytes (rate set: >= 64) */
};

/* Parses "" or "on" (the defaults: unlimited), or "rate=N[,burst=N]" where N is bytes, a
 * plain integer or with a K or M suffix (1024, 1048576). rate >= 1; burst defaults to
 * max(rate, 64), must be >= 64 and needs rate. 0, or -1 with a one-line reason in err. */
int rng__parse_opts(const char *spec, struct rng_opts *o, char *err, size_t errlen);

/* What the device has done. requests counts every buffer chain the guest gave, errors
 * included; throttled counts the times buffers waited on the rate limit and throttled_ns the
 * time they waited in all (CLOCK_MONOTONIC). */
struct rng_counters {
	uint64_t bytes;                  /* random bytes written to the guest */
	uint64_t requests;               /* chains served (given back), errors included */
	uint64_t errors;                 /* driver errors: readable buffers, nothing writable */
	uint64_t throttled;              /* waits on an empty bucket with buffers pending */
	uint64_t throttled_ns;           /* time spent in those waits */
};

struct rng {
	struct rng_opts opts;
	struct virtio_dev *vdev;         /* set while active */
	pthread_t thread;
	bool running;                    /* atomic */
	int stop_fd;
	pthread_mutex_t lock;            /* counters */
	struct rng_counters counters;
	struct virtio_report reports;
	/* the token bucket and the wait, the thread's own */
	uint64_t tokens;                 /* bytes the device may give now (rate set) */
	uint64_t refilled_ns;            /* when tokens was last brought up to date */
	uint64_t wait_since_ns;          /* when the current wait began, 0: none */
};

extern const struct virtio_dev_ops rng_dev_ops;

/* Before the transport: the device's state from opts (checked as the parser does).
 * 0, or -1 with err. */
int rng__init(struct rng *r, const struct rng_opts *opts, char *err, size_t errlen);
void rng__free(struct rng *r);
/* A copy of the counters (any thread). */
void rng__counters(struct rng *r, struct rng_counters *c);

#endif
