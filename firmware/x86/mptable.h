/* SPDX-License-Identifier: Apache-2.0 */
/* The Intel MultiProcessor table (spec 1.4): CPUs and interrupt routing for guests with acpi=off. */
#ifndef KVMINI_FIRMWARE_X86_MPTABLE_H
#define KVMINI_FIRMWARE_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the floating pointer and the configuration table (one processor entry per vCPU, the
 * ISA bus, the IOAPIC, ISA IRQ n -> IOAPIC pin n, LINT0 ExtINT, LINT1 NMI) into buf, which the
 * guest sees at base_gpa. With pci_slots > 0 also PCI bus 0 (bus ID 0; ISA becomes bus 1) and
 * the INTA..INTD of slots 1..pci_slots -> IOAPIC pin layout__pci_intx_gsi(), level, active-low.
 * Returns bytes used, -EINVAL (ncpus 0 or > 255, pci_slots > 31), or -ENOSPC. */
long mptable__build(unsigned ncpus, unsigned pci_slots, uint32_t lapic_addr, uint32_t ioapic_addr,
		    void *buf, size_t buflen, uint64_t base_gpa);

#endif
