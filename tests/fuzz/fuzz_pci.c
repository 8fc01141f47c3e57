/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: PCI config space (CF8/CFC, ECAM), the BAR window, virtio-pci and MSI-X registers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "firmware/x86/layout.h"
#include "tests/fuzz/fuzz_disk.h"
#include "tests/fuzz/fuzz_input.h"
#include "virtio/blk.h"
#include "virtio/pci.h"

/*
 * The board's PCI wiring without KVM: a host (bridge at 00:00.0) with a virtio-pci blk
 * function (2 queues) at 00:01.0, the CF8/CFC ports on a PIO bus, ECAM and the BAR window on
 * an MMIO bus; MSI-X messages go to a counter.
 *
 * Input: u16 image length + bytes copied to guest RAM at gpa 0, then accesses until the end:
 *   op byte: bit 7 write; bits 0..2 what:
 *     0  CF8 port I/O: port 0xcf6 + (u8 % 12), width 1/2/4
 *     1  CF8 address shortcut: 0x80000000 | devfn (u8) << 8 | reg (u16, bits 11:8 in 27:24)
 *     2  ECAM: devfn (u8, mostly 00:01.0) << 12 | reg (u16 % 4096), any width
 *     3  BAR 0 of the virtio function wherever it is now: offset u16 % 0x8000, any width
 *     4  the BAR window at a raw u32 offset, any width
 *     5..7  like 3 (the virtio structures are where the bugs would be)
 *   then the value (the access width) for a write.
 */
#define RAM_SIZE (64u << 10)

static struct blk_dev blk;
static struct virtio_pci t;
static struct pci_host host;
static uint8_t *ram;
static struct guest_mem gm;
static struct bus pio, mmio;
static uint64_t msis;

static void on_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	FUZZ_CHECK(msix__valid_addr(addr));
	(void)data;
	__atomic_add_fetch(&msis, 1, __ATOMIC_RELAXED);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz__blk_open(&blk, "queues=2", 1u << 20);
	ram = fuzz__ram(&gm, RAM_SIZE);
	return 0;
}

static uint32_t pio_width(struct fin *in)
{
	static const uint8_t w[4] = { 1, 2, 4, 4 };
	return w[fin__u8(in) & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };

	memset(ram, 0, RAM_SIZE);
	fin__take(&in, ram, fin__u16(&in));
	pci_host__init(&host, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);
	if (virtio_pci__init(&t, &blk_dev_ops, &blk, blk.nq, BLK_QUEUE_MAX, &gm))
		abort();
	t.msi_fallback = on_msi;
	if (pci_host__add(&host, &t.pci) != 1)
		abort();
	bus__init(&pio, "pio");
	bus__init(&mmio, "mmio");
	if (bus__register(&pio, PCI_CF8_PORT, PCI_CF8_LEN, &pci_cf8_ops, &host) ||
	    bus__register(&mmio, LAYOUT_PCI_ECAM, PCI_ECAM_BUS_SIZE, &pci_ecam_ops, &host) ||
	    bus__register(&mmio, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE, &pci_window_ops, &host))
		abort();

	for (unsigned ops = 0; in.n && ops < 1024; ops++) {
		uint8_t op = fin__u8(&in);
		bool write = op & 0x80;
		struct bus *b = &mmio;
		uint64_t addr, v = 0;
		uint32_t len;

		switch (op & 7) {
		case 0:
			b = &pio;
			addr = PCI_CF8_PORT - 2 + fin__u8(&in) % 12;
			len = pio_width(&in);
			break;
		case 1: {
			uint32_t devfn = fin__u8(&in), reg = fin__u16(&in) & 0xffc;
			b = &pio;
			addr = PCI_CF8_PORT;
			len = 4;
			write = true;
			v = 0x80000000u | (reg & 0xf00) << 16 | devfn << 8 | (reg & 0xfc);
			bus__access(b, addr, write, &v, len);
			continue;
		}
		case 2: {
			uint8_t d = fin__u8(&in);
			unsigned devfn = d < 0xc0 ? 1u << 3 : d < 0xe0 ? 0 : d;
			addr = LAYOUT_PCI_ECAM + ((uint64_t)devfn << 12) + fin__u16(&in) % 4096;
			len = fin__width(&in);
			break;
		}
		case 4:
			addr = LAYOUT_PCI_MMIO + fin__u32(&in) % LAYOUT_PCI_MMIO_SIZE;
			len = fin__width(&in);
			break;
		default: {
			uint64_t bar = pci_dev__bar_addr(&t.pci, 0);
			if (bar == UINT64_MAX)
				bar = LAYOUT_PCI_MMIO;
			addr = bar + fin__u16(&in) % VPCI_BAR_SIZE;
			len = fin__width(&in);
			break;
		}
		}
		if (write)
			v = fin__uint(&in, len);
		bus__access(b, addr, write, &v, len);
	}
	virtio_pci__destroy(&t);
	pci_host__destroy(&host);
	bus__free(&pio);
	bus__free(&mmio);
	return 0;
}
