/* SPDX-License-Identifier: Apache-2.0 */
/* The board: one VM with its platform devices wired to buses and IRQs, booted and run. */
#ifndef KVMINI_VMM_MACHINE_H
#define KVMINI_VMM_MACHINE_H

#include "vmm/boot.h"
#include "vmm/cli.h"
#include "vmm/console.h"
#include "vmm/kvm.h"
#include "vmm/vm.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "virtio/vsock_hy.h"
#include "devices/pci.h"
#include "vmm/irq_routes.h"
#include "vmm/machine_api.h"

struct api;
struct board;
struct gdb;
struct serial;
struct trace;

struct machine {
	struct kvm kvm;
	struct vm vm;
	struct console console;
	struct serial *uart;
	struct board *board;        /* the architecture's devices and description (vmm/ARCH/board.c) */
	const char *dump_dtb;       /* --dump-dtb FILE, NULL when not asked for */
	unsigned ndisks;
	struct blk_dev blk[MAX_DISKS];
	/* virtio slot i: its transport (vmmio[i] or vpci[i]); the disks first, then the balloon,
	 * the network cards and the rng, each on the next slot (nvirtio in use) */
	unsigned nvirtio;
	struct virtio_mmio vmmio[MAX_VIRTIO];
	enum virtio_transport transport;
	bool pci_on;                /* the PCI host, its ports/windows and irq routes are set up */
	struct pci_host pci;
	struct irq_routes routes;
	struct virtio_pci vpci[MAX_VIRTIO];
	bool balloon_on;            /* --balloon */
	struct balloon balloon;
	unsigned nnets;             /* --net: opened before KVM (their taps) */
	struct net_dev net[MAX_NETS];
	bool rng_on;                /* --rng */
	struct rng rng;
	bool vsock_on;              /* --vsock: opened before KVM (its CID claimed) */
	struct vsock_dev vsock;
	bool vsock_hy_on;           /* --vsock socket=: hybrid (its socket listens from setup) */
	struct vsock_hy vsock_hy;
	char *extra_cmdline;       /* virtio_mmio.device=... when asked for (malloc'd) */
	enum exit_stats_mode exit_stats;
	const char *exit_stats_path;
	struct trace *trace;       /* --trace-exits, NULL when off */
	struct api *api;           /* --api-socket, NULL when off */
	struct machine_api api_ctx; /* what its requests act on */
	/* opened before KVM (machine__create checks the user's inputs first), handed over later */
	struct boot_image *boot;   /* kernel, initrd, command line; loaded by machine__boot */
	struct guest_mem ram;      /* guest RAM until vm__create_on takes it */
	struct gdb *gdb;           /* the listening stub until it is attached to the VM */
	int trace_fd;              /* the trace file until the trace takes it */
};

/* Checks and opens every input the user named (console, kernel, initrd, command line, disks,
 * gdb address, API socket, trace file, guest RAM) before it opens KVM, then creates the VM and its
 * devices. m is zeroed memory (calloc: pages the run does not touch stay the kernel's).
 * 0, or -1 with a reason (exit status in *status: 2 for the user's input). */
int machine__create(struct machine *m, const struct run_config *cfg, int *status,
		    char *err, size_t errlen);
/* Loads the kernel machine__create checked into the VM and sets the boot vCPU going. */
int machine__boot(struct machine *m, char *err, size_t errlen);
/* Registers the platform devices on the buses: the board's (also used by the direct-KVM
 * tests). */
int machine__add_devices(struct machine *m, char *err, size_t errlen);
/* Opens every --disk's backing (no VM needed). 0, or -1 with a reason (*status 2). */
int machine__open_disks(struct machine *m, const struct run_config *cfg, int *status,
			char *err, size_t errlen);
/* Puts each open disk on its own virtio-mmio window and GSI, described in the DSDT, or
 * (--virtio-transport pci) on its own virtio-pci function behind the root bridge. */
int machine__attach_disks(struct machine *m, const struct run_config *cfg, char *err,
			  size_t errlen);
/* machine__open_disks and machine__attach_disks in one (bad disks: *status 2). */
int machine__add_disks(struct machine *m, const struct run_config *cfg, int *status,
		       char *err, size_t errlen);
/* Runs the vCPUs and the console until the VM stops; returns the exit status. */
int machine__run(struct machine *m, const struct run_config *cfg);
void machine__destroy(struct machine *m);
/* --exit-stats: the stats so far to stderr, or (json:PATH) atomically replacing PATH. */
void machine__print_exit_stats(void *machine);

#endif
