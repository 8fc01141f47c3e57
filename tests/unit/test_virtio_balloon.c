/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: virtio-balloon over virtio-mmio with a fake driver: features, target and config change, inflate, deflate, statistics, free page reporting, bad pages. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/lib/ck.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"

#define MEM_SIZE (8u << 20)
#define QSZ      8
#define RINGS    0x1000     /* queue q's rings at RINGS + q * 0x1000: desc, avail, used */
#define BUFS     0x10000    /* driver buffers */
#define NQ       4

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_mmio t;
static struct balloon b;
static int irqs;
static uint16_t avail_idx[NQ], next_desc[NQ];

static void count_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	(void)gsi;
	if (level)
		__atomic_add_fetch(&irqs, 1, __ATOMIC_SEQ_CST);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(&t, off, &v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(&t, off, &v, 4);
}

static uint64_t desc_gpa(unsigned q) { return RINGS + q * 0x3000; }
static uint64_t avail_gpa(unsigned q) { return desc_gpa(q) + 0x1000; }
static uint64_t used_gpa(unsigned q) { return desc_gpa(q) + 0x2000; }

static void setup(void)
{
	struct balloon_opts o;
	char err[200];

	ram = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(ram != MAP_FAILED);
	gm__init_flat(&gm, ram, MEM_SIZE);
	ck_assert_int_eq(balloon__parse_opts("size=1M", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(balloon__init(&b, &o, &gm, err, sizeof(err)), 0);
	ck_assert_uint_eq(balloon__num_queues(&b), NQ);
	ck_assert_int_eq(virtio_mmio__init(&t, &balloon_dev_ops, &b, NQ, BALLOON_QUEUE_MAX, &gm,
					   0xd0000000, 16, (struct irq_line){ .set = count_irq }), 0);
	irqs = 0;
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(next_desc, 0, sizeof(next_desc));
}

static void teardown(void)
{
	virtio_mmio__destroy(&t);
	balloon__free(&b);
	munmap(ram, MEM_SIZE);
}

static void queue_init(unsigned q)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), BALLOON_QUEUE_MAX);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc_gpa(q));
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail_gpa(q));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used_gpa(q));
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Linux's virtio_balloon with every feature kvmini offers: inflate, deflate, stats, reporting */
static void driver_init(void)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BALLOON_F_STATS_VQ) |
		     (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | (1ULL << VIRTIO_BALLOON_F_REPORTING);

	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), 5);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (uint32_t)f, (uint32_t)f);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BALLOON_F_MUST_TELL_HOST), 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < NQ; q++)
		queue_init(q);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

/* one buffer on queue q, device-readable or (writable) device-writable */
static void add_buf_w(unsigned q, uint64_t gpa, uint32_t len, bool writable)
{
	struct vring_desc *d = (struct vring_desc *)(ram + desc_gpa(q)) + next_desc[q];
	struct vring_avail *a = (struct vring_avail *)(ram + avail_gpa(q));

	*d = (struct vring_desc){ .addr = gpa, .len = len,
				  .flags = writable ? VRING_DESC_F_WRITE : 0 };
	a->ring[avail_idx[q] % QSZ] = next_desc[q];
	next_desc[q] = (uint16_t)((next_desc[q] + 1) % QSZ);
	__atomic_store_n(&a->idx, ++avail_idx[q], __ATOMIC_RELEASE);
}

static void add_buf(unsigned q, uint64_t gpa, uint32_t len)
{
	add_buf_w(q, gpa, len, false);
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n(&((struct vring_used *)(ram + used_gpa(q)))->idx, __ATOMIC_ACQUIRE);
}

/* kicks queue q and waits until the device has used `want` buffers there */
static void kick_until(unsigned q, uint16_t want)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	for (int i = 0; i < 5000 && used_idx(q) != want; i++)
		usleep(1000);
	ck_assert_uint_eq(used_idx(q), want);
}

