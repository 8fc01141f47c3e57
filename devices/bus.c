/* SPDX-License-Identifier: Apache-2.0 */
/* PIO and MMIO buses: registration with overlap checks, and binary-search dispatch on the exit path. */
#include "devices/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus__init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus__free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->n = bus->cap = 0;
}

int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  const struct bus_dev_ops *ops, void *opaque)
{
	if (len == 0 || base + len - 1 < base || !ops)
		return -EINVAL;

	size_t pos = 0;
	while (pos < bus->n && bus->ranges[pos].base < base)
		pos++;
	/* the neighbours on either side must end before us / start after us */
	if (pos > 0) {
		const struct bus_range *prev = &bus->ranges[pos - 1];
		if (prev->base + prev->len - 1 >= base)
			return -EEXIST;
	}
	if (pos < bus->n && bus->ranges[pos].base <= base + len - 1)
		return -EEXIST;

	if (bus->n == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 8;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos], (bus->n - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = (struct bus_range){ .base = base, .len = len, .ops = ops, .opaque = opaque };
	bus->n++;
	return 0;
}

const struct bus_range *bus__find(const struct bus *bus, uint64_t addr, uint32_t len)
{
	size_t lo = 0, hi = bus->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else	/* addr is inside r: the whole access must be too */
			return (len && addr - r->base + len <= r->len) ? r : NULL;
	}
	return NULL;
}

bool bus__access(struct bus *bus, uint64_t addr, bool is_write, void *data, uint32_t len)
{
	const struct bus_range *r = bus__find(bus, addr, len);

	if (r) {
		if (is_write) {
			if (r->ops->write)
				r->ops->write(r->opaque, addr - r->base, data, len);
		} else if (r->ops->read) {
			r->ops->read(r->opaque, addr - r->base, data, len);
		} else {
			memset(data, 0xff, len);
		}
		return true;
	}
	if (!is_write)
		memset(data, 0xff, len);
	__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&bus->last_unhandled_addr, addr, __ATOMIC_RELAXED);
	return false;
}
