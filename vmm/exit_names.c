/* SPDX-License-Identifier: Apache-2.0 */
/* The names of KVM's exit reasons (KVM_EXIT_*), for the dump, the statistics, traces and their filters. */
#include "vmm/exit_names.h"

#include <linux/kvm.h>

#define NAME(x) [KVM_EXIT_##x] = "KVM_EXIT_" #x
static const char *const exit_names[] = {
	NAME(UNKNOWN), NAME(EXCEPTION), NAME(IO), NAME(HYPERCALL), NAME(DEBUG), NAME(HLT),
	NAME(MMIO), NAME(IRQ_WINDOW_OPEN), NAME(SHUTDOWN), NAME(FAIL_ENTRY), NAME(INTR),
	NAME(SET_TPR), NAME(TPR_ACCESS), NAME(S390_SIEIC), NAME(S390_RESET), NAME(DCR),
	NAME(NMI), NAME(INTERNAL_ERROR), NAME(OSI), NAME(PAPR_HCALL), NAME(S390_UCONTROL),
	NAME(WATCHDOG), NAME(S390_TSCH), NAME(EPR), NAME(SYSTEM_EVENT), NAME(S390_STSI),
	NAME(IOAPIC_EOI), NAME(HYPERV), NAME(ARM_NISV), NAME(X86_RDMSR), NAME(X86_WRMSR),
	NAME(DIRTY_RING_FULL), NAME(AP_RESET_HOLD), NAME(X86_BUS_LOCK), NAME(XEN),
	NAME(RISCV_SBI), NAME(RISCV_CSR), NAME(NOTIFY),
};

const char *exit__name(unsigned reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "UNKNOWN";
}
