/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the virtio-mmio register file (virtio/mmio.c) with a virtio-blk device behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "devices/bus.h"
#include "tests/fuzz/fuzz_disk.h"
#include "tests/fuzz/fuzz_input.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

/*
 * Input: u16 image length + that many bytes copied to guest RAM at gpa 0 (rings, requests),
 * then accesses until the input ends, each through the MMIO bus as a vCPU exit would:
 *   op byte: bit 7 write; bit 6 raw offset (u16, any width, may miss the window), else
 *   bits 0..5 pick a register (32-bit access); then the value for a write.
 * Accesses at the window's edge and past it go through bus__access, so the bus's own range
 * check is part of the target. The device (2 queues) starts its I/O threads on DRIVER_OK;
 * every input ends with virtio_mmio__destroy, which resets it.
 */
#define RAM_SIZE (64u << 10)
#define BASE     0xd0000000ull

static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_VENDOR_ID,
	VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_QUEUE_NUM_MAX,
	VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_QUEUE_NOTIFY,
	VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
	VIRTIO_MMIO_QUEUE_AVAIL_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
	VIRTIO_MMIO_SHM_SEL, VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_LEN_HIGH,
	VIRTIO_MMIO_SHM_BASE_LOW, VIRTIO_MMIO_SHM_BASE_HIGH, VIRTIO_MMIO_CONFIG_GENERATION,
	VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_CONFIG + 4, VIRTIO_MMIO_CONFIG + 8, VIRTIO_MMIO_CONFIG + 0x3c,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static struct blk_dev blk;
static struct virtio_mmio t;
static uint8_t *ram;
static struct guest_mem gm;
static struct bus bus;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz__blk_open(&blk, "queues=2", 1u << 20);
	ram = fuzz__ram(&gm, RAM_SIZE);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };

	memset(ram, 0, RAM_SIZE);
	fin__take(&in, ram, fin__u16(&in));
	if (virtio_mmio__init(&t, &blk_dev_ops, &blk, blk.nq, BLK_QUEUE_MAX, &gm, BASE, 5,
			      (struct irq_line){ .set = fuzz__no_irq }))
		abort();
	bus__init(&bus, "mmio");
	if (bus__register(&bus, BASE, VIRTIO_MMIO_WINDOW, &virtio_mmio_ops, &t))
		abort();

	for (unsigned ops = 0; in.n && ops < 1024; ops++) {
		uint8_t op = fin__u8(&in);
		bool write = op & 0x80;
		uint64_t off;
		uint32_t len = 4;
		uint64_t v = 0;

		if (op & 0x40) {
			off = fin__u16(&in);
			len = fin__width(&in);
		} else {
			off = regs[(op & 0x3f) % NREGS];
		}
		if (write)
			v = fin__uint(&in, len);
		bool hit = bus__access(&bus, BASE + off, write, &v, len);
		FUZZ_CHECK(hit == (off + len <= VIRTIO_MMIO_WINDOW));
		if (write && off == VIRTIO_MMIO_STATUS && len == 4 && v == 0) {
			uint32_t s = 1;
			bus__access(&bus, BASE + VIRTIO_MMIO_STATUS, false, &s, 4);
			FUZZ_CHECK(s == 0);	/* a reset is complete when the write returns */
		}
	}
	virtio_mmio__destroy(&t);
	bus__free(&bus);
	return 0;
}
