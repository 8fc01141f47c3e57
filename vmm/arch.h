/* SPDX-License-Identifier: Apache-2.0 */
/* The calls generic code makes into the CPU architecture's files (vmm/x86/ today; the Makefile's ARCH picks them). */
#ifndef KVMINI_VMM_ARCH_H
#define KVMINI_VMM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvm;
struct kvm_run;
struct vcpu;
struct vm;

/* /dev/kvm is open at path and has the generic capabilities: the architecture's own
 * (x86: PIT2, TSS, CPUID; what it needs of them in kvm->arch). 0, or -1 with err naming
 * the missing one. arch__kvm_close frees kvm->arch (NULL: nothing). */
int arch__kvm_open(struct kvm *kvm, const char *path, char *err, size_t errlen);
void arch__kvm_close(struct kvm *kvm);

/* A VM right after KVM_CREATE_VM, before its RAM and vCPUs: its interrupt controller and
 * timers, and the addresses KVM needs of it (x86: TSS, identity map, IOAPIC + PICs, PIT).
 * 0, or -1 with a one-line reason in err. */
int arch__vm_init(struct vm *vm, char *err, size_t errlen);

/* A vCPU right after KVM_CREATE_VCPU: what the CPU says it is and its first state (x86:
 * CPUID with this vCPU's APIC ID and the VM's topology, MSRs, LAPIC LINT0/LINT1). 0, or -1
 * with err. */
int arch__vcpu_init(struct vcpu *v, char *err, size_t errlen);

/* The crash dump: a stopped vCPU's registers printed to f, and in *pc the guest-virtual
 * address of the instruction it stopped at. 0, or -1 when KVM does not give them. */
int arch__dump_regs(FILE *f, struct vcpu *v, uint64_t *pc);
/* What the dump calls that address ("rip"). */
const char *arch__pc_name(void);
/* A guest-virtual address of the vCPU, through its page tables, to guest-physical: 0, or -1
 * when it does not translate (for the dump and the gdb stub). */
int arch__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa);

/* KVM_IRQ_LINE's irq field for a level change on the in-kernel irqchip's line gsi (x86: the
 * GSI itself; arm64: an SPI, as type and INTID). */
uint32_t arch__irq_line(unsigned gsi);

/* A cheap, monotonic cycle counter for the last-exits ring's ages (x86: the TSC). */
uint64_t arch__cycles(void);

/* The exit-cost probe (vmm/exit_cost.c): a scratch VM with one page at guest address 0 that
 * holds arch__probe_code, and one vCPU that exits to userspace in a loop from there. */
const uint8_t *arch__probe_code(size_t *len);
/* After the scratch VM's KVM_CREATE_VM: NULL, or the name of the call that failed. */
const char *arch__probe_vm(int vm_fd);
/* The scratch vCPU starts at guest address 0: NULL, or the name of the call that failed. */
const char *arch__probe_vcpu(int vm_fd, int vcpu_fd);
/* Is this the exit of the probe's loop? */
bool arch__probe_exit(const struct kvm_run *run);
/* On a vCPU's own thread as it parks for a pause (vmm/run.c): tells the guest it was
 * stopped (x86: KVM_KVMCLOCK_CTRL, so a long pause is no soft lockup); nothing elsewhere. */
void arch__vcpu_paused(struct vcpu *v);
/* "x86_64", "aarch64" (the API's vmm.ping) */
const char *arch__name(void);

#endif
