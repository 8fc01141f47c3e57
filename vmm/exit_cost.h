/* SPDX-License-Identifier: Apache-2.0 */
/* What one VM exit costs on this machine, measured on a scratch VM (sets kvmini's defaults). */
#ifndef KVMINI_VMM_EXIT_COST_H
#define KVMINI_VMM_EXIT_COST_H

#include <stddef.h>

#include "vmm/kvm.h"

#define EXIT_COST_SAMPLES 63	/* timed round trips (after EXIT_COST_WARMUP untimed ones) */
#define EXIT_COST_WARMUP 16

/* Creates a VM of one vCPU and one page whose code writes an I/O port in a loop, and times
 * KVM_RUN from call to return for each of those exits: the whole round trip a device
 * access costs (entry, the exit, KVM's handling, the return to kvmini). The median in ns,
 * or -1 with a one-line reason in err; the scratch VM is gone on return either way. */
long exit_cost__measure(const struct kvm *kvm, char *err, size_t errlen);

#endif
