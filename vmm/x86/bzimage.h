/* SPDX-License-Identifier: Apache-2.0 */
/* bzImage parsing and loading by the Linux x86 boot protocol (64-bit entry). */
#ifndef KVMINI_VMM_X86_BZIMAGE_H
#define KVMINI_VMM_X86_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>

#include "vmm/memory.h"

#define BZ_MIN_PROTOCOL 0x020c   /* 2.12: XLF_KERNEL_64, 64-bit entry point */

struct bzimage {
	struct setup_header hdr;  /* as found in the file */
	size_t hdr_len;           /* bytes of setup header to copy (from 0x1f1) */
	size_t setup_size;        /* real-mode part, (setup_sects + 1) * 512 */
	const uint8_t *kernel;    /* protected-mode part, inside the caller's image */
	size_t kernel_size;
};

/* Validates an image in memory. 0, or -1 with a one-line reason in err. */
int bzimage__parse(const uint8_t *img, size_t len, struct bzimage *bz, char *err, size_t errlen);

struct boot_plan {
	uint64_t kernel_gpa;      /* where the protected-mode kernel is copied */
	uint64_t entry_gpa;       /* 64-bit entry: kernel_gpa + 0x200 */
	uint64_t initrd_gpa;      /* 0 if no initrd */
	uint64_t initrd_size;
};

/* Decides where the kernel and an initrd of `initrd_size` bytes go in RAM of this layout,
 * honouring pref_address, init_size, kernel_alignment and initrd_addr_max. Pure. */
int bzimage__plan(const struct bzimage *bz, const struct guest_mem *gm, uint64_t initrd_size,
		  struct boot_plan *plan, char *err, size_t errlen);

/* Copies the kernel per the plan. The caller copies the initrd and fills the zero page. */
int bzimage__load(const struct bzimage *bz, const struct guest_mem *gm,
		  const struct boot_plan *plan, char *err, size_t errlen);

#endif
