/* SPDX-License-Identifier: Apache-2.0 */
/* PIO and MMIO buses: sorted, non-overlapping address ranges mapped to device ops tables. */
#ifndef KVMINI_DEVICES_BUS_H
#define KVMINI_DEVICES_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A device's view of an access: `offset` is relative to the base it registered, `len` is
 * 1, 2, 4 or 8. Handlers run on vCPU threads and must do their own locking. A read handler
 * fills all `len` bytes of `data` (little-endian).
 */
struct bus_dev_ops {
	const char *name;
	void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const void *data, uint32_t len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_dev_ops *ops;
	void *opaque;
};

struct bus {
	const char *name;         /* "pio" or "mmio", for messages */
	struct bus_range *ranges; /* sorted by base, never overlapping */
	size_t n, cap;
	uint64_t unhandled;       /* accesses that hit no device (atomic) */
	uint64_t last_unhandled_addr;
};

void bus__init(struct bus *bus, const char *name);
void bus__free(struct bus *bus);
/* 0 on success; -EINVAL for a zero-length or wrapping range, -EEXIST if it overlaps one already
 * registered, -ENOMEM. Registration happens before vCPUs run: lookups take no lock. */
int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  const struct bus_dev_ops *ops, void *opaque);
const struct bus_range *bus__find(const struct bus *bus, uint64_t addr, uint32_t len);
/* Dispatches one access. Returns false if no device claims the whole access: reads then
 * return all-ones, writes are dropped, and the bus's unhandled counter goes up. */
bool bus__access(struct bus *bus, uint64_t addr, bool is_write, void *data, uint32_t len);

#endif
