/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: virtio-mmio transport + virtio-blk end to end, with a fake driver on plain memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/lib/ck.h"
#include "tests/lib/disk_fault.h"
#include "virtio/blk.h"
#include "vmm/report.h"
#include "virtio/mmio.h"

#define MEM_SIZE  (4u << 20)
#define QSZ       16
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define DATA_GPA  0x10000
#define DISK_SIZE (1u << 20)

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_mmio t;
static struct blk_dev blk;
static char path[64];
static int irqs;
static uint16_t avail_idx, next_desc;

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

static struct blk_stats stats(void)
{
	struct blk_stats s;
	blk__stats(&blk, &s);
	return s;
}

static const char *extra_spec;	/* more --disk keys for the next open_dev (setup: none) */

static void open_dev(bool ro, const char *serial)
{
	static struct blk_opts o;	/* the device keeps pointing at its path (blk_dev.path) */
	char err[256], note[256], spec[160];

	snprintf(spec, sizeof(spec), "path=%s,engine=sync%s%s%s%s", path, ro ? ",ro=on" : "",
		 serial ? ",serial=" : "", serial ? serial : "", extra_spec);
	ck_assert_msg(blk__parse_opts(spec, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blk__init(&blk, &o, err, sizeof(err), note, sizeof(note)) == 0, "%s", err);
	ck_assert_int_eq(virtio_mmio__init(&t, &blk_dev_ops, &blk, 1, BLK_QUEUE_MAX, &gm, 0xd0000000,
					   16, (struct irq_line){ .set = count_irq }), 0);
}

static void setup(void)
{
	ram = calloc(1, MEM_SIZE);
	gm__init_flat(&gm, ram, MEM_SIZE);
	extra_spec = "";
	snprintf(path, sizeof(path), "/tmp/kvmini-blk-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	uint8_t *pat = malloc(DISK_SIZE);
	for (unsigned i = 0; i < DISK_SIZE; i++)
		pat[i] = (uint8_t)(i * 7 + (i >> 9));
	ck_assert_int_eq(write(fd, pat, DISK_SIZE), DISK_SIZE);
	free(pat);
	close(fd);
	irqs = 0;
	avail_idx = next_desc = 0;
}

static void teardown(void)
{
	virtio_mmio__destroy(&t);
	blk__free(&blk);
	unlink(path);
	free(ram);
}

/* The Linux driver's sequence (virtio_mmio.c): reset, ACK, DRIVER, features, FEATURES_OK,
 * queue 0, DRIVER_OK. */
static void driver_init(uint64_t features)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), 2);
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), BLK_QUEUE_MAX);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

#define BASE_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH))

static struct vring_desc *desc(unsigned i)
{
	return (struct vring_desc *)(ram + DESC_GPA) + i;
}

/* Adds a chain of (gpa, len, writable) buffers; returns its head. */
static uint16_t add_chain(unsigned n, const uint64_t *gpa, const uint32_t *len, const bool *w)
{
	uint16_t head = next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((next_desc + i) % QSZ);
		*desc(d) = (struct vring_desc){
			.addr = gpa[i], .len = len[i],
			.flags = (uint16_t)((w[i] ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((d + 1) % QSZ),
		};
	}
	next_desc = (uint16_t)((next_desc + n) % QSZ);
	struct vring_avail *a = (struct vring_avail *)(ram + AVAIL_GPA);
	a->ring[avail_idx % QSZ] = head;
	__atomic_store_n(&a->idx, ++avail_idx, __ATOMIC_RELEASE);	/* the driver's barrier */
	return head;
}

static void kick_and_wait(void)
{
	struct vring_used *u = (struct vring_used *)(ram + USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 5000 && __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != avail_idx; i++)
		usleep(1000);
	ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), avail_idx);
}

/* One request: header, optional data, status. Returns the status byte. */
static uint8_t request(uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t data_len,
		       bool data_writable)
{
	struct virtio_blk_outhdr *h = (void *)(ram + 0x8000);
	*h = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	ram[0x8100] = 0xee;
	uint64_t gpa[3] = { 0x8000, data_gpa, 0x8100 };
	uint32_t len[3] = { sizeof(*h), data_len, 1 };
	bool w[3] = { false, data_writable, true };
	if (data_len) {
		add_chain(3, gpa, len, w);
	} else {
		gpa[1] = 0x8100;
		len[1] = 1;
		w[1] = true;
		add_chain(2, gpa, len, w);
	}
	kick_and_wait();
	return ram[0x8100];
}

