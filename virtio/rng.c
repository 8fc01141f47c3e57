/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (virtio 1.2 5.4): each device-writable buffer filled by getrandom(), through a token bucket when rate-limited. */
#include "virtio/rng.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "devices/thread.h"
#include "vmm/launcher.h"
#include "vmm/seccomp.h"

#define NS_PER_S 1000000000ULL

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

static void driver_error(struct rng *r, const char *what)
{
	pthread_mutex_lock(&r->lock);
	virtio_core__driver_error(&r->counters.errors, &r->reports, "virtio-rng", what);
	pthread_mutex_unlock(&r->lock);
}

/* ---- the token bucket: the thread's own (kept across resets: a guest cannot refill it by
 * resetting the device) ---- */

/* Brings the bucket up to now: rate bytes a second, at most burst. Only the time the whole
 * bytes took is used up: the fraction of a byte carries over to the next refill. */
static void refill(struct rng *r, uint64_t now)
{
	if (now <= r->refilled_ns)
		return;
	unsigned __int128 add = (unsigned __int128)r->opts.rate * (now - r->refilled_ns) / NS_PER_S;
	uint64_t room = r->opts.burst - r->tokens;

	if (add >= room) {
		r->tokens = r->opts.burst;
		r->refilled_ns = now;
	} else if (add) {
		r->tokens += (uint64_t)add;
		/* ceil(add / rate) seconds: never more than now - refilled_ns */
		r->refilled_ns += (uint64_t)((add * NS_PER_S + r->opts.rate - 1) / r->opts.rate);
	}
}

/* Whether the device may take a buffer now: unlimited, or RNG_MIN_FILL bytes in the bucket */
static bool may_pop(struct rng *r)
{
	if (!r->opts.rate)
		return true;
	refill(r, now_ns());
	return r->tokens >= RNG_MIN_FILL;
}

/* Buffers wait on an empty bucket: counts the wait when it begins; returns the poll timeout
 * (ms, rounded up) until the bucket holds RNG_MIN_FILL bytes, at most RNG_WAIT_MAX_MS. */
static int throttle_wait(struct rng *r)
{
	uint64_t now = now_ns();
	uint64_t need = RNG_MIN_FILL - r->tokens;	/* may_pop said no: tokens < RNG_MIN_FILL */
	uint64_t at = r->refilled_ns + (uint64_t)(((unsigned __int128)need * NS_PER_S +
						     r->opts.rate - 1) / r->opts.rate);
	uint64_t ms = at > now ? (at - now + 999999) / 1000000 : 1;

	if (!r->wait_since_ns) {
		r->wait_since_ns = now;
		pthread_mutex_lock(&r->lock);
		r->counters.throttled++;
		pthread_mutex_unlock(&r->lock);
	}
	return ms > RNG_WAIT_MAX_MS ? RNG_WAIT_MAX_MS : (int)(ms ? ms : 1);
}

/* The wait (if any) is over: its time goes in the counters */
static void throttle_end(struct rng *r)
{
	if (!r->wait_since_ns)
		return;
	uint64_t waited = now_ns() - r->wait_since_ns;
	pthread_mutex_lock(&r->lock);
	r->counters.throttled_ns += waited;
	pthread_mutex_unlock(&r->lock);
	r->wait_since_ns = 0;
}

/* ---- requests ---- */

/* Writes up to `want` random bytes into the chain's writable buffers, in order; returns how
 * many were written (fewer only if getrandom fails, which is reported once). */
static uint32_t fill(struct rng *r, const struct virtq_chain *c, uint32_t want)
{
	uint32_t done = 0;

	for (unsigned i = c->n_out; i < c->n_out + c->n_in && done < want; i++) {
		uint8_t *p = c->iov[i].base;
		uint32_t len = c->iov[i].len < want - done ? c->iov[i].len : want - done;
		for (uint32_t off = 0; off < len;) {
			ssize_t got = getrandom(p + off, len - off, 0);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				virtio_core__report(&r->reports, "virtio-rng", "getrandom: %s",
						    got < 0 ? strerror(errno) : "no bytes");
				return done + off;
			}
			off += (uint32_t)got;
		}
		done += len;
	}
	return done;
}

/* One chain (virtio 1.2 5.4.6: device-writable buffers only): returns the bytes written,
 * what goes in the used ring (0 for a driver error) */
