/* SPDX-License-Identifier: Apache-2.0 */
/* The crash report: exit name, reason, the architecture's registers, the code at the PC, the last exits. */
#include "vmm/dump.h"

#include <stdio.h>

#include "vmm/arch.h"
#include "vmm/exit_names.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

void dump__vcpu(struct vcpu *v, const char *why)
{
	uint64_t pc;

	fprintf(stderr, "kvmini: vCPU %u: %s (%s)\n", v->id, exit__name(v->run->exit_reason), why);
	if (arch__dump_regs(stderr, v, &pc)) {
		fprintf(stderr, "  (registers unavailable)\n");
		lastexits__print(stderr, &v->last);
		return;
	}
	uint8_t code[16];
	size_t n = vcpu__access_virt(v, pc, code, sizeof(code), false);
	fprintf(stderr, "  code at %s:", arch__pc_name());
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", code[i]);
	fprintf(stderr, n ? "\n" : " (not in guest RAM)\n");
	lastexits__print(stderr, &v->last);
}