/* Queues a read of len bytes at sector into data_gpa, its header at hdr_gpa and its status
 * byte at hdr_gpa + 0x100, without kicking. */
static void queue_read(uint64_t sector, uint64_t data_gpa, uint32_t len, uint64_t hdr_gpa)
{
	*(struct virtio_blk_outhdr *)(ram + hdr_gpa) =
		(struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = sector };
	ram[hdr_gpa + 0x100] = 0xee;
	uint64_t gpa[3] = { hdr_gpa, data_gpa, hdr_gpa + 0x100 };
	uint32_t lens[3] = { sizeof(struct virtio_blk_outhdr), len, 1 };
	bool w[3] = { false, true, true };
	add_chain(3, gpa, lens, w);
}

static void wait_used(uint16_t idx)
{
	struct vring_used *u = (struct vring_used *)(ram + USED_GPA);
	for (int i = 0; i < 5000 && __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != idx; i++)
		usleep(1000);
	ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), idx);
}

/* waits up to 5 s for the first interrupt */
static void wait_first_irq(void)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(&irqs, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
}

static int irqs_after(int ms)
{
	usleep((useconds_t)ms * 1000);
	return __atomic_load_n(&irqs, __ATOMIC_SEQ_CST);
}

static struct disk_fault coalesce_fault;

/* The device on a disk whose reads of bytes 0..last fail at once (EIO) and whose other reads
 * stay in flight until the device stops */
static void open_faulty(uint64_t last)
{
	coalesce_fault = (struct disk_fault){ .first = 0, .last = last, .err = EIO,
					      .ops = 1u << DISK_READ, .hold = true };
	open_dev(false, NULL);
	disk_fault__attach(&blk.disk, &coalesce_fault);
}

/* 64 KiB reads of the first 128 KiB fail at once (the fault layer); the rest stay in flight
 * (hold) until the device stops: large completions with more in flight */
static void open_coalescing(long coalesce_ns)
{
	open_faulty((128u << 10) - 1);
	blk.coalesce_ns = coalesce_ns;	/* before the queue's thread starts */
	driver_init(BASE_FEATURES);
	queue_read(256, DATA_GPA + 0x40000, 512, 0x9000);	/* held: stays in flight */
	queue_read(0, DATA_GPA, 64u << 10, 0x8000);		/* fails at once */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(1);
	ck_assert_uint_eq(ram[0x8100], VIRTIO_BLK_S_IOERR);
}

/* A large request's completion, with another request in flight, waits for the next round:
 * one interrupt for both */
START_TEST(large_completions_share_an_interrupt)
{
	open_coalescing(60L * 1000000000L);	/* a minute: only the next round sends it */
	ck_assert_int_eq(irqs_after(100), 0);
	ck_assert_uint_eq(stats().coalesced, 1);
	queue_read(128, DATA_GPA + 0x20000, 64u << 10, 0xa000);	/* the next round */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(2);
	wait_first_irq();
	ck_assert_int_eq(irqs_after(100), 1);
	ck_assert_uint_eq(stats().coalesced, 1);	/* never two rounds in a row */
	ck_assert_uint_eq(stats().interrupts, 1);
	ck_assert_uint_eq(ram[0xa100], VIRTIO_BLK_S_IOERR);
	/* the held one is still in flight (its status byte is the device's to write: only the
	 * used index, published with a release store, is read here) */
	ck_assert_uint_eq(__atomic_load_n(&((struct vring_used *)(ram + USED_GPA))->idx,
					  __ATOMIC_ACQUIRE), 2);
}
END_TEST

/* ... and when no next round comes, the interrupt goes out after coalesce_ns, however
 * often the guest kicks meanwhile (every 5 ms here, with nothing new) */
START_TEST(held_back_interrupt_goes_out_in_time)
{
	open_coalescing(50L * 1000000);	/* 50 ms */
	for (int i = 0; i < 60; i++) {
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		usleep(5000);
	}
	ck_assert_int_eq(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST), 1);	/* while still kicking */
	ck_assert_int_eq(irqs_after(100), 1);
	ck_assert_uint_eq(stats().coalesced, 1);
	ck_assert_uint_eq(stats().interrupts, 1);
}
END_TEST

/* Small requests are never held back */
START_TEST(small_completions_interrupt_at_once)
{
	open_faulty(4095);
	blk.coalesce_ns = 60L * 1000000000L;
	driver_init(BASE_FEATURES);
	queue_read(256, DATA_GPA + 0x40000, 512, 0x9000);	/* held */
	queue_read(0, DATA_GPA, 4096, 0x8000);			/* fails at once */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(1);
	wait_first_irq();
	ck_assert_int_eq(irqs_after(50), 1);
	ck_assert_uint_eq(stats().coalesced, 0);
}
END_TEST

