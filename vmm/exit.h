/* SPDX-License-Identifier: Apache-2.0 */
/* VM-exit dispatch: from a KVM_RUN return to the bus and device that handles it. */
#ifndef KVMINI_VMM_EXIT_H
#define KVMINI_VMM_EXIT_H

#include "vmm/vcpu.h"    /* struct vcpu, enum exit_action */

/* Handles run->exit_reason of a vCPU that just left KVM_RUN. */
enum exit_action exit__handle(struct vcpu *v);

#endif
