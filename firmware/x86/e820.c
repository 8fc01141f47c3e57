/* SPDX-License-Identifier: Apache-2.0 */
/* The e820 map: low RAM below the EBDA, the BIOS/ACPI area reserved, high RAM around the hole. */
#include "firmware/x86/e820.h"

#include "firmware/x86/layout.h"

static unsigned add(struct boot_e820_entry *out, unsigned n, unsigned max,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (n < max && size)
		out[n++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return n;
}

unsigned e820__build(const struct guest_mem *gm, struct boot_e820_entry *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];
		if (r->gpa == 0) {
			/* 0..EBDA usable; EBDA..1 MiB holds the MP table, legacy area, ACPI */
			uint64_t end = r->size;
			n = add(out, n, max, 0, end < LAYOUT_EBDA ? end : LAYOUT_EBDA, E820_TYPE_RAM);
			if (end > LAYOUT_EBDA)
				n = add(out, n, max, LAYOUT_EBDA, 0xa0000 - LAYOUT_EBDA, E820_TYPE_RESERVED);
			if (end > LAYOUT_ACPI)
				n = add(out, n, max, LAYOUT_ACPI, LAYOUT_HIMEM - LAYOUT_ACPI,
					E820_TYPE_RESERVED);
			if (end > LAYOUT_HIMEM)
				n = add(out, n, max, LAYOUT_HIMEM, end - LAYOUT_HIMEM, E820_TYPE_RAM);
		} else {
			n = add(out, n, max, r->gpa, r->size, E820_TYPE_RAM);
		}
	}
	return n;
}
