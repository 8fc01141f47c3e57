/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 Linux boot behind vmm/boot.h: an Image (gzip-compressed or not), its initrd and command line, placed by vmm/arm64/image.c. */
#ifndef KVMINI_VMM_ARM64_BOOT_H
#define KVMINI_VMM_ARM64_BOOT_H

#include "vmm/arm64/image.h"
#include "vmm/boot.h"

struct boot_image {
	struct boot_files f;
	uint8_t *unpacked;        /* a gzip-compressed kernel, unpacked (malloc'd), or NULL */
	struct a64_image im;
	char *cmdline;            /* the whole command line (malloc'd) */
	struct a64_plan plan;
};

#endif