/* What the driver decides after adding its next request (virtio_ring.c's virtqueue_kick_prepare):
 * whether the device asks for a kick, by avail_event (EVENT_IDX) or by the used ring's flags */
static bool driver_would_kick(bool event_idx)
{
	const struct vring_used *u = (const struct vring_used *)(ram + USED_GPA);

	if (event_idx) {
		uint16_t avail_event = __atomic_load_n((const uint16_t *)&u->ring[QSZ], __ATOMIC_ACQUIRE);
		return vring_need_event(avail_event, (uint16_t)(avail_idx + 1), avail_idx);
	}
	return !(__atomic_load_n(&u->flags, __ATOMIC_ACQUIRE) & VRING_USED_F_NO_NOTIFY);
}

/* Kicks the queue and waits until the device has submitted n batches in all, and 10 ms more
 * (time to re-arm or not re-arm the kick) */
static void kick_until_batches(unsigned n)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 5000 && stats().batches < n; i++)
		usleep(1000);
	usleep(10000);
}

/* While a large request is in flight the device asks for no kick and still finds what the
 * driver adds, within coalesce_ns (20 ms here): no kick is ever written for the second one */
static void kicks_off_while_large(bool event_idx)
{
	open_faulty(4095);
	blk.coalesce_ns = 20L * 1000000;
	driver_init(BASE_FEATURES | (event_idx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0));
	ck_assert(driver_would_kick(event_idx));
	queue_read(256, DATA_GPA + 0x40000, 64u << 10, 0x9000);	/* held: large, in flight */
	kick_until_batches(1);
	ck_assert_msg(!driver_would_kick(event_idx), "a large request is in flight, yet the "
		      "device asks for kicks");
	queue_read(0, DATA_GPA, 4096, 0x8000);	/* fails at once; no kick */
	wait_used(1);
	ck_assert_uint_eq(ram[0x8100], VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(stats().kicks, 1);
	ck_assert_uint_ge(stats().unkicked, 1);
}

START_TEST(kicks_stay_off_while_large_in_flight)
{
	kicks_off_while_large(false);
}
END_TEST

START_TEST(kicks_stay_off_while_large_in_flight_event_idx)
{
	kicks_off_while_large(true);
}
END_TEST

/* Small requests in flight leave kicks on; a large one that completes turns them on again */
START_TEST(kicks_on_with_nothing_large_in_flight)
{
	open_faulty((64u << 10) - 1);
	blk.coalesce_ns = 60L * 1000000000L;	/* a minute: no look without a kick in time */
	driver_init(BASE_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	queue_read(0, DATA_GPA, 64u << 10, 0x8000);	/* large, fails at once */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(1);
	for (int i = 0; i < 5000 && !driver_would_kick(true); i++)
		usleep(1000);
	ck_assert_msg(driver_would_kick(true), "nothing in flight, yet no kick asked for");
	queue_read(256, DATA_GPA + 0x40000, 512, 0x9000);	/* held: small, in flight */
	kick_until_batches(2);
	ck_assert_msg(driver_would_kick(true), "only a small request in flight, yet no kick "
		      "asked for");
	queue_read(0, DATA_GPA, 4096, 0xa000);	/* fails at once, once kicked */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(2);
	ck_assert_uint_eq(stats().kicks, 3);
}
END_TEST

/* coalesce=auto: 16 exits' worth of waiting, at most 500 us; kicks off from 200 us up (an
 * exit of 12.5 us); an unmeasured exit cost counts as hardware's 2 us */
START_TEST(coalesce_window_follows_exit_cost)
{
	static const struct { long exit_ns, window_ns; } w[] = {
		{ -1, 32000 }, { 0, 32000 }, { 1500, 24000 }, { 7700, 123200 },
		{ 12500, 200000 }, { 31250, 500000 }, { 40000, 500000 }, { 100000000, 500000 },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		ck_assert_int_eq(blk__coalesce_for(w[i].exit_ns), w[i].window_ns);
	ck_assert_int_lt(blk__coalesce_for(1500), BLK_KICKS_OFF_MIN_NS);
	ck_assert_int_ge(blk__coalesce_for(40000), BLK_KICKS_OFF_MIN_NS);
	open_dev(false, NULL);
	ck_assert(blk.coalesce_auto);
	ck_assert_int_eq(blk.coalesce_ns, 32000);	/* before the measurement: hardware's */
	blk__set_exit_cost(&blk, 40000);
	ck_assert_int_eq(blk.coalesce_ns, 500000);
}
END_TEST

START_TEST(coalesce_given_ignores_exit_cost)
{
	extra_spec = ",coalesce=250";
	open_dev(false, NULL);
	blk__set_exit_cost(&blk, 1500);
	ck_assert_int_eq(blk.coalesce_ns, 250000);	/* the user's window stays */
}
END_TEST

/* Where exits are cheap (hardware: 1.5 us) the default keeps kicks on with a large request in
 * flight, so a 4 KiB request beside a 1 MiB stream is served on its kick, not a window later */
START_TEST(kicks_stay_on_where_exits_are_cheap)
{
	open_faulty(4095);
	blk__set_exit_cost(&blk, 1500);
	driver_init(BASE_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	queue_read(256, DATA_GPA + 0x40000, 64u << 10, 0x9000);	/* held: large, in flight */
	kick_until_batches(1);
	ck_assert_msg(driver_would_kick(true), "exits cost 1.5 us, yet the device asks for no "
		      "kicks while a large request is in flight");
	queue_read(0, DATA_GPA, 4096, 0x8000);	/* fails at once, once kicked */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(1);
	ck_assert_uint_eq(stats().kicks, 2);
	ck_assert_uint_eq(stats().unkicked, 0);
}
END_TEST

/* coalesce=US: the window for both; 0 turns holding interrupts and kicks-off mode off */
START_TEST(coalesce_option)
{
	static const struct { const char *spec; long us; } ok[] = {
		{ "path=/x", -1 }, { "path=/x,coalesce=auto", -1 }, { "path=/x,coalesce=0", 0 }, { "path=/x,coalesce=250", 250 },
		{ "path=/x,coalesce=100000", 100000 },
	};
	static const char *bad[] = { "path=/x,coalesce=", "path=/x,coalesce=-1",
				     "path=/x,coalesce=100001", "path=/x,coalesce=5ms",
				     "path=/x,coalesce=99999999999999999999" };
	struct blk_opts o;
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(blk__parse_opts(ok[i].spec, &o, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(o.coalesce_us, ok[i].us);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(blk__parse_opts(bad[i], &o, err, sizeof(err)) == -1, "%s", bad[i]);
		ck_assert_msg(strstr(err, "coalesce must be auto, or 0 (off) to 100000 microseconds"), "%s", err);
	}
}
END_TEST

START_TEST(coalesce_zero_keeps_kicks_and_interrupts)
{
	extra_spec = ",coalesce=0";
	open_faulty((64u << 10) - 1);
	ck_assert_int_eq(blk.coalesce_ns, 0);
	driver_init(BASE_FEATURES | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	queue_read(256, DATA_GPA + 0x40000, 64u << 10, 0x9000);	/* held: large, in flight */
	queue_read(0, DATA_GPA, 64u << 10, 0x8000);		/* large, fails at once */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_used(1);
	wait_first_irq();
	ck_assert_int_eq(irqs_after(20), 1);	/* not held for the next round */
	ck_assert_uint_eq(stats().coalesced, 0);
	ck_assert_msg(driver_would_kick(true), "coalesce=0, yet no kick asked for");
}
END_TEST

START_TEST(registers_and_config)
{
	open_dev(false, "kvmini-test-1");
	driver_init(BASE_FEATURES);
	uint64_t cap;
	virtio_mmio_ops.read(&t, VIRTIO_MMIO_CONFIG, &cap, 8);
	ck_assert_uint_eq(cap, DISK_SIZE / 512);
	uint32_t blk_size;
	virtio_mmio_ops.read(&t, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config, blk_size),
			     &blk_size, 4);
	ck_assert_uint_eq(blk_size, 512);
	/* config reads past the end are refused, not a crash */
	uint32_t v = 0x12345678;
	virtio_mmio_ops.read(&t, VIRTIO_MMIO_CONFIG + sizeof(struct virtio_blk_config) - 2, &v, 4);
	ck_assert_uint_eq(v, 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & 1);	/* VERSION_1 is bit 32 */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), 0x4b564d49);
}
END_TEST

START_TEST(legacy_driver_refused)
{
	open_dev(false, NULL);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_FLUSH);	/* no VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	ck_assert_uint_gt(t.protocol_errors, 0);
}
END_TEST

START_TEST(read_write_roundtrip)
{
	open_dev(false, NULL);
	driver_init(BASE_FEATURES);
	/* read sectors 8..15 and compare with the file's pattern */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 8, DATA_GPA, 4096, true), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4096; i++) {
		unsigned o = 8 * 512 + i;
		ck_assert_uint_eq(ram[DATA_GPA + i], (uint8_t)(o * 7 + (o >> 9)));
	}
	struct vring_used *u = (void *)(ram + USED_GPA);
	ck_assert_uint_eq(u->ring[0].len, 4096 + 1);
	/* write a new pattern at sector 100, read it back through the device and the file */
	for (unsigned i = 0; i < 8192; i++)
		ram[DATA_GPA + 0x10000 + i] = (uint8_t)(0xa5 ^ i);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 100, DATA_GPA + 0x10000, 8192, false),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
	memset(ram + DATA_GPA, 0, 8192);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 100, DATA_GPA, 8192, true), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(ram + DATA_GPA, ram + DATA_GPA + 0x10000, 8192);
	uint8_t back[8192];
	int fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, back, 8192, 100 * 512), 8192);
	close(fd);
	ck_assert_mem_eq(back, ram + DATA_GPA + 0x10000, 8192);
	ck_assert_uint_eq(stats().reads, 2);
	ck_assert_uint_eq(stats().writes, 1);
	ck_assert_uint_eq(stats().flushes, 1);
	ck_assert_int_gt(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST), 0);
	ck_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