static void counters(struct balloon_counters *c, uint64_t *target, uint64_t *actual)
{
	balloon__state(&b, target, actual, c);
}

START_TEST(target_and_config_change)
{
	char err[160];
	uint64_t target, actual;
	struct balloon_counters c;

	driver_init();
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0), 256);	/* size=1M: 256 pages */
	uint32_t gen = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	ck_assert_int_eq(balloon__set_target(&b, 2 << 20, MEM_SIZE, err, sizeof(err)), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0), 512);
	ck_assert_uint_ne(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	ck_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_ge(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST), 1);
	wr(VIRTIO_MMIO_CONFIG + 4, 512);	/* the driver says it holds them */
	counters(&c, &target, &actual);
	ck_assert_uint_eq(target, 2 << 20);
	ck_assert_uint_eq(actual, 2 << 20);
	/* out of range or not whole pages: refused, nothing changed */
	ck_assert_int_eq(balloon__set_target(&b, MEM_SIZE + 4096, MEM_SIZE, err, sizeof(err)), -1);
	ck_assert_int_eq(balloon__set_target(&b, 100, MEM_SIZE, err, sizeof(err)), -1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0), 512);
	/* the device's fields are not the driver's to write */
	wr(VIRTIO_MMIO_CONFIG + 0, 7);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0), 512);
	counters(&c, &target, &actual);
	ck_assert_uint_eq(c.errors, 1);
}
END_TEST

START_TEST(inflate_gives_pages_back_deflate_counts)
{
	uint64_t target, actual;
	struct balloon_counters c;
	uint32_t *pfns = (uint32_t *)(ram + BUFS);

	driver_init();
	memset(ram + 0x100000, 0xaa, 2 * 4096);
	pfns[0] = 0x100;
	pfns[1] = 0x101;
	pfns[2] = MEM_SIZE / 4096 + 5;	/* outside guest RAM: an error, no harm */
	add_buf(0, BUFS, 12);
	kick_until(0, 1);
	ck_assert_uint_eq(ram[0x100000], 0);	/* the host dropped it: zero on the next touch */
	ck_assert_uint_eq(ram[0x101fff], 0);
	counters(&c, &target, &actual);
	ck_assert_uint_eq(c.inflated, 3);
	ck_assert_uint_eq(c.inflate_dropped, 2);
	ck_assert_uint_eq(c.errors, 1);
	add_buf(1, BUFS, 8);	/* deflate the two */
	kick_until(1, 1);
	counters(&c, &target, &actual);
	ck_assert_uint_eq(c.deflated, 2);
	ck_assert_int_ge(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST), 2);
}
END_TEST

