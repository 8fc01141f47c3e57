/* SPDX-License-Identifier: Apache-2.0 */
/* The guest physical address map and I/O port assignments: one place for every fixed address. */
#ifndef KVMINI_FIRMWARE_X86_LAYOUT_H
#define KVMINI_FIRMWARE_X86_LAYOUT_H

#include <stdint.h>

/* ---- low memory, below 1 MiB ---- */
#define LAYOUT_GDT          0x00000500ULL  /* boot GDT (4 entries) */
#define LAYOUT_ZERO_PAGE    0x00007000ULL  /* struct boot_params */
#define LAYOUT_PML4         0x00009000ULL  /* identity page tables: PML4, PDPT, 4 PDs */
#define LAYOUT_PDPT         0x0000a000ULL
#define LAYOUT_PD           0x0000b000ULL  /* 4 pages: 0xb000..0xefff map 0..4 GiB with 2 MiB pages */
#define LAYOUT_CMDLINE      0x00020000ULL
#define LAYOUT_CMDLINE_MAX  0x00010000ULL
#define LAYOUT_EBDA         0x0009fc00ULL  /* end of usable low RAM */
#define LAYOUT_ACPI         0x000e0000ULL  /* ACPI tables: 0xe0000..0xeffff (reserved in e820) */
#define LAYOUT_ACPI_SIZE    0x00010000ULL
#define LAYOUT_MPTABLE      0x000f0000ULL  /* MP table (for acpi=off): 0xf0000..0xfffff, where
                                               Linux scans for the floating pointer */
#define LAYOUT_MPTABLE_SIZE 0x00010000ULL
#define LAYOUT_HIMEM        0x00100000ULL  /* 1 MiB: start of high RAM */

/* ---- the 32-bit hole: RAM above 3 GiB is moved above 4 GiB ---- */
#define LAYOUT_MMIO_HOLE    0xc0000000ULL
#define LAYOUT_MMIO_HOLE_END 0x100000000ULL
#define LAYOUT_PCI_MMIO     0xc0000000ULL  /* PCI BAR window (32-bit, in the root bridge _CRS) */
#define LAYOUT_PCI_MMIO_SIZE 0x10000000ULL /* 256 MiB, up to the virtio-mmio windows */
#define LAYOUT_VIRTIO_MMIO  0xd0000000ULL  /* virtio-mmio windows, 4 KiB each */
#define LAYOUT_VIRTIO_MMIO_SIZE 0x1000ULL
#define LAYOUT_PCI_ECAM     0xe0000000ULL  /* PCIe ECAM for bus 0 (MCFG; reserved in e820) */
#define LAYOUT_PCI_ECAM_SIZE 0x100000ULL
#define LAYOUT_IOAPIC       0xfec00000ULL
#define LAYOUT_LAPIC        0xfee00000ULL
#define LAYOUT_TSS          0xfffbd000ULL  /* KVM_SET_TSS_ADDR: 3 pages */
#define LAYOUT_IDENTITY_MAP 0xfffbc000ULL  /* KVM_SET_IDENTITY_MAP_ADDR: 1 page */

/* ---- I/O ports ---- */
#define PORT_COM1           0x3f8
#define IRQ_COM1            4
#define IRQ_KBD             1              /* the i8042's keyboard (ISA IRQ 1, edge) */
#define IRQ_GED             15             /* the ACPI GED: power button (edge; a free ISA IRQ) */
#define PORT_I8042_DATA     0x60
#define PORT_I8042_CMD      0x64
#define PORT_PVPANIC        0x505          /* QEMU's pvpanic convention (ACPI id QEMU0001) */
#define PORT_ACPI_SLEEP_CTL 0x600          /* FADT SLEEP_CONTROL_REG */
#define PORT_ACPI_SLEEP_STS 0x601          /* FADT SLEEP_STATUS_REG */
#define PORT_TEST_EXIT      0xf4           /* isa-debug-exit convention: test payloads only */
#define PORT_BOOT_TIMER     0x440          /* guest writes here when it is up: kvmini logs the time */
#define PORT_PCI_CF8        0xcf8          /* PCI configuration mechanism #1: 0xcf8..0xcff */
#define PORT_PCI_IO_WINDOW  0x1000         /* root bridge I/O window 0x1000..0xffff (no I/O BARs yet) */

/* PCI INTx (for drivers that do not enable MSI-X), wired like an ICH chipset's PIRQ lines:
 * slot S's pin P (0 = INTA .. 3 = INTD) goes to IOAPIC pin 16 + (S + P) % 8 (level, active-low;
 * the DSDT's _PRT and the MP table say so) and, for a guest in 8259 PIC mode (no APIC: e.g. a
 * kernel without MP-table support booted with acpi=off), to ISA IRQ 10 or 11, which the
 * function's Interrupt Line register names */
#define LAYOUT_PCI_INTX_GSI_BASE 16u
static inline uint32_t layout__pci_intx_gsi(unsigned slot, unsigned pin)
{
	return LAYOUT_PCI_INTX_GSI_BASE + (slot + pin) % 8;
}
static inline uint32_t layout__pci_intx_pic_irq(unsigned slot, unsigned pin)
{
	return 10 + (slot + pin) % 2;
}

/* ACPI S5 sleep type written by the guest on poweroff: SLP_TYP=5 in bits 2..4, SLP_EN bit 5 */
#define ACPI_S5_SLP_TYP     5

#endif
