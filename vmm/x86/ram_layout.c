/* SPDX-License-Identifier: Apache-2.0 */
/* x86 guest RAM regions: below the 32-bit MMIO hole from 0, the rest above 4 GiB. */
#include "vmm/memory.h"

#include "firmware/x86/layout.h"

unsigned gm__layout(uint64_t ram_size, struct gm_region out[GM_MAX_REGIONS])
{
	unsigned n = 0;
	uint64_t low = ram_size < LAYOUT_MMIO_HOLE ? ram_size : LAYOUT_MMIO_HOLE;

	out[n++] = (struct gm_region){ .gpa = 0, .size = low };
	if (ram_size > low)
		out[n++] = (struct gm_region){ .gpa = LAYOUT_MMIO_HOLE_END, .size = ram_size - low };
	return n;
}