/* a paused VM's disk (blk__hold): a request kicked while held is not taken and nothing is
 * in flight; after the hold it is answered without another kick */
START_TEST(hold_takes_no_request_until_released)
{
	struct vring_used *u = (void *)(ram + USED_GPA);

	open_dev(false, NULL);
	driver_init(BASE_FEATURES);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 8, DATA_GPA, 4096, true), VIRTIO_BLK_S_OK);
	blk__hold(&blk, true);
	ck_assert(blk__quiet(&blk));
	queue_read(16, DATA_GPA, 4096, 0x9000);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	usleep(200000);		/* the queue's thread had the kick: it took nothing */
	ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
	ck_assert(blk__quiet(&blk));
	ck_assert_uint_eq(stats().reads, 1);
	blk__hold(&blk, false);
	wait_used(2);
	ck_assert_uint_eq(ram[0x9100], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().reads, 2);
	ck_assert(blk__quiet(&blk));
}
END_TEST

static char *queues_report(bool json)
{
	char *buf = NULL;
	size_t len = 0;
	struct blk_queue_snap q[VIRTIO_MAX_QUEUES];
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	report__queues(f, q, blk__snapshot_queues(&blk, q, VIRTIO_MAX_QUEUES), json);
	fclose(f);
	return buf;
}