/* the statistics: kept by the device until it wants fresh ones, then refilled by the driver */
START_TEST(statistics_on_request)
{
	struct balloon_stats s;
	uint8_t *st = ram + BUFS;

	driver_init();
	balloon__stats(&b, &s, true);	/* nothing yet: nothing to ask for */
	ck_assert_uint_eq(s.updated_ns, 0);
	uint16_t tag = VIRTIO_BALLOON_S_MEMTOT;
	uint64_t v = 64 << 20;
	memcpy(st, &tag, 2);
	memcpy(st + 2, &v, 8);
	tag = VIRTIO_BALLOON_S_MEMFREE;
	v = 40 << 20;
	memcpy(st + 10, &tag, 2);
	memcpy(st + 12, &v, 8);
	tag = 300;	/* a tag this device does not know: skipped */
	memcpy(st + 20, &tag, 2);
	add_buf(2, BUFS, 30);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	for (int i = 0; i < 2000 && !s.updated_ns; i++) {
		usleep(1000);
		balloon__stats(&b, &s, false);
	}
	ck_assert_uint_eq(s.v[VIRTIO_BALLOON_S_MEMTOT], 64 << 20);
	ck_assert_uint_eq(s.v[VIRTIO_BALLOON_S_MEMFREE], 40 << 20);
	ck_assert_uint_eq(s.have, (1u << VIRTIO_BALLOON_S_MEMTOT) | (1u << VIRTIO_BALLOON_S_MEMFREE));
	ck_assert_uint_eq(used_idx(2), 0);	/* held */
	/* a refresh gives the buffer back (the driver here does not answer: the old figures) */
	balloon__stats(&b, &s, true);
	ck_assert_uint_eq(used_idx(2), 1);
	ck_assert_uint_eq(s.updates, 1);
	v = 30 << 20;
	memcpy(st + 12, &v, 8);
	add_buf(2, BUFS, 20);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	for (int i = 0; i < 2000 && s.updates < 2; i++) {
		usleep(1000);
		balloon__stats(&b, &s, false);
	}
	ck_assert_uint_eq(s.v[VIRTIO_BALLOON_S_MEMFREE], 30 << 20);
	/* a second buffer while the device holds one: the older goes back, a driver error */
	add_buf(2, BUFS, 20);
	kick_until(2, 2);
	uint64_t target, actual;
	struct balloon_counters c;
	balloon__state(&b, &target, &actual, &c);
	ck_assert_uint_eq(c.errors, 1);
	ck_assert_str_eq(balloon__stat_name(VIRTIO_BALLOON_S_CACHES), "disk_caches");
	ck_assert_ptr_null(balloon__stat_name(99));
}
END_TEST

START_TEST(free_page_reporting)
{
	uint64_t target, actual;
	struct balloon_counters c;

	driver_init();
	memset(ram + 0x200000, 0x55, 0x200000);
	add_buf_w(3, 0x200000, 0x200000, true);	/* as Linux adds them: device-writable */
	kick_until(3, 1);
	ck_assert_uint_eq(ram[0x200000], 0);
	ck_assert_uint_eq(ram[0x3fffff], 0);
	ck_assert_uint_eq(ram[0x400000], 0);	/* (never written) */
	counters(&c, &target, &actual);
	ck_assert_uint_eq(c.reported_bytes, 0x200000);
	/* a range past guest RAM breaks the queue: the device asks for a reset */
	add_buf(3, MEM_SIZE - 4096, 0x200000);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 3);
	for (int i = 0; i < 2000 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		usleep(1000);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	wr(VIRTIO_MMIO_STATUS, 0);	/* and the reset stops the device's thread */
	ck_assert(!__atomic_load_n(&b.running, __ATOMIC_ACQUIRE));
}
END_TEST

START_TEST(options)
{
	struct balloon_opts o;
	char err[200];

	ck_assert_int_eq(balloon__parse_opts("", &o, err, sizeof(err)), 0);
	ck_assert(o.on && o.stats && o.deflate_on_oom && o.free_page_reporting);
	ck_assert_uint_eq(o.size, 0);
	ck_assert_int_eq(balloon__parse_opts("size=64M,stats=off,free_page_reporting=off", &o, err,
					     sizeof(err)), 0);
	ck_assert(!o.stats && !o.free_page_reporting && o.deflate_on_oom);
	ck_assert_uint_eq(o.size, 64 << 20);
	ck_assert_int_eq(balloon__parse_opts("size=1x", &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad value '1x' for size"));
	ck_assert_int_eq(balloon__parse_opts("frob=on", &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown key 'frob'"));
	ck_assert_int_eq(balloon__parse_opts("stats", &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not key=value"));
}
END_TEST

Suite *virtio_balloon_suite(void)
{
	Suite *s = suite_create("virtio-balloon");
	TCase *tc = tcase_create("mmio+balloon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, target_and_config_change);
	tcase_add_test(tc, inflate_gives_pages_back_deflate_counts);
	tcase_add_test(tc, statistics_on_request);
	tcase_add_test(tc, free_page_reporting);
	tcase_add_test(tc, options);
	suite_add_tcase(s, tc);
	return s;
}
