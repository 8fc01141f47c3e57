/* SPDX-License-Identifier: Apache-2.0 */
/* Booting a Linux guest: the kernel and initrd files and the command line (generic), checked before KVM is opened; the kernel format is the architecture's. */
#ifndef KVMINI_VMM_BOOT_H
#define KVMINI_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/cli.h"
#include "vmm/memory.h"

/* The kernel and initrd as opened: the kernel mapped whole, the initrd read at load time. */
struct boot_files {
	const char *kernel_path, *initrd_path;
	int kfd, ifd;             /* -1 when closed / no initrd */
	uint8_t *img;             /* the kernel file, mapped (MAP_FAILED when not) */
	uint64_t ksize, isize;
};

/* A kernel, initrd and command line checked and planned into guest RAM: the architecture's
 * (vmm/ARCH/boot.c: x86, the bzImage boot protocol), opaque here. */
struct boot_image;

/* The command line the guest gets: cfg->cmdline or the board's default, then `extra` (what the
 * devices add, may be NULL), then cfg->append. Returns a malloc'd string (NULL: no memory). */
char *boot__cmdline(const struct run_config *cfg, const char *extra);

/* Opens cfg's kernel (a non-empty regular file, mapped), then (once the architecture has
 * parsed the kernel, so a bad kernel is named first) its initrd (a regular file). 0, or -1
 * with a one-line reason; what was opened is left for boot__close_files. */
int boot__open_kernel(struct boot_files *f, const struct run_config *cfg, char *err,
		      size_t errlen);
int boot__open_initrd(struct boot_files *f, const struct run_config *cfg, char *err,
		      size_t errlen);
/* Reads the whole initrd to dst. 0, or -1. */
int boot__read_initrd(const struct boot_files *f, void *dst);
/* Unmaps and closes (safe on a zeroed or half-opened one, once kfd/ifd are -1 or open). */
void boot__close_files(struct boot_files *f);

/* The architecture's (vmm/ARCH/boot.c): */
/* Opens and parses cfg's kernel, opens its initrd and builds and length-checks the command
 * line (extra_cmdline: what the devices add) into a new *bi. Needs no VM. 0, or -1 with a
 * one-line reason (*bi may then be set: boot__close it). */
int boot__open(struct boot_image **bi, const struct run_config *cfg, const char *extra_cmdline,
	       char *err, size_t errlen);
/* Decides where kernel and initrd go in gm (RAM too small, an initrd that does not fit). */
int boot__plan(struct boot_image *bi, const struct guest_mem *gm, char *err, size_t errlen);
/* Frees what boot__open made (NULL is fine); *bi becomes NULL. */
void boot__close(struct boot_image **bi);

#endif