/* The queue state SIGUSR1 prints: inactive, then idle after requests, then one request the
 * guest made available but never kicked (what a lost kick looks like) */
START_TEST(queue_state_report)
{
	char *r, want[256];

	open_dev(false, NULL);
	r = queues_report(false);
	ck_assert_msg(strstr(r, ", queue 0: not active (0 kicks, 0 interrupts so far)"), "%s", r);
	free(r);
	driver_init(BASE_FEATURES | (1ULL << VIRTIO_RING_F_EVENT_IDX));
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, i, DATA_GPA, 512, true), VIRTIO_BLK_S_OK);
	r = queues_report(true);
	snprintf(want, sizeof(want), "[{\"disk\":\"%s\",\"queue\":0,\"active\":true,\"size\":%u,"
		 "\"avail_idx\":3,\"taken\":3,\"used_idx\":3,\"waiting\":0,\"in_flight\":0,"
		 "\"event_idx\":true,", path, QSZ);
	ck_assert_msg(!strncmp(r, want, strlen(want)), "%s\nwanted %s", r, want);
	ck_assert_msg(strstr(r, "\"kicks\":3,\"unkicked\":0,\"interrupts\":"), "%s", r);
	ck_assert_msg(strstr(r, "\"batches\":3,\"reads\":3,\"read_bytes\":1536,\"writes\":0,"
			     "\"write_bytes\":0}]\n"), "%s", r);
	free(r);
	uint64_t gpa[3] = { 0x8000, DATA_GPA, 0x8100 };
	uint32_t len[3] = { 16, 512, 1 };
	bool w[3] = { false, true, true };
	*(struct virtio_blk_outhdr *)(ram + 0x8000) = (struct virtio_blk_outhdr){ .type = 0 };
	add_chain(3, gpa, len, w);	/* no kick */
	r = queues_report(false);
	ck_assert_msg(strstr(r, "queue 0: 1 waiting in the ring, 0 in flight in kvmini (avail 4, "
			     "taken 3, used 3; interrupt past used "), "%s", r);
	ck_assert_msg(strstr(r, " batches; 3 reads (1 KiB), 0 writes (0 KiB)\n"), "%s", r);
	free(r);
}
END_TEST

