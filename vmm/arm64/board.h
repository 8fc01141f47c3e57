/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 board's state (m->board): what its device tree will say, filled in as devices are placed. */
#ifndef KVMINI_VMM_ARM64_BOARD_H
#define KVMINI_VMM_ARM64_BOARD_H

#include "devices/gicv2m.h"
#include "devices/pl031.h"
#include "devices/pl061.h"
#include "firmware/arm64/fdt.h"

struct board {
	struct fdt_config fdt;
	struct pl031 rtc;
	struct gicv2m v2m;         /* GICv2 hosts: the MSI frame */
	struct pl061 gpio;         /* the power button's line (gpio-keys) */
};

#endif
