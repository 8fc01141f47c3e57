/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop: the vCPU threads on KVM_RUN. */
#ifndef KVMINI_VMM_RUN_H
#define KVMINI_VMM_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct vm;

/* Starts one thread per vCPU, each on KVM_RUN until the VM stops. 0, or -1 with err (the VM is
 * then asked to stop). */
int run__start_vcpus(struct vm *vm, char *err, size_t errlen);
/* Asks the VM to stop (if nothing did yet), kicks every vCPU out of KVM_RUN and joins them. */
void run__stop_and_join(struct vm *vm);
/* Pauses the VM: every started vCPU leaves KVM_RUN (a pending I/O exit completed first)
 * and parks until run__resume; returns once all are parked. 0, or -1 with a one-line
 * reason in err (already paused, stopping, --gdb, or the vCPUs did not park in time). */
int run__pause(struct vm *vm, char *err, size_t errlen);
/* Lets a paused VM run on. 0, or -1 with err (not paused, --gdb). */
int run__resume(struct vm *vm, char *err, size_t errlen);
/* Whether the VM is paused (or being paused). */
bool run__paused(struct vm *vm);

#endif
