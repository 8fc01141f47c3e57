/* SPDX-License-Identifier: Apache-2.0 */
/* The `kvmini run` command line: options into one config struct, sizes with K/M/G suffixes. */
#ifndef KVMINI_VMM_CLI_H
#define KVMINI_VMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vmm/console.h"
#include "vmm/limits.h"
#include "vmm/memory.h"
#include "vmm/seccomp.h"
#include "vmm/trace_opts.h"

#define KVMINI_VERSION  "0.1.0"
#define DEFAULT_MEMORY  (512ULL << 20)

enum virtio_transport { VIRTIO_TRANSPORT_MMIO, VIRTIO_TRANSPORT_PCI };
enum exit_stats_mode { EXIT_STATS_OFF, EXIT_STATS_TEXT, EXIT_STATS_JSON };

struct run_config {
	const char *kernel;        /* NULL: the default guest next to the binary */
	const char *initrd;
	const char *cmdline;       /* replaces board__default_cmdline() */
	const char *append;        /* added after it */
	unsigned cpus;
	uint64_t memory;
	enum gm_pages mem_pages;   /* --memory SIZE,thp=on|off,hugepages=on|off */
	enum console_mode console;
	const char *console_path;
	const char *kvm_path;
	bool quiet;                /* no informational lines, only errors */
	uint64_t launch_ns;        /* CLOCK_MONOTONIC at process start (set by main) */
	unsigned ndisks;
	struct blk_opts disks[MAX_DISKS];
	enum virtio_transport transport; /* --virtio-transport mmio|pci (default pci) */
	bool virtio_cmdline;       /* also describe virtio-mmio devices with virtio_mmio.device= */
	enum exit_stats_mode exit_stats; /* --exit-stats[=text|json|json:PATH] */
	const char *exit_stats_path;     /* json:PATH: written there, else stderr */
	bool trace;                      /* --trace-exits FILE[,filter...] */
	struct trace_opts trace_opts;
	bool strict;                     /* --strict: an access that hits no device stops the VM */
	const char *dump_dtb;            /* --dump-dtb FILE: the guest's device tree (arm64) */
	const char *gdb;           /* --gdb tcp:HOST:PORT | unix:PATH, NULL when off */
	bool gdb_wait;             /* --gdb-wait: no guest instruction before gdb resumes */
	const char *api_socket;    /* --api-socket PATH: the HTTP API (vmm/api.c), NULL when off */
	struct balloon_opts balloon;     /* --balloon SPEC (balloon.on: given) */
	unsigned nnets;
	struct net_opts nets[MAX_NETS];  /* --net SPEC */
	struct rng_opts rng;             /* --rng [SPEC] (rng.on: given) */
	struct vsock_opts vsock;         /* --vsock SPEC (vsock.on: given) */
	unsigned shutdown_timeout; /* --shutdown-timeout S: SIGTERM presses the power button and
				    * waits S seconds for the guest (0: SIGTERM stops it at once) */
	enum seccomp_setting seccomp;    /* --seccomp=off|log|on (default on) */
};

/* The virtio devices cfg asks for, in the order they take their slots: disks, the balloon,
 * the network cards, the entropy device, the vsock device. */
unsigned cli__virtio_count(const struct run_config *cfg);

/* Parses argv of `kvmini run` (argv[0] is "run"). 0 ok, 1 help printed, -1 error in err. */
int cli__parse_run(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen);
void cli__usage(FILE *f);

#endif
