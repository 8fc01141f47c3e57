/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's g, G, p and P packets: registers as gdb's hex, over the architecture's register access (vmm/ARCH/gdb_regs.c). */
#include "vmm/gdb_regs.h"

#include <string.h>

#include "vmm/gdb_packet.h"

int gdb_regs__read_hex(struct vcpu *v, char *out)
{
	struct gdb_regs_cache c;
	uint8_t b[GDB_REG_MAX];

	if (gdb_regs__load(v, &c))
		return -1;
	for (unsigned i = 0, o = 0; i < gdb_regs__count(); i++) {
		gdb_regs__get(&c, i, b);
		gdbpkt__hex_encode(b, gdb_regs__size(i), out + o);
		o += 2 * gdb_regs__size(i);
	}
	return 0;
}

/* A shorter G sets the registers it covers; one that cannot be written may be given back
 * unchanged. */
int gdb_regs__write_hex(struct vcpu *v, const char *h)
{
	struct gdb_regs_cache c;
	unsigned i, n;

	if (gdb_regs__load(v, &c))
		return -1;
	for (i = 0; i < gdb_regs__count() && strlen(h) >= 2 * (n = gdb_regs__size(i)); i++) {
		uint8_t b[GDB_REG_MAX], old[GDB_REG_MAX];
		if (gdbpkt__hex_decode(h, n, b))
			break;
		gdb_regs__get(&c, i, old);
		if (memcmp(b, old, n) && gdb_regs__put(&c, i, b))
			break;
		h += 2 * n;
	}
	return *h || gdb_regs__store(v, &c) ? -1 : 0;
}

int gdb_regs__read_one_hex(struct vcpu *v, unsigned n, char *out)
{
	struct gdb_regs_cache c;
	uint8_t b[GDB_REG_MAX];

	if (n >= gdb_regs__count() || gdb_regs__load(v, &c))
		return -1;
	gdb_regs__get(&c, n, b);
	gdbpkt__hex_encode(b, gdb_regs__size(n), out);
	return 0;
}

int gdb_regs__write_one_hex(struct vcpu *v, unsigned n, const char *hex)
{
	struct gdb_regs_cache c;
	uint8_t b[GDB_REG_MAX];

	if (n >= gdb_regs__count() || strlen(hex) != 2 * gdb_regs__size(n) ||
	    gdbpkt__hex_decode(hex, gdb_regs__size(n), b) || gdb_regs__load(v, &c) ||
	    gdb_regs__put(&c, n, b) || gdb_regs__store(v, &c))
		return -1;
	return 0;
}
