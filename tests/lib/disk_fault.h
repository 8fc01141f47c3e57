/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only fault injection for a disk: requests touching chosen bytes fail with a chosen errno. */
#ifndef KVMINI_TESTS_DISK_FAULT_H
#define KVMINI_TESTS_DISK_FAULT_H

#include <stdint.h>

#include "devices/disk/disk.h"

/*
 * Not reachable from kvmini's command line: the unit and direct-KVM tests attach one to an
 * open disk to play a failing backing (bad sectors, a full file system...). Requests of the
 * kinds in `ops` (bit 1 << DISK_READ, ...) that overlap [first, last] (bytes) complete with
 * -err without reaching the disk; the others go to the disk's engine as usual. Flushes carry
 * no range: with 1 << DISK_FLUSH in ops every flush fails.
 */
/* One request as the backing saw it (disk_fault.log): when it was passed to the engine and
 * when the engine gave it back (CLOCK_MONOTONIC ns; 0 while in flight). */
struct disk_fault_event {
	enum disk_op op;
	uint64_t offset, len;
	uint64_t submit_ns, done_ns;
	const struct disk_req *req;    /* to match the completion */
};

struct disk_fault {
	uint64_t first, last;
	int err;                       /* EIO, ENOSPC, ... */
	unsigned ops;
	bool hold;                     /* the other requests wait here, in flight, until a reap
	                                * that waits (a device draining at reset or stop) sends
	                                * them to the engine: a disk that is slow on purpose.
	                                * Atomic: a test may clear it while the device runs. */
	uint64_t hits;                 /* requests failed so far (atomic) */
	struct disk_fault_event *log;  /* when set: every request passed to the engine, in order */
	unsigned log_max, nlog;
	/* private */
	struct disk_req *head, *tail;  /* failed requests waiting for disk__reap */
	unsigned waiting;
	struct disk_req *held[256];    /* hold: requests not passed on yet */
	unsigned nheld;
};

#define DISK_FAULT_RW ((1u << DISK_READ) | (1u << DISK_WRITE))

/* Puts f between d and its engine (d open, nothing in flight; f must outlive d's use).
 * Only d itself: contexts opened later with disk__open_ctx do not inherit it. */
void disk_fault__attach(struct disk *d, struct disk_fault *f);

#endif
