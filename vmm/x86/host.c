/* SPDX-License-Identifier: Apache-2.0 */
/* What x86's /proc/cpuinfo says of hardware virtualization (the vmx and svm flags), and its KVM modules. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/kvm_host.h"

static bool cpuinfo_has_flag(const char *path, const char *flag)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		char *save = NULL, *rest = strchr(line, ':');
		for (char *t = strtok_r(rest ? rest + 1 : line, " \t\n", &save); t;
		     t = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(t, flag))
				found = true;
	}
	fclose(f);
	return found;
}

enum kvm_host_kind arch__host_cpu(const char *cpuinfo)
{
	if (cpuinfo_has_flag(cpuinfo, "vmx"))
		return KVM_HOST_HW_VMX;
	if (cpuinfo_has_flag(cpuinfo, "svm"))
		return KVM_HOST_HW_SVM;
	return KVM_HOST_UNKNOWN;
}

const char *arch__kvm_module(enum kvm_host_kind cpu)
{
	return cpu == KVM_HOST_HW_VMX ? "kvm_intel" : "kvm_amd";
}
