/* SPDX-License-Identifier: Apache-2.0 */
/* Guest RAM: its regions (the architecture's layout) and the one checked guest-physical accessor. */
#ifndef KVMINI_VMM_MEMORY_H
#define KVMINI_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 4

/* What backs guest RAM (--memory SIZE,thp=...,hugepages=...). */
enum gm_pages {
	GM_PAGES_THP,      /* default: 2 MiB-aligned, MADV_HUGEPAGE: transparent huge pages where
			    * the kernel has them (as QEMU and Cloud Hypervisor do) */
	GM_PAGES_SMALL,    /* thp=off: MADV_NOHUGEPAGE, 4 KiB pages only */
	GM_PAGES_HUGETLB,  /* hugepages=on: MAP_HUGETLB 2 MiB pages, all reserved up front */
};

struct gm_region {
	uint64_t gpa, size;
	uint8_t *host;
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	unsigned n;
	uint64_t ram_size;      /* total RAM, all regions */
	void *mapping;          /* the one host mapping (NULL for memory the caller owns) */
	size_t mapping_size;
	enum gm_pages pages;
	int smaps_fd;           /* /proc/self/smaps, for gm__usage (-1: none) */
};

#define GM_MIN_RAM  (16ULL << 20)
#define GM_MAX_RAM  (1ULL << 40)
#define GM_HUGE     (2ULL << 20)   /* the huge page size used for guest RAM */

/* How much of guest RAM the host has backed, from /proc/self/smaps. */
struct gm_usage {
	uint64_t resident;      /* bytes of guest RAM in host memory */
	uint64_t huge;          /* of which in huge pages (THP or hugetlb) */
	uint64_t process;       /* kvmini's whole resident memory, guest RAM included */
};

/* Computes the region layout for `ram_size` bytes (no allocation); the architecture's
 * (vmm/ARCH/ram_layout.c; x86: RAM below the 32-bit hole at 0, the rest above 4 GiB).
 * Returns the number of regions. */
unsigned gm__layout(uint64_t ram_size, struct gm_region out[GM_MAX_REGIONS]);
/* Maps anonymous memory for the layout: MAP_NORESERVE 4 KiB/THP pages, or hugetlb pages
 * reserved at once (-ENOMEM when the pool is short; -EINVAL if ram_size is not a multiple of
 * GM_HUGE). 0 or -errno. */
int gm__alloc(struct guest_mem *gm, uint64_t ram_size, enum gm_pages pages);
/* "thp", "4k" or "hugetlb". */
const char *gm__pages_name(enum gm_pages pages);
/* Fills u for gm's mapping. 0, or -errno (no /proc). */
int gm__usage(const struct guest_mem *gm, struct gm_usage *u);
/* The host's THP mode ("always", "madvise", "never"; "unavailable" without THP), in buf. */
const char *gm__thp_mode(char *buf, size_t len);
/* The hugetlb pool's free 2 MiB pages (/proc/meminfo HugePages_Free), or -1. */
long gm__hugetlb_free(void);
/* Describes caller-owned memory (unit tests: a plain buffer as guest memory at gpa 0). */
void gm__init_flat(struct guest_mem *gm, void *buf, uint64_t size);
void gm__free(struct guest_mem *gm);

/*
 * THE checked accessor. Every guest-controlled address goes through here: returns a host
 * pointer to [gpa, gpa+len) if the whole range lies inside one RAM region, else NULL
 * (outside RAM, straddling the hole, or overflowing). len 0 is checked as len 1.
 */
void *gm__ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Copies through gm__ptr; 0 or -EFAULT. */
int gm__read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len);
int gm__write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);
/* End of the RAM region that starts at 0 (RAM below the hole). */
uint64_t gm__low_end(const struct guest_mem *gm);

#endif
