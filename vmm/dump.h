/* SPDX-License-Identifier: Apache-2.0 */
/* The crash report of a vCPU that stopped on an exit kvmini cannot go on from. */
#ifndef KVMINI_VMM_DUMP_H
#define KVMINI_VMM_DUMP_H

struct vcpu;

/* Prints the exit's name and why, the architecture's registers, the code bytes at the PC and
 * the vCPU's last exits to stderr. */
void dump__vcpu(struct vcpu *v, const char *why);

#endif
