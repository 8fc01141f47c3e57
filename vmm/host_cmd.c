/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini host`: which /dev/kvm this is, and with --exit-cost what an exit costs and what virtio-blk makes of it. */
#include "vmm/host_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "virtio/blk.h"
#include "vmm/exit_cost.h"
#include "vmm/kvm.h"
#include "vmm/kvm_host.h"

/* --exit-cost: what one VM exit costs here (vmm/exit_cost.c); 0, or 1 with the reason */
static int print_exit_cost(const char *dev)
{
	struct kvm kvm;
	char err[300];
	long ns = -1;

	if (kvm__open(&kvm, dev, err, sizeof(err)) == 0) {
		ns = exit_cost__measure(&kvm, err, sizeof(err));
		kvm__close(&kvm);
	}
	if (ns < 0) {
		fprintf(stderr, "kvmini: error: %s\n", err);
		return 1;
	}
	long w = blk__coalesce_for(ns);
	printf("exit-cost: %ld ns (median of %d KVM_RUN round trips of the probe's exit); virtio-blk "
	       "coalesce=auto: window %ld us, kicks %s\n", ns, EXIT_COST_SAMPLES, w / 1000,
	       blk__kicks_off(w) ? "off while a large request is in flight" : "on");
	return 0;
}

int host_cmd__main(int argc, char **argv)
{
	struct kvm_host_paths p = { 0 };
	struct kvm_host h;
	bool kind_only = false, cost = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kind")) {
			kind_only = true;
		} else if (!strcmp(argv[i], "--exit-cost")) {
			cost = true;
		} else if (!strcmp(argv[i], "--kvm-device") && i + 1 < argc) {
			p.dev = argv[++i];
		} else if (!strncmp(argv[i], "--kvm-device=", 13)) {
			p.dev = argv[i] + 13;
		} else {
			fprintf(stderr, "kvmini: error: host: unexpected argument '%s' (usage: kvmini "
				"host [--kind] [--exit-cost] [--kvm-device PATH])\n", argv[i]);
			return 2;
		}
	}
	kvm__probe_host(&p, &h);
	if (kind_only)
		printf("%s\n", kvm__situation_name(h.sit));
	else
		printf("%s: %s\n", kvm__situation_name(h.sit), h.line);
	if (h.sit == KVM_SIT_NONE)
		return 1;
	return cost ? print_exit_cost(p.dev ? p.dev : "/dev/kvm") : 0;
}
