/* SPDX-License-Identifier: Apache-2.0 */
/* Puts a Linux guest in RAM: kernel, initrd, command line, ACPI tables, zero page, BSP registers. */
#ifndef KVMINI_VMM_BOOT_H
#define KVMINI_VMM_BOOT_H

#include <stddef.h>

#include "firmware/acpi.h"
#include "vmm/cli.h"
#include "vmm/vm.h"

/* The command line the guest gets: cfg->cmdline or the default, then `extra` (what the
 * devices add, may be NULL), then cfg->append. Returns a malloc'd string (NULL: no memory). */
char *boot__cmdline(const struct run_config *cfg, const char *extra);

/* Loads everything and sets the BSP's registers. 0, or -1 with a one-line reason in err. */
int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen);

#endif
