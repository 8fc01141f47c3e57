/* SPDX-License-Identifier: Apache-2.0 */
/* Small platform ports: ACPI sleep control (poweroff), pvpanic, the test-exit port, ignored ports. */
#ifndef KVMINI_DEVICES_X86_PM_H
#define KVMINI_DEVICES_X86_PM_H

#include <stdint.h>
#include "devices/bus.h"

enum pm_event {
	PM_POWEROFF,    /* ACPI S5 written to the sleep control register */
	PM_PANIC,       /* pvpanic: the guest kernel panicked (value = pvpanic bits) */
	PM_TEST_EXIT,   /* a test payload wrote its result (value) */
	PM_BOOT_TIME,   /* the guest wrote the boot-timer port (value: what it wrote) */
};

struct pm_dev {
	void (*event)(void *ctx, enum pm_event ev, uint32_t value);
	void *ctx;
};

#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

extern const struct bus_dev_ops pm_sleep_ops;   /* 2 ports: sleep control, sleep status */
extern const struct bus_dev_ops pvpanic_ops;    /* 1 port */
extern const struct bus_dev_ops test_exit_ops;  /* 4 ports: value of any width */
extern const struct bus_dev_ops boot_timer_ops; /* 1 port: any write is a boot-time marker */
extern const struct bus_dev_ops ignore_ops;     /* reads all-ones, drops writes, not "unhandled" */

#endif
