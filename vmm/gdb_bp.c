/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's breakpoints and watchpoints: the architecture's breakpoint instruction in guest memory, debug registers. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/gdb_int.h"
#include "vmm/arch.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* with the lock held: a Z0 breakpoint of ours, as an instruction, at addr */
bool gdb_bp__is_ours(struct gdb *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].addr == addr && g->sw[i].hw_slot < 0)
			return true;
	return false;
}

/* gdb sees the original bytes under our breakpoints, and writes there update what is
 * restored. */
void gdb_bp__shadow(struct gdb *g, uint64_t gva, uint8_t *buf, size_t n, bool write)
{
	size_t len;
	const uint8_t *insn = gdb_arch__bp_insn(&len);

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->nsw; i++) {
		struct swbp *b = &g->sw[i];
		if (b->hw_slot >= 0)
			continue;
		for (size_t j = 0; j < len; j++) {
			uint64_t a = b->addr + j;
			if (a < gva || a - gva >= n)
				continue;
			if (write) {
				b->orig[j] = buf[a - gva];
				buf[a - gva] = insn[j];
			} else {
				buf[a - gva] = b->orig[j];
			}
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static int hw_alloc(struct gdb *g, enum hw_type type, uint64_t addr, unsigned len, bool for_sw)
{
	for (int i = 0; i < NHWBP; i++) {
		struct hwbp *h = &g->hw[i];
		if (h->used && h->type == type && h->addr == addr && h->len == len && !for_sw &&
		    !h->for_sw)
			return i;	/* gdb inserts again what is in place: fine */
	}
	for (int i = 0; i < NHWBP; i++) {
		if (!g->hw[i].used) {
			g->hw[i] = (struct hwbp){ .used = true, .type = type, .addr = addr,
						  .len = len, .for_sw = for_sw };
			return i;
		}
	}
	return -1;
}

const char *gdb_bp__insert(struct gdb *g, int type, uint64_t addr, uint64_t kind)
{
	const char *r = "OK";

	pthread_mutex_lock(&g->lock);
	if (type == 0) {
		for (unsigned i = 0; i < g->nsw; i++)
			if (g->sw[i].addr == addr)
				goto out;
		if (g->nsw == MAX_SWBP) {
			r = "E28";	/* ENOSPC */
			goto out;
		}
		struct swbp *b = &g->sw[g->nsw];
		b->addr = addr;
		b->hw_slot = -1;
		if (g->sw_as_hw) {
			b->hw_slot = hw_alloc(g, HW_EXEC, addr, 1, true);
			if (b->hw_slot < 0) {
				r = "E28";
				goto out;
			}
		} else {
			size_t len;
			const uint8_t *insn = gdb_arch__bp_insn(&len);
			uint8_t *p;
			if (arch__translate(&g->vm->vcpus[g->gcpu], addr, &b->gpa) ||
			    !(p = gm__ptr(&g->vm->mem, b->gpa, len))) {
				r = "E0e";	/* EFAULT */
				goto out;
			}
			memcpy(b->orig, p, len);
			memcpy(p, insn, len);
		}
		g->nsw++;
	} else if (type == 1) {
		if (hw_alloc(g, HW_EXEC, addr, 1, false) < 0)
			r = "E28";
	} else {	/* 2 write, 4 access watchpoints: 1, 2, 4 or 8 aligned bytes */
		if ((kind != 1 && kind != 2 && kind != 4 && kind != 8) || (addr & (kind - 1)))
			r = "E16";	/* EINVAL */
		else if (hw_alloc(g, type == 2 ? HW_WRITE : HW_ACCESS, addr, (unsigned)kind,
				  false) < 0)
			r = "E28";
	}
out:
	pthread_mutex_unlock(&g->lock);
	return r;
}

static void remove_sw_at(struct gdb *g, unsigned i)
{
	struct swbp *b = &g->sw[i];

	if (b->hw_slot >= 0) {
		g->hw[b->hw_slot].used = false;
	} else {
		size_t len;
		const uint8_t *insn = gdb_arch__bp_insn(&len);
		uint8_t *p = gm__ptr(&g->vm->mem, b->gpa, len);
		if (p && !memcmp(p, insn, len))	/* the guest may have rewritten the code since */
			memcpy(p, b->orig, len);
	}
	g->sw[i] = g->sw[--g->nsw];
}

const char *gdb_bp__remove(struct gdb *g, int type, uint64_t addr, uint64_t kind)
{
	const char *r = "E02";

	pthread_mutex_lock(&g->lock);
	if (type == 0) {
		for (unsigned i = 0; i < g->nsw; i++) {
			if (g->sw[i].addr == addr) {
				remove_sw_at(g, i);
				r = "OK";
				break;
			}
		}
	} else {
		enum hw_type t = type == 1 ? HW_EXEC : type == 2 ? HW_WRITE : HW_ACCESS;
		for (int i = 0; i < NHWBP; i++) {
			struct hwbp *h = &g->hw[i];
			if (h->used && !h->for_sw && h->type == t && h->addr == addr &&
			    (t == HW_EXEC || h->len == kind)) {
				h->used = false;
				r = "OK";
				break;
			}
		}
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

void gdb_bp__remove_all(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->nsw)
		remove_sw_at(g, g->nsw - 1);
	memset(g->hw, 0, sizeof(g->hw));
	pthread_mutex_unlock(&g->lock);
}

/* KVM_SET_GUEST_DEBUG on every vCPU (all parked): breakpoints, and the step on one. */
int gdb_bp__apply(struct gdb *g, int step_cpu)
{
	struct kvm_guest_debug dbg;
	bool any_hw = false;

	memset(&dbg, 0, sizeof(dbg));
	for (unsigned i = 0; i < NHWBP; i++)
		any_hw |= g->hw[i].used;
	gdb_arch__hw_regs(&dbg.arch, g->hw, NHWBP);
	bool any_sw = false;
	for (unsigned i = 0; i < g->nsw; i++)
		any_sw |= g->sw[i].hw_slot < 0;
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		dbg.control = gdb_arch__dbg_control(any_sw, any_hw, (int)i == step_cpu, g->dbg_caps);
		if (ioctl(g->vm->vcpus[i].fd, KVM_SET_GUEST_DEBUG, &dbg) < 0) {
			fprintf(stderr, "kvmini: gdb: KVM_SET_GUEST_DEBUG on vCPU %u: %s\n", i,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}
