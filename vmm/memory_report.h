/* SPDX-License-Identifier: Apache-2.0 */
/* Where a VM's memory is, in four places: the host kernel (KVM), guest RAM on the host, the guest's own view, the host page cache of each disk. */
#ifndef KVMINI_VMM_MEMORY_REPORT_H
#define KVMINI_VMM_MEMORY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "vmm/limits.h"

struct balloon;
struct blk_dev;
struct vm;

/* KVM's mappings of guest memory by page size (x86's pages_4k, pages_2m, pages_1g stats) */
enum { MEM_KVM_4K, MEM_KVM_2M, MEM_KVM_1G, MEM_KVM_SIZES };

struct mem_report_disk {
	const char *path;
	uint64_t size;
	uint64_t page_cache;    /* bytes of the backing in the host page cache */
	int err;                /* 0, or -errno: page_cache unknown */
	bool direct;            /* cache=none (O_DIRECT): kvmini's I/O bypasses that cache */
};

struct mem_report {
	/* guest RAM on the host */
	bool ram_known;
	const char *pages;              /* "thp", "4k" or "hugetlb" */
	uint64_t ram_size, ram_resident, ram_huge;
	/* kvmini itself: resident memory outside guest RAM */
	uint64_t vmm_resident;
	/* the host kernel: guest memory KVM maps, by page size, and the page-table pages that
	 * takes at the least (a 4-level table: one table page per 512 entries per level) */
	bool kvm_known;
	uint64_t kvm_pages[MEM_KVM_SIZES];
	uint64_t kvm_tables_min;
	unsigned ndisks;
	struct mem_report_disk disk[MAX_DISKS];
	/* the guest's own view, from the balloon's statistics (--balloon) */
	bool balloon;
	uint64_t balloon_target, balloon_actual;   /* bytes */
	uint64_t balloon_inflated, balloon_deflated, balloon_dropped;   /* 4 KiB pages */
	uint64_t balloon_reported;                  /* bytes */
	bool guest_known;                           /* statistics came at least once */
	uint64_t guest_age_ms;                      /* how old they are */
	uint32_t guest_have;                        /* bit t: tag t came */
	uint64_t guest[16];                         /* by virtio-balloon tag (bytes or counts) */
};

/* Takes the report now (reads /proc/self/smaps, KVM's VM stats, mincore over each disk; with
 * a balloon (NULL: none) its state and statistics, fresh ones first when refresh): not for a
 * vCPU thread. 0, or -1 when not even guest RAM could be read. */
int mem_report__take(struct mem_report *r, const struct vm *vm, const struct blk_dev *blk,
		     unsigned ndisks, struct balloon *balloon, bool refresh);
/* The page-table pages a TDP/stage-2 table needs at the least for these mappings, in bytes. */
uint64_t mem_report__tables_min(const uint64_t pages[MEM_KVM_SIZES]);
/* The guest's memory neither free nor page cache (anonymous, kernel, ...), from its statistics. */
uint64_t mem_report__guest_other(const struct mem_report *r);
/* As JSON (docs/api.md, vm.memory) or text lines. */
json_object *mem_report__json(const struct mem_report *r);
void mem_report__text(FILE *f, const struct mem_report *r);

#endif
