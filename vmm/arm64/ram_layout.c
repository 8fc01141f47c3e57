/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 guest RAM: one region from 1 GiB (the devices sit below it). */
#include "vmm/memory.h"

#include "firmware/arm64/layout.h"

unsigned gm__layout(uint64_t ram_size, struct gm_region out[GM_MAX_REGIONS])
{
	out[0] = (struct gm_region){ .gpa = A64_RAM, .size = ram_size };
	return 1;
}
