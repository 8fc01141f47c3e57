/* SPDX-License-Identifier: Apache-2.0 */
/* The zero page (struct boot_params) handed to a 64-bit Linux entry point in %rsi. */
#ifndef KVMINI_FIRMWARE_X86_BOOT_PARAMS_H
#define KVMINI_FIRMWARE_X86_BOOT_PARAMS_H

#include <asm/bootparam.h>
#include "vmm/memory.h"

struct boot_params_cfg {
	const struct setup_header *hdr;  /* the kernel's setup header */
	size_t hdr_len;                  /* how much of it the file really has */
	uint64_t cmdline_gpa;
	uint32_t cmdline_size;           /* including the NUL */
	uint64_t initrd_gpa, initrd_size;
	uint64_t rsdp_gpa;               /* 0: none */
	uint64_t reserved_gpa, reserved_size; /* one more e820 reserved range (PCI ECAM); 0: none */
};

/* Writes the zero page at zp_gpa: setup header, loader fields, e820 map, RSDP. 0 or -EFAULT. */
int boot_params__write(const struct guest_mem *gm, uint64_t zp_gpa,
		       const struct boot_params_cfg *cfg);

#endif