static uint32_t request(struct rng *r, const struct virtq_chain *c)
{
	uint32_t n = 0;

	if (c->n_out) {
		driver_error(r, "a device-readable buffer in a request");
	} else if (!c->n_in) {
		driver_error(r, "a request with no device-writable buffer");
	} else {
		uint64_t want = c->in_len < RNG_CHUNK_MAX ? c->in_len : RNG_CHUNK_MAX;
		if (r->opts.rate && want > r->tokens)
			want = r->tokens;
		n = fill(r, c, (uint32_t)want);
		if (r->opts.rate)
			r->tokens -= n;
	}
	pthread_mutex_lock(&r->lock);
	r->counters.requests++;
	r->counters.bytes += n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Serves the queue: at most RNG_BATCH buffers, and only while the bucket allows. Returns
 * whether buffers are left that no kick will announce (notifications stay off meanwhile:
 * a guest adding more while it waits does not kick). */
static bool serve(struct rng *r, struct virtq_chain *c)
{
	struct virtq *q = &r->vdev->vq[0];
	unsigned n = 0;
	bool more = false;
	int ret = 0;

	do {
		virtq__disable_notify(q);
		while (n < RNG_BATCH && may_pop(r) && (ret = virtq__pop(q, c)) == 1) {
			virtq__push(q, c->head, request(r, c));
			n++;
		}
		if (ret < 0) {
			r->vdev->t_ops->needs_reset(r->vdev->transport, q->error);
			return false;
		}
		more = virtq__has_work(q) && (n == RNG_BATCH || !may_pop(r));
	} while (!more && virtq__enable_notify(q));
	if (n && virtq__should_notify(q))
		r->vdev->t_ops->notify_used(r->vdev->transport, 0);
	return more;
}

/* The device's thread: waits for a kick, the bucket (a poll timeout) or stop. Each wake-up
 * serves at most RNG_BATCH buffers, then polls again (stop is seen between batches). */
static void *rng_thread(void *arg)
{
	struct rng *r = arg;
	struct virtq_chain *chain = malloc(sizeof(*chain));
	struct pollfd p[2] = { { .fd = r->vdev->kick_fd[0], .events = POLLIN },
			       { .fd = r->stop_fd, .events = POLLIN } };
	bool pending = true;	/* buffers the driver added before DRIVER_OK */

	pthread_setname_np(pthread_self(), "virtio-rng");
	seccomp__enter(SECCOMP_KIND_RNG);
	if (!chain) {
		r->vdev->t_ops->needs_reset(r->vdev->transport, "out of memory");
		return NULL;
	}
	for (;;) {
		eventfd_t v;
		int timeout = !pending ? -1 : may_pop(r) ? 0 : throttle_wait(r);
		if (poll(p, 2, timeout) < 0)
			continue;
		if (p[1].revents & POLLIN)
			break;
		if (p[0].revents & POLLIN) {
			eventfd_read(p[0].fd, &v);
			pending = true;
		}
		if (pending && may_pop(r)) {
			throttle_end(r);
			pending = serve(r, chain);
		}
	}
	throttle_end(r);
	free(chain);
	return NULL;
}

/* ---- activation and reset, on the launcher thread (as virtio-balloon) ---- */

static void stop_thread(struct rng *r)
{
	if (__atomic_load_n(&r->running, __ATOMIC_ACQUIRE)) {
		eventfd_write(r->stop_fd, 1);
		pthread_join(r->thread, NULL);
		__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
	}
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	r->stop_fd = -1;
	__atomic_store_n(&r->vdev, NULL, __ATOMIC_RELEASE);
}

static int activate_on_launcher(void *arg)
{
	struct rng *r = ((void **)arg)[0];
	struct virtio_dev *vdev = ((void **)arg)[1];

	if (!vdev->vq_ready[0])
		return -EINVAL;
	__atomic_store_n(&r->vdev, vdev, __ATOMIC_RELEASE);
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0 || thread__create(&r->thread, 0, true, rng_thread, r)) {
		stop_thread(r);
		return -ENOMEM;
	}
	__atomic_store_n(&r->running, true, __ATOMIC_RELEASE);
	return 0;
}

static int rng_activate(void *priv, struct virtio_dev *vdev)
{
	void *args[2] = { priv, vdev };

	return launcher__call(activate_on_launcher, args);
}

static int reset_on_launcher(void *priv)
{
	stop_thread(priv);
	return 0;
}

static void rng_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

static uint64_t rng_features(void *priv)
{
	(void)priv;
	return (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

const struct virtio_dev_ops rng_dev_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.features = rng_features,
	.config_size = 0,	/* virtio 1.2 5.4.4: none */
	.config_read = NULL,
	.config_write = NULL,
	.activate = rng_activate,
	.reset = rng_reset,
};

/* ---- the VMM's side ---- */

int rng__init(struct rng *r, const struct rng_opts *opts, char *err, size_t errlen)
{
	if (opts->rate ? opts->burst < RNG_MIN_FILL : opts->burst != 0) {
		snprintf(err, errlen, "--rng burst=%llu: %s", (unsigned long long)opts->burst,
			 opts->rate ? "less than 64 bytes" : "needs rate");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->opts = *opts;
	r->stop_fd = -1;
	r->tokens = opts->burst;	/* a full bucket to start with */
	r->refilled_ns = now_ns();
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void rng__free(struct rng *r)
{
	pthread_mutex_destroy(&r->lock);
}

void rng__counters(struct rng *r, struct rng_counters *c)
{
	pthread_mutex_lock(&r->lock);
	*c = r->counters;
	pthread_mutex_unlock(&r->lock);
}
