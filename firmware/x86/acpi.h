/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI tables for a hardware-reduced platform: RSDP, XSDT, FADT, MADT, MCFG, DSDT (built in a buffer). */
#ifndef KVMINI_FIRMWARE_X86_ACPI_H
#define KVMINI_FIRMWARE_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_VIRTIO_MMIO 32

struct acpi_virtio_mmio {
	uint64_t base, size;   /* the device's MMIO window */
	uint32_t irq;          /* GSI, level-triggered active-high */
};

/* A PCI root bridge on segment 0, buses 0..bus_end, with ECAM (MCFG) and a 32-bit BAR window. */
struct acpi_pci {
	uint64_t ecam_base;             /* 0: no PCI at all */
	uint8_t bus_end;
	uint32_t mmio_base, mmio_size;
	uint16_t io_base, io_size;      /* I/O window handed to the bus */
	uint16_t cf8_port;              /* configuration mechanism #1 ports (8 bytes) */
	unsigned intx_slots;            /* _PRT: slots 1..intx_slots, INTA-D (layout__pci_intx_gsi) */
};

struct acpi_config {
	unsigned ncpus;                 /* one MADT local APIC (APIC ID = index) per vCPU */
	uint32_t lapic_addr, ioapic_addr;
	uint16_t sleep_ctl_port, sleep_sts_port;   /* FADT sleep control/status (I/O) */
	uint16_t reset_port; uint8_t reset_value;  /* FADT reset register (I/O) */
	uint16_t com1_port; uint8_t com1_irq;      /* DSDT PNP0501; port 0 = none */
	uint16_t pvpanic_port;                     /* DSDT QEMU0001; 0 = none */
	/* DSDT PNP0303 (an i8042 with a keyboard) and FADT's 8042 flag; data port 0 = none */
	uint16_t kbd_data_port, kbd_cmd_port; uint8_t kbd_irq;
	/* DSDT ACPI0013, a Generic Event Device on an edge-triggered GSI whose event is the
	 * power button (PNP0C0C, Notify 0x80); 0 = none */
	uint32_t ged_gsi;
	unsigned n_virtio_mmio;
	struct acpi_virtio_mmio virtio_mmio[ACPI_MAX_VIRTIO_MMIO];  /* DSDT LNRO0005 each */
	struct acpi_pci pci;            /* DSDT PCI0 + MCFG when pci.ecam_base != 0 */
};

/*
 * Writes every table into `buf`, which the guest will see at `base_gpa`, and stores the
 * RSDP's guest address in *rsdp_gpa. Returns the number of bytes used, or -ENOSPC / -EINVAL.
 * Pure: no KVM, no I/O, so unit tests and `kvmini dump-acpi` call it on a plain buffer.
 */
long acpi__build(const struct acpi_config *cfg, void *buf, size_t buflen,
		 uint64_t base_gpa, uint64_t *rsdp_gpa);

/* Sum of bytes mod 256; a valid table sums to 0. */
uint8_t acpi__checksum(const void *p, size_t len);

#endif
