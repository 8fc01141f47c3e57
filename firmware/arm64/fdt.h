/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 guest's flattened device tree, built with libfdt from a description of the board. */
#ifndef KVMINI_FIRMWARE_ARM64_FDT_H
#define KVMINI_FIRMWARE_ARM64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAX_VIRTIO_MMIO 16
#define FDT_MAX_SIZE        (2u << 20)      /* booting.rst: a DTB is at most 2 MiB */

struct fdt_region {
	uint64_t base, size;
};

/* Everything the tree says; every address and interrupt is the board's (arm64/layout.h). */
struct fdt_config {
	struct fdt_region ram;
	unsigned ncpus;                          /* GICv3: 1..(the GICR region's size / 128 KiB);
						    GICv2: 1..8 */
	unsigned gic_version;                    /* 3 (0 means 3) or 2 */
	struct fdt_region gicd, gicr;            /* GICv3 distributor, all redistributors */
	struct fdt_region gicc;                  /* GICv2: distributor gicd, CPU interface gicc */
	struct fdt_region its;                   /* GICv3: size 0: no ITS (then no MSI for PCI) */
	struct fdt_region v2m;                   /* GICv2: the v2m MSI frame; size 0: none */
	uint32_t v2m_spi, v2m_spis;              /* its SPIs: v2m_spis from SPI v2m_spi */
	struct fdt_region uart;                  /* 16550A */
	uint32_t uart_spi;
	struct fdt_region rtc;                   /* PL031; size 0: none */
	uint32_t rtc_spi;
	struct fdt_region gpio;                  /* PL061; size 0: none (and no power button) */
	uint32_t gpio_spi;
	unsigned power_line;                     /* its line (0-7) of the gpio-keys power button */
	unsigned restart_line;                   /* ... and of the restart key (KEY_RESTART) */
	unsigned n_virtio_mmio;
	struct { struct fdt_region r; uint32_t spi; } virtio_mmio[FDT_MAX_VIRTIO_MMIO];
	struct fdt_region pci_ecam;              /* size 0: no PCI host */
	struct fdt_region pci_mmio;              /* the 32-bit BAR window */
	unsigned pci_slots;                      /* slots 1..pci_slots get INTx lines */
	uint32_t pci_intx_spi;                   /* INTA..INTD: spi + (slot + pin) % 4 */
	const char *bootargs;                    /* NULL: none */
	struct fdt_region initrd;                /* size 0: none */
};

/* The MPIDR affinity KVM gives vCPU id (Aff0 = id % 16, Aff1 = id / 16): its cpu node's reg. */
uint32_t fdt__mpidr(unsigned id);
/* Writes the tree for c into buf (at most size bytes). Returns its length, or a negative
 * libfdt error (-FDT_ERR_NOSPACE when size is too small); fdt__strerror names it. */
int fdt__build(const struct fdt_config *c, void *buf, size_t size);
const char *fdt__strerror(int err);

#endif
