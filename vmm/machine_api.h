/* SPDX-License-Identifier: Apache-2.0 */
/* The API's backend: what the endpoints read and do, over one running VM (vmm/api_routes.h). */
#ifndef KVMINI_VMM_MACHINE_API_H
#define KVMINI_VMM_MACHINE_API_H

#include <stdbool.h>
#include <stdio.h>

#include "vmm/api_routes.h"

struct balloon;
struct net_dev;
struct rng;
struct vsock_dev;
struct vsock_hy;
struct blk_dev;
struct run_config;
struct vm;

struct machine_api {
	struct vm *vm;
	const struct run_config *cfg;  /* the command line; NULL: vm.info from the VM alone */
	struct blk_dev *blk;           /* the disks (vm.counters, vm.info's device_tree; held
					* while paused) */
	unsigned ndisks;
	/* --exit-stats: the statistics as JSON to f (machine.c); NULL: vm.exit-stats is 409 */
	void (*exit_stats)(void *ctx, FILE *f);
	void *exit_stats_ctx;
	/* vm.power-button (machine.c: the board's button): 0, or -1 with err (409) */
	int (*power_button)(void *ctx, char *err, size_t errlen);
	/* vm.reboot (machine.c: the board's reboot key): 0, or -1 with err (409) */
	int (*reboot_key)(void *ctx, char *err, size_t errlen);
	void *power_ctx;               /* for both */
	struct balloon *balloon;       /* --balloon (vm.resize, vm.memory's guest view), or NULL */
	const struct net_dev *net;     /* --net cards (vm.info, vm.counters) */
	unsigned nnets;
	struct rng *rng;               /* --rng, or NULL */
	const struct vsock_dev *vsock; /* --vsock on vhost-vsock, or NULL */
	struct vsock_hy *vsock_hy;     /* --vsock socket= (hybrid), or NULL */
};

/* The callbacks over *a (which must outlive the API thread). */
void machine_api__backend(struct machine_api *a, struct api_backend *b);

#endif
