/* SPDX-License-Identifier: Apache-2.0 */
/* The e820 memory map the guest kernel reads from the zero page. */
#ifndef KVMINI_FIRMWARE_X86_E820_H
#define KVMINI_FIRMWARE_X86_E820_H

#include <asm/bootparam.h>
#include "vmm/memory.h"

#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2

/* Fills out[] from the RAM layout; returns the number of entries (never more than max). */
unsigned e820__build(const struct guest_mem *gm, struct boot_e820_entry *out, unsigned max);

#endif
