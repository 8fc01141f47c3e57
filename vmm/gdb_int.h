/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's private state, shared by its files, and the calls between them. */
#ifndef KVMINI_VMM_GDB_INT_H
#define KVMINI_VMM_GDB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/gdb_arch.h"
#include "vmm/gdb_packet.h"

struct vm;

#define MAX_SWBP     64
#define NHWBP        4

struct swbp {
	uint64_t addr;       /* guest-virtual, as gdb gave it */
	uint64_t gpa;        /* where the breakpoint instruction went */
	uint8_t orig[GDB_ARCH_BP_MAX]; /* the guest's bytes under it */
	int hw_slot;         /* >= 0: placed in a debug register instead */
};

struct cpu_state {
	bool may_run;        /* false: park before the next KVM_RUN */
	bool parked;
	enum stop_event ev;
	uint64_t ev_addr;
};

struct gdb {
	struct vm *vm;
	int listen_fd, conn_fd, efd;
	char where[160];            /* the spec, for messages */
	char unix_path[108];        /* to unlink at close; empty for tcp */
	bool quiet, wait_first;
	pthread_t thread;
	bool thread_started;

	/* shared with the vCPU threads, under lock */
	pthread_mutex_t lock;
	pthread_cond_t run_cond;    /* parked vCPUs wait here */
	pthread_cond_t park_cond;   /* the stub waits here for them to park */
	int hold;                   /* atomic: some vCPU must park (the vCPUs' fast check) */
	bool resumed;               /* gdb resumed the VM: a debug exit is a stop event */
	bool shutdown;
	unsigned nparked;
	int step_cpu;               /* -1: none */
	struct cpu_state *cpu;
	struct hwbp hw[NHWBP];
	struct swbp sw[MAX_SWBP];
	unsigned nsw;

	/* the stub thread's own */
	bool sw_as_hw;              /* Z0 in debug registers (int3 exits fail on kvm_pvm) */
	uint32_t dbg_caps;          /* KVM_CAP_SET_GUEST_DEBUG2 */
	bool noack;
	int gcpu, ccpu;             /* Hg and Hc: vCPU index; ccpu -1 = all */
	char last_stop[64];
	struct gdbpkt_rx rx;
	size_t last_len;
	char out[2 * GDBPKT_MAX + 16];
	char reply[GDBPKT_MAX + 1];
};

/* What serve() does with the connection after a packet. */
enum serve_next { KEEP, DETACH, KILL, CLOSE };

/* gdb.c: sends one packet (with its framing) to gdb. 0 or -1. */
int gdb__send_str(struct gdb *g, const char *s);

/* gdb_run.c: stopping and resuming the vCPUs (the stub side) */
/* Waits until every vCPU is parked (or the VM stops). */
void gdb_run__wait_parked(struct gdb *g);
/* Holds every vCPU, kicks it out of KVM_RUN and waits until all are parked. */
void gdb_run__stop_all(struct gdb *g);
/* Lets every vCPU run, with no stop event and no step. */
void gdb_run__release_all(struct gdb *g);
/* step_cpu < 0: every vCPU runs; else only that one, for one instruction. 0 or -1. */
int gdb_run__resume(struct gdb *g, int step_cpu);

/* gdb_bp.c: breakpoints and watchpoints. Those taking the lock say so; is_ours needs it held. */
bool gdb_bp__is_ours(struct gdb *g, uint64_t addr);
/* Takes the lock. gdb sees the original bytes under our int3s, and writes there update what
 * is restored. */
void gdb_bp__shadow(struct gdb *g, uint64_t gva, uint8_t *buf, size_t n, bool write);
/* Z and z packets of TYPE 0, 1, 2 or 4; take the lock. The reply: "OK" or "Exx". */
const char *gdb_bp__insert(struct gdb *g, int type, uint64_t addr, uint64_t kind);
const char *gdb_bp__remove(struct gdb *g, int type, uint64_t addr, uint64_t kind);
/* Takes the lock: every breakpoint and watchpoint goes, the int3s restored. */
void gdb_bp__remove_all(struct gdb *g);
/* KVM_SET_GUEST_DEBUG on every vCPU (all parked): breakpoints, and the step on one. 0 or -1. */
int gdb_bp__apply(struct gdb *g, int step_cpu);

/* gdb_cmd.c: the packets */
/* Builds g->last_stop for the vCPU that stopped; sets Hg and Hc to it. */
void gdb_cmd__stop_reply(struct gdb *g, int signal);
/* Handles one packet while the VM is stopped. Sets *resume_step to -1 (continue) or a vCPU
 * (step) when the packet resumes the guest, and returns what to do with the connection. */
enum serve_next gdb_cmd__handle(struct gdb *g, const char *p, int *resume_step);

#endif
