/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 Linux boot protocol behind vmm/boot.h: bzImage, zero page, ACPI and MP tables, the BSP in long mode. */
#ifndef KVMINI_VMM_X86_BOOT_H
#define KVMINI_VMM_X86_BOOT_H

#include "firmware/x86/acpi.h"
#include "vmm/boot.h"
#include "vmm/vm.h"
#include "vmm/x86/bzimage.h"

struct boot_image {
	struct boot_files f;
	struct bzimage bz;
	char *cmdline;            /* the whole command line (malloc'd) */
	struct boot_plan plan;
};

/* Copies kernel and initrd into the VM's RAM, writes the command line, ACPI and MP tables,
 * zero page and page tables, and sets the BSP's registers. 0, or -1 with a reason. */
int boot__load(struct boot_image *bi, struct vm *vm, const struct acpi_config *acpi, char *err,
	       size_t errlen);
/* boot__open, boot__plan, boot__load and boot__close in one. */
int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen);

#endif
