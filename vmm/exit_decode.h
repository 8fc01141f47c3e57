/* SPDX-License-Identifier: Apache-2.0 */
/* What a PIO/MMIO exit accessed, read from kvm_run with every field bounds-checked. */
#ifndef KVMINI_VMM_EXIT_DECODE_H
#define KVMINI_VMM_EXIT_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/kvm.h>

/* The bus of an access, and its flags, as the trace file records them (vmm/trace_file.h). */
enum trace_bus { TRACE_BUS_NONE, TRACE_BUS_PIO, TRACE_BUS_MMIO };
#define TRACE_R_WRITE     1u    /* a port OUT / MMIO write (else a read, for an access) */
#define TRACE_R_UNHANDLED 2u    /* no device claimed it */

struct exit_access {
	uint64_t addr, value;
	uint32_t count;
	uint8_t bus;               /* enum trace_bus: NONE for exits that are not accesses */
	uint8_t size;
	uint8_t flags;             /* TRACE_R_WRITE */
};

/* Fills a from run (a kvm_run of run_size bytes). value is the data (little-endian, first
 * element of a `rep` string); a bad size or data offset gives size 0 and value 0. */
static inline void exit__decode(const struct kvm_run *run, size_t run_size, struct exit_access *a)
{
	a->addr = 0;
	a->value = 0;
	a->count = 1;
	a->bus = TRACE_BUS_NONE;
	a->size = 0;
	a->flags = 0;
	if (run->exit_reason == KVM_EXIT_IO) {
		uint32_t size = run->io.size;
		a->bus = TRACE_BUS_PIO;
		a->addr = run->io.port;
		a->count = run->io.count;
		a->flags = run->io.direction == KVM_EXIT_IO_OUT ? TRACE_R_WRITE : 0;
		if (size && size <= 8 && run->io.data_offset <= run_size - size) {
			a->size = (uint8_t)size;
			memcpy(&a->value, (const uint8_t *)run + run->io.data_offset, size);
		}
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		uint32_t len = run->mmio.len;
		a->bus = TRACE_BUS_MMIO;
		a->addr = run->mmio.phys_addr;
		a->flags = run->mmio.is_write ? TRACE_R_WRITE : 0;
		if (len && len <= 8) {
			a->size = (uint8_t)len;
			memcpy(&a->value, run->mmio.data, len);
		}
	}
}

#endif
