/* SPDX-License-Identifier: Apache-2.0 */
/* x86's cycle counter for the last-exits ring (the TSC) and its KVM_IRQ_LINE numbering (the GSI). */
#include <x86intrin.h>

#include "vmm/arch.h"

uint64_t arch__cycles(void)
{
	return __rdtsc();
}

uint32_t arch__irq_line(unsigned gsi)
{
	return gsi;
}
