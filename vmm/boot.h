/* SPDX-License-Identifier: Apache-2.0 */
/* Puts a Linux guest in RAM: kernel, initrd, command line, ACPI tables, zero page, BSP registers. */
#ifndef KVMINI_VMM_BOOT_H
#define KVMINI_VMM_BOOT_H

#include <stddef.h>

#include "firmware/acpi.h"
#include "vmm/bzimage.h"
#include "vmm/cli.h"
#include "vmm/vm.h"

/* A kernel and initrd checked before KVM is opened (so a bad file is named on any machine),
 * then planned into guest RAM and loaded. */
struct boot_image {
	const char *kernel_path, *initrd_path;
	int kfd, ifd;             /* -1 when closed / no initrd */
	uint8_t *img;             /* the kernel file, mapped (MAP_FAILED when not) */
	uint64_t ksize, isize;
	struct bzimage bz;
	char *cmdline;            /* the whole command line (malloc'd) */
	struct boot_plan plan;
};

/* The command line the guest gets: cfg->cmdline or the default, then `extra` (what the
 * devices add, may be NULL), then cfg->append. Returns a malloc'd string (NULL: no memory). */
char *boot__cmdline(const struct run_config *cfg, const char *extra);

/* Opens and parses cfg's kernel, opens its initrd and builds and length-checks the command
 * line (extra_cmdline: what the devices add). Needs no VM. 0, or -1 with a one-line reason. */
int boot__open(struct boot_image *bi, const struct run_config *cfg, const char *extra_cmdline,
	       char *err, size_t errlen);
/* Decides where kernel and initrd go in gm (RAM too small, an initrd that does not fit). */
int boot__plan(struct boot_image *bi, const struct guest_mem *gm, char *err, size_t errlen);
/* Copies kernel and initrd into the VM's RAM, writes the command line, ACPI and MP tables,
 * zero page and page tables, and sets the BSP's registers. 0, or -1 with a reason. */
int boot__load(struct boot_image *bi, struct vm *vm, const struct acpi_config *acpi, char *err,
	       size_t errlen);
/* Unmaps and closes what boot__open opened (safe on a zeroed or half-opened image). */
void boot__close(struct boot_image *bi);

/* boot__open, boot__plan, boot__load and boot__close in one. */
int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen);

#endif
