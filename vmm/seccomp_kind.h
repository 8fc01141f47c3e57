/* SPDX-License-Identifier: Apache-2.0 */
/* The kinds of thread kvmini runs, each with its own seccomp allow-list (shared by seccomp.c and seccomp_rules.c). */
#ifndef KVMINI_VMM_SECCOMP_KIND_H
#define KVMINI_VMM_SECCOMP_KIND_H

/* The kinds of thread kvmini runs; each has its own allow-list (vmm/seccomp_rules.c). */
enum seccomp_kind {
	SECCOMP_KIND_MAIN,      /* console, signals, SIGUSR1 stats, joining, teardown */
	SECCOMP_KIND_VCPU,      /* KVM_RUN and the exit handlers */
	SECCOMP_KIND_BLK,       /* a virtio-blk queue's I/O thread */
	SECCOMP_KIND_LAUNCHER,  /* starts and stops device I/O threads for the vCPUs */
	SECCOMP_KIND_TRACE,     /* the --trace-exits writer */
	SECCOMP_KIND_GDB,       /* the --gdb stub */
	SECCOMP_KIND_API,       /* the --api-socket HTTP server */
	SECCOMP_KIND_BALLOON,   /* the virtio-balloon thread */
	SECCOMP_KIND_RNG,       /* the virtio-rng thread */
	SECCOMP_KIND_NET,       /* a virtio-net queue pair's I/O thread */
	SECCOMP_KIND_VSOCK,     /* the hybrid virtio-vsock thread */
	SECCOMP_KIND_COUNT
};

#endif
