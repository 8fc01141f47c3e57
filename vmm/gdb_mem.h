/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's view of guest memory: by virtual address, through a vCPU's page tables. */
#ifndef KVMINI_VMM_GDB_MEM_H
#define KVMINI_VMM_GDB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* KVM_TRANSLATE of gva on v: 0 and *gpa, or -1 if it does not translate. */
int gdb_mem__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa);
/* Copies up to n bytes at gva into buf (reads) or from buf (writes); stops at the first page
 * that does not translate or is not RAM. Returns the bytes done. */
size_t gdb_mem__access(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n, bool write);

#endif
