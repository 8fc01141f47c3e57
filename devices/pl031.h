/* SPDX-License-Identifier: Apache-2.0 */
/* The ARM PrimeCell PL031 real-time clock on MMIO: the guest's wall-clock time (seconds), settable, without its alarm interrupt. */
#ifndef KVMINI_DEVICES_PL031_H
#define KVMINI_DEVICES_PL031_H

#include <pthread.h>
#include <stdint.h>

#include "devices/bus.h"

#define PL031_SIZE 0x1000

struct pl031 {
	pthread_mutex_t lock;
	int64_t offset;          /* the guest's seconds minus the host's CLOCK_REALTIME seconds */
	uint32_t match, imsc;    /* kept for the guest to read back; no alarm is raised */
};

void pl031__init(struct pl031 *rtc);
extern const struct bus_dev_ops pl031_ops;

#endif
