/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub (--gdb): GDB remote protocol over the vCPUs, one gdb thread per vCPU. */
#ifndef KVMINI_VMM_GDB_H
#define KVMINI_VMM_GDB_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/vcpu.h"

struct gdb;
struct vcpu;
struct vm;

/* Checks a --gdb value: "tcp:HOST:PORT" (PORT 1..65535) or "unix:PATH". 0 or -1. */
int gdb__check_spec(const char *spec);
/* Binds and listens on spec for a VM of ncpus vCPUs (no KVM needed yet: a bad address is
 * refused before /dev/kvm is opened). With wait, the vCPUs stay stopped before their first
 * instruction until gdb attaches and resumes them. NULL with a one-line reason in err. */
struct gdb *gdb__listen(const char *spec, unsigned ncpus, bool wait, bool quiet, char *err,
			size_t errlen);
/* Attaches a listening stub to vm (vm->gdb, which then owns it); before the vCPU threads start. */
void gdb__attach(struct gdb *g, struct vm *vm);
/* Frees a stub that was never attached (or whose thread is gone): sockets closed and unlinked. */
void gdb__free(struct gdb *g);
/* gdb__listen and gdb__attach in one. 0, or -1 with a one-line reason in err. */
int gdb__open(struct vm *vm, const char *spec, bool wait, bool quiet, char *err, size_t errlen);
/* Starts the stub's thread (after vm__start_vcpus). 0 or -1 with a reason. */
int gdb__start(struct vm *vm, char *err, size_t errlen);
/* Stops the thread, releases the vCPUs, closes the sockets; vm->gdb becomes NULL. */
void gdb__close(struct vm *vm);

/* Called by a vCPU thread before each KVM_RUN when vm->gdb is set: parks it while gdb holds
 * the VM stopped. */
void gdb__vcpu_wait(struct vcpu *v);
/* KVM_EXIT_DEBUG: a stop event for gdb (or, with no gdb, ignored). */
enum exit_action gdb__debug_exit(struct vcpu *v);

#endif
