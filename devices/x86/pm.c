/* SPDX-License-Identifier: Apache-2.0 */
/* Small platform ports: ACPI sleep control (poweroff), pvpanic, the test-exit port, ignored ports. */
#include "devices/x86/pm.h"

#include <string.h>

#include "firmware/x86/layout.h"

#define SLP_EN        (1u << 5)
#define SLP_TYP(v)    (((v) >> 2) & 7)

static uint32_t value_of(const void *data, uint32_t len)
{
	uint32_t v = 0;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	return v;
}

static void zero_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void sleep_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct pm_dev *pm = opaque;
	uint32_t v = value_of(data, len);

	/* offset 0: sleep control; offset 1: sleep status (write-1-to-clear, nothing to clear) */
	if (offset == 0 && (v & SLP_EN) && SLP_TYP(v) == ACPI_S5_SLP_TYP)
		pm->event(pm->ctx, PM_POWEROFF, v);
}

const struct bus_dev_ops pm_sleep_ops = {
	.name = "acpi-sleep",
	.read = zero_read,
	.write = sleep_write,
};

static void pvpanic_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;	/* what we handle */
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct pm_dev *pm = opaque;
	uint32_t v = value_of(data, len);

	(void)offset;
	if (v & PVPANIC_PANICKED)
		pm->event(pm->ctx, PM_PANIC, v);
}

const struct bus_dev_ops pvpanic_ops = {
	.name = "pvpanic",
	.read = pvpanic_read,
	.write = pvpanic_write,
};

static void test_exit_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct pm_dev *pm = opaque;

	(void)offset;
	pm->event(pm->ctx, PM_TEST_EXIT, value_of(data, len));
}

const struct bus_dev_ops test_exit_ops = {
	.name = "test-exit",
	.read = zero_read,
	.write = test_exit_write,
};

static void boot_timer_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct pm_dev *pm = opaque;

	(void)offset;
	pm->event(pm->ctx, PM_BOOT_TIME, value_of(data, len));
}

const struct bus_dev_ops boot_timer_ops = {
	.name = "boot-timer",
	.read = zero_read,
	.write = boot_timer_write,
};

static void ignore_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0xff, len);
}

static void ignore_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len;
}

const struct bus_dev_ops ignore_ops = {
	.name = "ignored",
	.read = ignore_read,
	.write = ignore_write,
};
