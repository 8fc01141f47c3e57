/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: virtio-rng over virtio-mmio with the fake driver (tests/lib/vdrv): features, fills, driver errors, the rate limit, reset, options. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/lib/ck.h"
#include "tests/lib/vdrv.h"
#include "virtio/rng.h"

#define RAM  (4ULL << 20)
#define QSZ  8
#define BUF  VDRV_BUFS
#define FEAT ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX))

static struct vdrv d;
static struct rng r;
static bool up;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* the device with --rng `spec` on the fake driver's transport (not started) */
static void make(const char *spec)
{
	struct rng_opts o;
	char err[200];

	ck_assert_int_eq(rng__parse_opts(spec, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(rng__init(&r, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(vdrv__init(&d, RAM, &rng_dev_ops, &r, 1, RNG_QUEUE_MAX), 0);
	up = true;
}

static void start(const char *spec, uint64_t features)
{
	make(spec);
	ck_assert_int_eq(vdrv__start(&d, features, 1, QSZ), 0);
}

static void teardown(void)
{
	if (!up)
		return;
	vdrv__destroy(&d);
	rng__free(&r);
	up = false;
}

static struct rng_counters counters(void)
{
	struct rng_counters c;

	rng__counters(&r, &c);
	return c;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* one chain of n buffers on the queue, kicked; waits for it; returns its used length */
static uint32_t request(const struct vdrv_buf *b, unsigned n)
{
	uint16_t want = (uint16_t)(vdrv__used_idx(&d, 0) + 1);
	uint16_t head = vdrv__add(&d, 0, b, n);

	vdrv__kick(&d, 0);
	ck_assert(vdrv__wait_used(&d, 0, want, VDRV_WAIT_MS));
	struct vring_used_elem e = vdrv__used(&d, 0, (uint16_t)(want - 1));
	ck_assert_uint_eq(e.id, head);
	return e.len;
}

START_TEST(features_offered)
{
	make("");
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	ck_assert_uint_eq(vdrv__device_features(&d), FEAT);
	vdrv__wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX), RNG_QUEUE_MAX);
	vdrv__wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(vdrv__rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);	/* one queue */
	ck_assert_int_eq(vdrv__negotiate(&d, FEAT | (1ULL << VIRTIO_RING_F_INDIRECT_DESC)), -1);
	ck_assert_int_eq(vdrv__start(&d, FEAT, 1, QSZ), 0);
}
END_TEST

/* a 4 KiB buffer is filled in full, with random bytes: two fills differ */
START_TEST(fills_a_buffer)
{
	start("on", FEAT);
	uint8_t *a = vdrv__ptr(&d, BUF), *b = vdrv__ptr(&d, BUF + 4096);
	memset(a, 0, 8192);
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF, 4096, true }, 1), 4096);
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF + 4096, 4096, true }, 1), 4096);
	ck_assert(!all_zero(a, 4096) && !all_zero(b, 4096));
	ck_assert(!all_zero(a + 4096 - 16, 16));	/* to the last byte */
	ck_assert_int_ne(memcmp(a, b, 4096), 0);
	struct rng_counters c = counters();
	ck_assert_uint_eq(c.bytes, 8192);
	ck_assert_uint_eq(c.requests, 2);
	ck_assert_uint_eq(c.errors, 0);
	ck_assert_uint_eq(c.throttled, 0);
	ck_assert(vdrv__wait_irqs(&d, 1, VDRV_WAIT_MS));
}
END_TEST

/* a chain of two writable buffers, without EVENT_IDX: both filled; a huge buffer gets 64 KiB */
START_TEST(fills_a_chain)
{
	const struct vdrv_buf two[] = { { BUF, 100, true }, { BUF + 0x1000, 3000, true } };

	start("", 1ULL << VIRTIO_F_VERSION_1);
	uint8_t *p = vdrv__ptr(&d, BUF);
	memset(p, 0, 0x2000);
	ck_assert_uint_eq(request(two, 2), 3100);
	ck_assert(!all_zero(p + 100 - 16, 16));
	ck_assert(all_zero(p + 100, 0x1000 - 100));	/* nothing between the buffers */
	ck_assert(!all_zero(p + 0x1000 + 3000 - 16, 16));
	ck_assert(all_zero(p + 0x1000 + 3000, 16));	/* nothing past the chain */
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF, 256 << 10, true }, 1), RNG_CHUNK_MAX);
	ck_assert_uint_eq(counters().bytes, 3100 + RNG_CHUNK_MAX);
}
END_TEST

