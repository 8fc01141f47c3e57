/* SPDX-License-Identifier: Apache-2.0 */
/* The crash report: exit name, reason, the architecture's registers, the code at the PC, the last exits. */
#include <stdio.h>

#include "vmm/arch.h"
#include "vmm/exit_names.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

size_t vcpu__read_code(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		uint64_t gpa;
		if (arch__translate(v, gva + got, &gpa))
			break;
		/* copy up to the end of this 4 KiB page, then translate again */
		size_t chunk = 4096 - ((gva + got) & 4095);
		if (chunk > n - got)
			chunk = n - got;
		const uint8_t *p = gm__ptr(&v->vm->mem, gpa, chunk);
		if (!p)
			break;
		for (size_t i = 0; i < chunk; i++)
			buf[got + i] = p[i];
		got += chunk;
	}
	return got;
}

void vcpu__dump(struct vcpu *v, const char *why)
{
	uint64_t pc;

	fprintf(stderr, "kvmini: vCPU %u: %s (%s)\n", v->id, exit__name(v->run->exit_reason), why);
	if (arch__dump_regs(stderr, v, &pc)) {
		fprintf(stderr, "  (registers unavailable)\n");
		lastexits__print(stderr, &v->last);
		return;
	}
	uint8_t code[16];
	size_t n = vcpu__read_code(v, pc, code, sizeof(code));
	fprintf(stderr, "  code at %s:", arch__pc_name());
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", code[i]);
	fprintf(stderr, n ? "\n" : " (not in guest RAM)\n");
	lastexits__print(stderr, &v->last);
}
