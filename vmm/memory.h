/* SPDX-License-Identifier: Apache-2.0 */
/* Guest RAM: its layout around the 32-bit hole and the one checked guest-physical accessor. */
#ifndef KVMINI_VMM_MEMORY_H
#define KVMINI_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 4

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
};

#define GM_MIN_RAM  (16ULL << 20)
#define GM_MAX_RAM  (1ULL << 40)

/* Computes the region layout for `ram_size` bytes (no allocation): RAM below the hole at 0,
 * the rest above 4 GiB. Returns the number of regions. */
unsigned gm__layout(uint64_t ram_size, struct gm_region out[GM_MAX_REGIONS]);
/* Maps anonymous, MAP_NORESERVE memory for the layout. 0 or -errno. */
int gm__alloc(struct guest_mem *gm, uint64_t ram_size);
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
