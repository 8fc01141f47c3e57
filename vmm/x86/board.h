/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 board's state (m->board): the PC devices and the ACPI description built as devices are placed. */
#ifndef KVMINI_VMM_X86_BOARD_H
#define KVMINI_VMM_X86_BOARD_H

#include "devices/x86/i8042.h"
#include "devices/x86/pm.h"
#include "firmware/x86/acpi.h"

struct board {
	struct i8042 kbd;
	struct pm_dev pm;
	struct acpi_config acpi;
};

#endif
