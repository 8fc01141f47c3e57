/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's guest memory by virtual address: arch__translate per page, then gm__ptr. */
#include "vmm/gdb_mem.h"

#include <string.h>

#include "vmm/arch.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
int gdb_mem__translate(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	return arch__translate(v, gva, gpa);
}

/* Copies up to n bytes at gva into buf (reads) or from buf (writes); stops at the first page
 * that does not translate or is not RAM. Returns the bytes done. */
size_t gdb_mem__access(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n, bool write)
{
	size_t done = 0;

	while (done < n) {
		uint64_t a = gva + done, gpa;
		size_t chunk = PAGE - (a & (PAGE - 1));
		if (chunk > n - done)
			chunk = n - done;
		if (gdb_mem__translate(v, a, &gpa))
			break;
		uint8_t *p = gm__ptr(&v->vm->mem, gpa, chunk);
		if (!p)
			break;
		if (write)
			memcpy(p, buf + done, chunk);
		else
			memcpy(buf + done, p, chunk);
		done += chunk;
	}
	return done;
}