START_TEST(bad_requests_get_status)
{
	open_dev(false, "serial-xyz");
	driver_init(BASE_FEATURES);
	/* past the end, straddling the end, not a sector multiple, unknown type */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_SIZE / 512, DATA_GPA, 512, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, DATA_GPA, 1024, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 100, false), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, UINT64_MAX / 256, DATA_GPA, 512, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(77, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	/* a read whose data buffer is device-readable is malformed */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, false), VIRTIO_BLK_S_IOERR);
	/* GET_ID */
	memset(ram + DATA_GPA, 0xff, 32);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20, true), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(ram + DATA_GPA, "serial-xyz\0\0\0\0\0\0\0\0\0\0", 20);
	ck_assert_uint_eq(stats().bad_requests, 5);
	ck_assert_uint_eq(stats().unsupported, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

/* A read of n data segments of seg bytes each at DATA_GPA (sector 0), through an indirect
 * table at 0x20000; returns its status byte. */
static uint8_t indirect_read(unsigned n, uint32_t seg)
{
	struct vring_desc *t = (struct vring_desc *)(ram + 0x20000);
	struct virtio_blk_outhdr *h = (void *)(ram + 0x8000);

	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = 0 };
	ram[0x8100] = 0xee;
	t[0] = (struct vring_desc){ 0x8000, sizeof(*h), VRING_DESC_F_NEXT, 1 };
	for (unsigned i = 0; i < n; i++)
		t[1 + i] = (struct vring_desc){ DATA_GPA, seg, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
						(uint16_t)(2 + i) };
	t[1 + n] = (struct vring_desc){ 0x8100, 1, VRING_DESC_F_WRITE, 0 };
	uint64_t gpa[1] = { 0x20000 };
	uint32_t len[1] = { (n + 2) * sizeof(*t) };
	bool w[1] = { false };
	uint16_t head = add_chain(1, gpa, len, w);
	desc(head)->flags = VRING_DESC_F_INDIRECT;
	kick_and_wait();
	return ram[0x8100];
}

/* What the device advertises it enforces: size_max (1 MiB per segment) and seg_max (254 data
 * segments); a request beyond either gets IOERR and counts as bad, and the device goes on. */
