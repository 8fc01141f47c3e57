/* SPDX-License-Identifier: Apache-2.0 */
/* One reporting path: what kvmini reports of a running VM, from snapshot structs, as text or JSON (json-c). */
#ifndef KVMINI_VMM_REPORT_H
#define KVMINI_VMM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct blk_queue_snap;
struct mem_report;
struct stats_snapshot;

/* How the host backs guest RAM (memory_usage.c's numbers, in bytes). */
struct report_memory {
	const char *pages;              /* "thp", "4k" or "hugetlb" */
	uint64_t size, resident, huge;
};

/* What follows the exit statistics in the board's report: guest RAM (when it could be read)
 * and every disk queue. */
struct net_dev;
struct vsock_hy;

struct report_board {
	bool memory_known;
	struct report_memory memory;
	const struct mem_report *places;  /* where the VM's memory is (NULL: not taken) */
	const struct blk_queue_snap *queues;
	unsigned nqueues;
	const struct net_dev *const *nets;  /* the network cards (vmm/net_report.h) */
	unsigned nnets;
	struct vsock_hy *vsock_hy;          /* hybrid vsock, or NULL */
};

/* The exit statistics of a snapshot (each vCPU, then the total), then the board (NULL: none):
 * text lines, or one JSON object on one line ({"vcpus":[...],"total":{...},"memory":{...},
 * "disks":[...],"nets":[...],"vsock":{...}}; docs/debugging.md has the fields). */
void report__exit_stats(FILE *f, const struct stats_snapshot *s, bool json,
			const struct report_board *board);
/* Disk queues alone: a text line each, or one JSON array. */
void report__queues(FILE *f, const struct blk_queue_snap *q, unsigned n, bool json);

#endif
