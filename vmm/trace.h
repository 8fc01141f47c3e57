/* SPDX-License-Identifier: Apache-2.0 */
/* --trace-exits: per-vCPU record rings filled on the exit path, drained to a file by a writer thread. */
#ifndef KVMINI_VMM_TRACE_H
#define KVMINI_VMM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/trace_opts.h"

struct trace;
struct vcpu;
struct vm;

#define TRACE_RING 16384       /* records per vCPU ring (a power of two): 640 KiB */

struct trace_counts {
	uint64_t written;
	uint64_t dropped_limit;    /* after max= was reached (or a write error) */
	uint64_t dropped_behind;   /* a vCPU's ring was full: the writer fell behind */
};

/* Creates the file (header and the device table of vm's buses, so after every device is
 * registered), starts the writer and points the vCPUs the filter selects at their rings.
 * Before the vCPUs start. 0, or -1 with a reason in err. */
int trace__open(struct trace **out, const struct trace_opts *o, struct vm *vm,
		uint64_t launch_ns, char *err, size_t errlen);
/* The same on a file trace__create_file opened before the VM existed (taken over, closed on
 * failure; -1: open o->path now). */
int trace__open_fd(struct trace **out, const struct trace_opts *o, struct vm *vm,
		   uint64_t launch_ns, int fd, char *err, size_t errlen);
/* Creates (truncates) a trace file, so an unwritable path is refused before KVM is opened.
 * The fd, or -1 with a one-line reason in err. */
int trace__create_file(const char *path, char *err, size_t errlen);
/* The exit path (v->trace set): one handled exit that began at t0 (CLOCK_MONOTONIC ns) and
 * took ns. Never blocks: a full ring or a reached limit counts a dropped record. */
void trace__record(struct vcpu *v, uint64_t t0, uint64_t ns);
/* After the vCPUs stopped: drains, finishes the header, closes, detaches the vCPUs, frees.
 * Prints one line (records written and dropped) to report if not NULL; with only_problems,
 * only if records were dropped or writing failed. Counts go to c if not NULL. 0, or -1 if
 * writing failed. NULL t is fine. */
int trace__close(struct trace *t, FILE *report, bool only_problems, struct trace_counts *c);

#endif