START_TEST(advertised_limits_enforced)
{
	ck_assert_int_eq(truncate(path, 8u << 20), 0);
	open_dev(false, NULL);
	driver_init(BASE_FEATURES | (1ULL << VIRTIO_RING_F_INDIRECT_DESC));
	struct virtio_blk_config c;
	for (unsigned i = 0; i < sizeof(c); i += 4)
		*(uint32_t *)((uint8_t *)&c + i) = rd(VIRTIO_MMIO_CONFIG + i);
	ck_assert_uint_eq(c.size_max, BLK_SIZE_MAX);
	ck_assert_uint_eq(c.seg_max, BLK_SEG_MAX);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, BLK_SIZE_MAX, true), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, 2 * BLK_SIZE_MAX, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, DATA_GPA, BLK_SIZE_MAX + 512, false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(indirect_read(BLK_SEG_MAX, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(indirect_read(BLK_SEG_MAX + 1, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(indirect_read(2, BLK_SIZE_MAX), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().bad_requests, 3);
	ck_assert_uint_eq(stats().reads, 3);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* FLUSH and durability, seen from the backing (a recording wrapper between the device and its
 * engine): every write the guest saw complete before it sent a FLUSH was done by the backing
 * before the flush reached it, the flush itself did reach it (fdatasync), and the guest saw
 * the FLUSH complete only after the backing finished it. A device that answered FLUSH at once,
 * or acknowledged writes before the backing had them, fails here. Both engines. */
START_TEST(flush_follows_completed_writes)
{
	static struct disk_fault_event log[64];
	static struct disk_fault rec;

	for (unsigned e = 0; e < 2; e++) {
		rec = (struct disk_fault){ .log = log, .log_max = 64 };
		extra_spec = e ? ",engine=io_uring" : "";
		memset(ram + DESC_GPA, 0, 0x3000);	/* fresh rings for the second device */
		avail_idx = next_desc = 0;
		open_dev(false, NULL);
		ck_assert_int_eq(blk.disk.engine, e ? DISK_ENGINE_IO_URING : DISK_ENGINE_SYNC);
		disk_fault__attach(&blk.disk, &rec);
		driver_init(BASE_FEATURES);
		memset(ram + DATA_GPA, 0x5c, 8192);
		ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 8, DATA_GPA, 4096, false), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 64, DATA_GPA, 8192, false), VIRTIO_BLK_S_OK);
		uint64_t writes_seen = mono_ns();	/* the guest has both completions */
		ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
		uint64_t flush_seen = mono_ns();
		wr(VIRTIO_MMIO_STATUS, 0);	/* the queue thread is gone: the log is ours */
		unsigned nw = 0, nf = 0;
		uint64_t w_done = 0, f_sub = 0, f_done = 0;
		for (unsigned i = 0; i < rec.nlog; i++) {
			if (log[i].op == DISK_WRITE) {
				nw++;
				ck_assert_uint_gt(log[i].done_ns, 0);
				w_done = log[i].done_ns > w_done ? log[i].done_ns : w_done;
			} else if (log[i].op == DISK_FLUSH) {
				nf++;
				f_sub = log[i].submit_ns;
				f_done = log[i].done_ns;
			}
		}
		ck_assert_uint_eq(nw, 2);
		ck_assert_msg(nf == 1, "engine %u: %u flushes reached the backing", e, nf);
		ck_assert_msg(w_done <= writes_seen, "engine %u: a write was acknowledged before the "
			      "backing had it", e);
		ck_assert_msg(w_done <= f_sub, "engine %u: the flush reached the backing before the "
			      "writes it covers were done", e);
		ck_assert_msg(f_done > 0 && f_done <= flush_seen, "engine %u: the guest saw the FLUSH "
			      "complete before the backing finished it", e);
		virtio_mmio__destroy(&t);
		blk__free(&blk);
	}
	open_dev(false, NULL);	/* for the teardown */
}
END_TEST

START_TEST(readonly_disk_refuses_writes)
{
	open_dev(true, NULL);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	driver_init(BASE_FEATURES | (1ULL << VIRTIO_BLK_F_RO));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, false), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, true), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(broken_chain_needs_reset_then_recovers)
{
	open_dev(false, NULL);
	driver_init(BASE_FEATURES);
	/* a descriptor pointing outside guest RAM */
	uint64_t gpa[3] = { 0x8000, MEM_SIZE - 100, 0x8100 };
	uint32_t len[3] = { 16, 512, 1 };
	bool w[3] = { false, true, true };
	*(struct virtio_blk_outhdr *)(ram + 0x8000) = (struct virtio_blk_outhdr){ .type = 0 };
	add_chain(3, gpa, len, w);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 2000 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		usleep(1000);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* the driver resets and starts over: the device works again */
	memset(ram + DESC_GPA, 0, 0x3000);
	avail_idx = next_desc = 0;
	driver_init(BASE_FEATURES);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, true), VIRTIO_BLK_S_OK);
}
END_TEST

/* Data buffers may overlap the rings (the device does not forbid it: docs/reliability.md).
 * A read that lands on the driver's own descriptor table and available ring only hurts the
 * driver: the device keeps its own copies of the ring indices, checks every descriptor as it
 * reads it, and so either serves what it finds or asks for a reset; it never touches memory
 * outside RAM (ASan in sanitize-unit) and works again after the reset. */
START_TEST(data_over_the_rings_hurts_only_the_driver)
{
	open_dev(false, NULL);
	driver_init(BASE_FEATURES);
	/* 8 KiB of the disk's pattern over the descriptor table (0x1000) and avail ring (0x2000) */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DESC_GPA, 8192, true), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ram[DESC_GPA + 5], (uint8_t)(5 * 7));	/* it really landed there */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);	/* the device looks at a garbage avail->idx */
	for (int i = 0; i < 500 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		usleep(1000);
	struct blk_stats st = stats();
	ck_assert_msg((rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) || st.reads >= 1,
		      "neither served nor refused");
	/* the driver resets (the device lets go of the rings) and starts over: it works again */
	wr(VIRTIO_MMIO_STATUS, 0);
	memset(ram + DESC_GPA, 0, 0x3000);
	avail_idx = next_desc = 0;
	driver_init(BASE_FEATURES);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, true), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ram[DATA_GPA + 5], (uint8_t)(5 * 7));
}
END_TEST

START_TEST(bad_queue_setup)
{
	open_dev(false, NULL);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 3);			/* not a power of two */
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	wr(VIRTIO_MMIO_STATUS, 0);			/* reset clears it */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	/* rings outside RAM */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, 11);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0xfffff000);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* nonsense: unaligned access, QueueSel past the end, writes to read-only registers */
	uint16_t h = 1;
	virtio_mmio_ops.write(&t, VIRTIO_MMIO_STATUS, &h, 2);
	wr(VIRTIO_MMIO_QUEUE_SEL, 5);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(VIRTIO_MMIO_MAGIC_VALUE, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 9);
	ck_assert_uint_ge(t.protocol_errors, 5);
}
END_TEST

