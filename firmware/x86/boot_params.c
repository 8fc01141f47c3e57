/* SPDX-License-Identifier: Apache-2.0 */
/* Fills the zero page: only the kernel's own setup header is copied, then the loader's fields. */
#include "firmware/x86/boot_params.h"

#include <errno.h>
#include <string.h>

#include "firmware/x86/e820.h"

int boot_params__write(const struct guest_mem *gm, uint64_t zp_gpa,
		       const struct boot_params_cfg *cfg)
{
	struct boot_params *bp = gm__ptr(gm, zp_gpa, sizeof(*bp));
	if (!bp || cfg->hdr_len > sizeof(bp->hdr))
		return -EFAULT;

	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, cfg->hdr, cfg->hdr_len);
	bp->hdr.type_of_loader = 0xff;          /* undefined boot loader */
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)cfg->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(cfg->cmdline_gpa >> 32);
	bp->hdr.ramdisk_image = (uint32_t)cfg->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(cfg->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)cfg->initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(cfg->initrd_size >> 32);
	bp->acpi_rsdp_addr = cfg->rsdp_gpa;
	unsigned n = e820__build(gm, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (cfg->reserved_size && n < E820_MAX_ENTRIES_ZEROPAGE)
		bp->e820_table[n++] = (struct boot_e820_entry){
			.addr = cfg->reserved_gpa, .size = cfg->reserved_size, .type = E820_TYPE_RESERVED };
	bp->e820_entries = (uint8_t)n;
	return 0;
}
