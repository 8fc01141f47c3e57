/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop: the vCPU threads on KVM_RUN. */
#ifndef KVMINI_VMM_RUN_H
#define KVMINI_VMM_RUN_H

#include <stddef.h>

struct vm;

/* Starts one thread per vCPU, each on KVM_RUN until the VM stops. 0, or -1 with err (the VM is
 * then asked to stop). */
int run__start_vcpus(struct vm *vm, char *err, size_t errlen);
/* Asks the VM to stop (if nothing did yet), kicks every vCPU out of KVM_RUN and joins them. */
void run__stop_and_join(struct vm *vm);

#endif