START_TEST(kick_before_driver_ok_is_served_after)
{
	open_dev(false, NULL);
	/* set up everything but DRIVER_OK, queue a request and kick */
	wr(VIRTIO_MMIO_STATUS, 3);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, 11);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	*(struct virtio_blk_outhdr *)(ram + 0x8000) = (struct virtio_blk_outhdr){ .type = 0 };
	uint64_t gpa[3] = { 0x8000, DATA_GPA, 0x8100 };
	uint32_t len[3] = { 16, 512, 1 };
	bool w[3] = { false, true, true };
	add_chain(3, gpa, len, w);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	usleep(20000);
	struct vring_used *u = (void *)(ram + USED_GPA);
	ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 0);	/* none before DRIVER_OK */
	wr(VIRTIO_MMIO_STATUS, 15);
	for (int i = 0; i < 2000 && __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != 1; i++)
		usleep(1000);
	ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 1);
}
END_TEST

/* A device whose I/O thread fails at once (here: inside activate itself) asks for a reset
 * before the DRIVER_OK write has finished: NEEDS_RESET must survive that write. (Found by
 * tests/fuzz/fuzz_blk: a chain without a status byte queued before DRIVER_OK.) */
static uint64_t stub_features(void *priv)
{
	(void)priv;
	return 1ULL << VIRTIO_F_VERSION_1;
}

static int stub_activate_fails_at_once(void *priv, struct virtio_dev *vdev)
{
	(void)priv;
	vdev->t_ops->needs_reset(vdev->transport, "stub device: broken while starting");
	return 0;
}

static void stub_reset(void *priv)
{
	(void)priv;
}

static const struct virtio_dev_ops stub_ops = {
	.name = "stub", .device_id = 2, .features = stub_features,
	.activate = stub_activate_fails_at_once, .reset = stub_reset,
};

START_TEST(needs_reset_during_activate_survives_driver_ok)
{
	ram = calloc(1, MEM_SIZE);
	gm__init_flat(&gm, ram, MEM_SIZE);
	irqs = 0;
	ck_assert_int_eq(virtio_mmio__init(&t, &stub_ops, NULL, 1, QSZ, &gm, 0xd0000000, 16,
					   (struct irq_line){ .set = count_irq }), 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, 11);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, 15);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 15 | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_gt(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST), 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	virtio_mmio__destroy(&t);
	free(ram);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *tc = tcase_create("mmio+blk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, registers_and_config);
	tcase_add_test(tc, large_completions_share_an_interrupt);
	tcase_add_test(tc, held_back_interrupt_goes_out_in_time);
	tcase_add_test(tc, small_completions_interrupt_at_once);
	tcase_add_test(tc, kicks_stay_off_while_large_in_flight);
	tcase_add_test(tc, kicks_stay_off_while_large_in_flight_event_idx);
	tcase_add_test(tc, kicks_on_with_nothing_large_in_flight);
	tcase_add_test(tc, coalesce_option);
	tcase_add_test(tc, coalesce_window_follows_exit_cost);
	tcase_add_test(tc, coalesce_given_ignores_exit_cost);
	tcase_add_test(tc, kicks_stay_on_where_exits_are_cheap);
	tcase_add_test(tc, coalesce_zero_keeps_kicks_and_interrupts);
	tcase_add_test(tc, legacy_driver_refused);
	tcase_add_test(tc, read_write_roundtrip);
	tcase_add_test(tc, hold_takes_no_request_until_released);
	tcase_add_test(tc, queue_state_report);
	tcase_add_test(tc, bad_requests_get_status);
	tcase_add_test(tc, advertised_limits_enforced);
	tcase_add_test(tc, flush_follows_completed_writes);
	tcase_add_test(tc, readonly_disk_refuses_writes);
	tcase_add_test(tc, broken_chain_needs_reset_then_recovers);
	tcase_add_test(tc, data_over_the_rings_hurts_only_the_driver);
	tcase_add_test(tc, bad_queue_setup);
	tcase_add_test(tc, kick_before_driver_ok_is_served_after);
	suite_add_tcase(s, tc);
	TCase *core = tcase_create("core");
	tcase_add_test(core, needs_reset_during_activate_survives_driver_ok);
	suite_add_tcase(s, core);
	return s;
}