/* device-readable buffers are the driver's mistake: given back empty, counted */
START_TEST(readable_buffers_are_errors)
{
	const struct vdrv_buf mixed[] = { { BUF, 64, false }, { BUF + 64, 64, true } };

	start("", FEAT);
	uint8_t *p = vdrv__ptr(&d, BUF);
	memset(p, 0, 128);
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF, 64, false }, 1), 0);
	struct rng_counters c = counters();
	ck_assert_uint_eq(c.errors, 1);
	ck_assert_uint_eq(c.requests, 1);
	ck_assert_uint_eq(c.bytes, 0);
	ck_assert_uint_eq(request(mixed, 2), 0);
	ck_assert(all_zero(p, 128));
	ck_assert_uint_eq(counters().errors, 2);
	/* the device goes on serving */
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF, 64, true }, 1), 64);
}
END_TEST

/* a buffer outside guest RAM breaks the queue: the device asks for a reset */
START_TEST(bad_buffer_needs_reset)
{
	start("", FEAT);
	vdrv__add(&d, 0, &(struct vdrv_buf){ RAM - 16, 4096, true }, 1);
	vdrv__kick(&d, 0);
	uint64_t until = now_ms() + VDRV_WAIT_MS;
	while (!(vdrv__rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) && now_ms() < until)
		usleep(1000);
	ck_assert(vdrv__rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(vdrv__used_idx(&d, 0), 0);
	vdrv__wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert(!__atomic_load_n(&r.running, __ATOMIC_ACQUIRE));
}
END_TEST

/* CPU seconds the device's thread has used (not the test's own polling) */
static double cpu_s(void)
{
	clockid_t c;
	struct timespec t;

	ck_assert_int_eq(pthread_getcpuclockid(r.thread, &c), 0);
	ck_assert_int_eq(clock_gettime(c, &t), 0);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* rate=4K,burst=4K: 3 x 4 KiB take about 2 s; the bytes never run ahead of the bucket, and the
 * device's thread does not spin while it waits */
START_TEST(rate_limit)
{
	uint64_t total = 0, t0 = now_ms();
	unsigned partial = 0;

	start("rate=4K,burst=4K", FEAT);
	double cpu0 = cpu_s();
	while (total < 3 * 4096 && now_ms() - t0 < VDRV_WAIT_MS) {
		uint32_t n = request(&(struct vdrv_buf){ BUF, 4096, true }, 1);
		total += n;
		partial += n < 4096;
		uint64_t elapsed = now_ms() - t0 + 1;	/* (ms, rounded up) */
		ck_assert_uint_le(counters().bytes, 4096 + 4096 * elapsed / 1000 + 4096 / 1000 + 1);
		ck_assert_uint_le(n, 4096);
	}
	uint64_t elapsed = now_ms() - t0;
	ck_assert_uint_ge(total, 3 * 4096);
	ck_assert_uint_ge(elapsed, 1500);
	ck_assert_uint_lt(elapsed, VDRV_WAIT_MS);
	ck_assert_uint_gt(partial, 0);	/* handed out as the bucket refilled */
	struct rng_counters c = counters();
	ck_assert_uint_eq(c.bytes, total);
	ck_assert_uint_ge(c.throttled, 1);
	ck_assert_uint_ge(c.throttled_ns, 1000000000ULL);
	ck_assert_msg(cpu_s() - cpu0 < 0.5 * (double)elapsed / 1000, "%.2f s of CPU in %llu ms",
		      cpu_s() - cpu0, (unsigned long long)elapsed);
}
END_TEST

/* a reset while the device waits on its bucket returns at once; the bucket is not refilled by
 * the reset */
START_TEST(reset_while_throttled)
{
	start("rate=1,burst=64", FEAT);
	ck_assert_uint_eq(request(&(struct vdrv_buf){ BUF, 4096, true }, 1), 64);
	vdrv__add(&d, 0, &(struct vdrv_buf){ BUF, 4096, true }, 1);
	vdrv__kick(&d, 0);
	uint64_t until = now_ms() + VDRV_WAIT_MS;
	while (!counters().throttled && now_ms() < until)
		usleep(1000);
	ck_assert_uint_eq(counters().throttled, 1);
	usleep(50000);
	uint64_t t0 = now_ms();
	vdrv__wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_lt(now_ms() - t0, 2000);	/* at once, not at its next poll (RNG_WAIT_MAX_MS) */
	ck_assert(!__atomic_load_n(&r.running, __ATOMIC_ACQUIRE));
	ck_assert_uint_eq(vdrv__used_idx(&d, 0), 1);
	ck_assert_uint_ge(counters().throttled_ns, 50000000ULL);
	/* started again: still nothing to give for a minute */
	ck_assert_int_eq(vdrv__start(&d, FEAT, 1, QSZ), 0);
	vdrv__add(&d, 0, &(struct vdrv_buf){ BUF, 64, true }, 1);
	vdrv__kick(&d, 0);
	ck_assert(!vdrv__wait_used(&d, 0, 1, 200));
	t0 = now_ms();
	vdrv__wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_lt(now_ms() - t0, 2000);	/* at once, not at its next poll (RNG_WAIT_MAX_MS) */
	ck_assert_uint_eq(counters().bytes, 64);
}
END_TEST

/* parse `spec`: -1 and a one-line message naming --rng and `word` */
static void bad(const char *spec, const char *word)
{
	struct rng_opts o;
	char err[200] = "";

	ck_assert_msg(rng__parse_opts(spec, &o, err, sizeof(err)) == -1, "'%s' accepted", spec);
	ck_assert_msg(strstr(err, "--rng") && strstr(err, word) && !strchr(err, '\n'),
		      "'%s': %s", spec, err);
}

START_TEST(rng_options)
{
	struct rng_opts o;
	char err[200];

	ck_assert_int_eq(rng__parse_opts("", &o, err, sizeof(err)), 0);
	ck_assert(o.on && !o.rate && !o.burst);
	ck_assert_int_eq(rng__parse_opts("on", &o, err, sizeof(err)), 0);
	ck_assert(o.on && !o.rate && !o.burst);
	ck_assert_int_eq(rng__parse_opts("rate=4K", &o, err, sizeof(err)), 0);
	ck_assert(o.rate == 4096 && o.burst == 4096);
	ck_assert_int_eq(rng__parse_opts("rate=1M,burst=64", &o, err, sizeof(err)), 0);
	ck_assert(o.rate == 1 << 20 && o.burst == 64);
	ck_assert_int_eq(rng__parse_opts("rate=10", &o, err, sizeof(err)), 0);
	ck_assert(o.rate == 10 && o.burst == RNG_MIN_FILL);	/* at least one request's worth */
	bad("rate=abc", "abc");
	bad("burst=64", "burst");
	bad("rate=0", "rate");
	bad("frob=1", "frob");
	bad("rate", "rate");
	bad("rate=", "rate");
	bad("rate=1G", "1G");
	bad("rate=-1", "-1");
	bad("rate=1K,burst=63", "63");
	bad("rate=18446744073709551616", "18446744073709551616");
	bad("rate=18014398509481984K", "18014398509481984K");
	/* rng__init checks options made by hand as the parser does */
	struct rng x;
	ck_assert_int_eq(rng__init(&x, &(struct rng_opts){ .on = true, .rate = 100, .burst = 10 },
				   err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--rng"));
	ck_assert_int_eq(rng__init(&x, &(struct rng_opts){ .on = true, .burst = 100 },
				   err, sizeof(err)), -1);
}
END_TEST

Suite *virtio_rng_suite(void)
{
	Suite *s = suite_create("virtio-rng");
	TCase *tc = tcase_create("mmio+rng");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, features_offered);
	tcase_add_test(tc, fills_a_buffer);
	tcase_add_test(tc, fills_a_chain);
	tcase_add_test(tc, readable_buffers_are_errors);
	tcase_add_test(tc, bad_buffer_needs_reset);
	tcase_add_test(tc, rate_limit);
	tcase_add_test(tc, reset_while_throttled);
	tcase_add_test(tc, rng_options);
	suite_add_tcase(s, tc);
	return s;
}
