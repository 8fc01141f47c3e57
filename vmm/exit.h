/* SPDX-License-Identifier: Apache-2.0 */
/* VM-exit dispatch: from a KVM_RUN return to the bus and device that handles it. */
#ifndef KVMINI_VMM_EXIT_H
#define KVMINI_VMM_EXIT_H

struct vcpu;

enum exit_action { EXIT_CONTINUE, EXIT_STOP };

/* Handles run->exit_reason of a vCPU that just left KVM_RUN. */
enum exit_action exit__handle(struct vcpu *v);
/* "KVM_EXIT_IO", "KVM_EXIT_MMIO", ...; "UNKNOWN" past the table. */
const char *exit__name(unsigned reason);

#endif
