/* SPDX-License-Identifier: Apache-2.0 */
/* x86 CPU state for entry: identity page tables, boot GDT, long-mode and real-mode registers. */
#ifndef KVMINI_VMM_X86_CPU_H
#define KVMINI_VMM_X86_CPU_H

#include <stdint.h>
#include <linux/kvm.h>

#include "vmm/memory.h"

#define X86_BOOT_CS 0x10   /* Linux boot protocol: __BOOT_CS */
#define X86_BOOT_DS 0x18   /* __BOOT_DS */

/* Writes the GDT and page tables identity-mapping 0..4 GiB (2 MiB pages) into guest RAM. */
int x86__write_boot_tables(const struct guest_mem *gm);
/* Fills sregs for 64-bit mode with the boot GDT, paging on, CR3 = the tables above. */
void x86__longmode_sregs(struct kvm_sregs *sregs);
/* Fills sregs for flat real mode (CS base 0). */
void x86__realmode_sregs(struct kvm_sregs *sregs);

/* Rewrites a KVM_GET_SUPPORTED_CPUID copy for vCPU `id` of `ncpus`: APIC IDs in leaves 1, 0xB,
 * 0x1F, 0x8000001E; core counts in leaves 1, 4, 0xB, 0x80000008; the hypervisor bit. */
void x86__cpuid_patch(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus);

#endif
