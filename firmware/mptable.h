/* SPDX-License-Identifier: Apache-2.0 */
/* The Intel MultiProcessor table (spec 1.4): CPUs and interrupt routing for guests with acpi=off. */
#ifndef KVMINI_FIRMWARE_MPTABLE_H
#define KVMINI_FIRMWARE_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the floating pointer and the configuration table (one processor entry per vCPU, the
 * ISA bus, the IOAPIC, ISA IRQ n -> IOAPIC pin n, LINT0 ExtINT, LINT1 NMI) into buf, which the
 * guest sees at base_gpa. Returns bytes used, -EINVAL (ncpus 0 or > 255), or -ENOSPC. */
long mptable__build(unsigned ncpus, uint32_t lapic_addr, uint32_t ioapic_addr,
		    void *buf, size_t buflen, uint64_t base_gpa);

#endif
