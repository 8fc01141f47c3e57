/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub: a listener thread speaking the GDB remote protocol, stopping and resuming vCPUs. */
#include "vmm/gdb.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/gdb_packet.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define MAX_SWBP     64
#define NHWBP        4
#define DR6_BS       (1u << 14)
#define PAGE         4096ULL
#define INT3         0xcc
#define TID(i)       ((i) + 1)	/* gdb thread ids start at 1: vCPU i is thread i+1 */

enum stop_event { EV_NONE, EV_STEP, EV_SWBP, EV_HWBP, EV_WATCH, EV_AWATCH };
enum hw_type { HW_EXEC = 0, HW_WRITE = 1, HW_ACCESS = 3 };

struct hwbp {
	bool used;
	enum hw_type type;
	unsigned len;
	uint64_t addr;
	bool for_sw;         /* a Z0 breakpoint placed in a debug register (kvm_pvm) */
};

struct swbp {
	uint64_t addr;       /* guest-virtual, as gdb gave it */
	uint64_t gpa;        /* where the int3 went */
	uint8_t orig;
	int hw_slot;         /* >= 0: placed in a debug register instead of an int3 */
};

struct cpu_state {
	bool may_run;        /* false: park before the next KVM_RUN */
	bool parked;
	enum stop_event ev;
	uint64_t ev_addr;
};

struct gdb {
	struct vm *vm;
	int listen_fd, conn_fd, efd;
	char where[160];            /* the spec, for messages */
	char unix_path[108];        /* to unlink at close; empty for tcp */
	bool quiet, wait_first;
	pthread_t thread;
	bool thread_started;

	/* shared with the vCPU threads, under lock */
	pthread_mutex_t lock;
	pthread_cond_t run_cond;    /* parked vCPUs wait here */
	pthread_cond_t park_cond;   /* the stub waits here for them to park */
	int hold;                   /* atomic: some vCPU must park (the vCPUs' fast check) */
	bool resumed;               /* gdb resumed the VM: a debug exit is a stop event */
	bool shutdown;
	unsigned nparked;
	int step_cpu;               /* -1: none */
	struct cpu_state *cpu;
	struct hwbp hw[NHWBP];
	struct swbp sw[MAX_SWBP];
	unsigned nsw;

	/* the stub thread's own */
	bool sw_as_hw;              /* Z0 in debug registers (int3 exits fail on kvm_pvm) */
	uint32_t dbg_caps;          /* KVM_CAP_SET_GUEST_DEBUG2 */
	bool noack;
	int gcpu, ccpu;             /* Hg and Hc: vCPU index; ccpu -1 = all */
	char last_stop[64];
	struct gdbpkt_rx rx;
	size_t last_len;
	char out[2 * GDBPKT_MAX + 16];
	char reply[GDBPKT_MAX + 1];
};

/* ---- sockets ---- */

int gdb__check_spec(const char *spec)
{
	if (!strncmp(spec, "unix:", 5))
		return spec[5] && strlen(spec + 5) < sizeof(((struct sockaddr_un *)0)->sun_path) ? 0 : -1;
	if (strncmp(spec, "tcp:", 4))
		return -1;
	const char *colon = strrchr(spec + 4, ':');
	if (!colon || colon == spec + 4 || !colon[1])
		return -1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] < '0' || colon[1] > '9' || port == 0 || port > 65535)
		return -1;
	return 0;
}

static int listen_tcp(struct gdb *g, const char *spec, char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(spec + 4, ':');
	size_t hl = (size_t)(colon - (spec + 4));
	const char *h = spec + 4;

	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {	/* [::1]:1234 */
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "--gdb '%s': host name too long", spec);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	int e = getaddrinfo(host, colon + 1, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "--gdb '%s': %s", spec, gai_strerror(e));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
		snprintf(err, errlen, "--gdb '%s': cannot listen: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	g->listen_fd = fd;
	return 0;
}

static int listen_unix(struct gdb *g, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = spec + 5;
	struct stat st;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		/* a socket left behind by a kvmini that is gone may be replaced, nothing else */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && S_ISSOCK(st.st_mode) &&
			    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || live) {
			snprintf(err, errlen, "--gdb '%s': %s", spec, live ?
				 "another process is listening there" : "exists and is not a socket");
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		snprintf(err, errlen, "--gdb '%s': cannot listen: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(g->unix_path, sizeof(g->unix_path), "%s", path);
	g->listen_fd = fd;
	return 0;
}

/* ---- parking the vCPUs (the vCPU side) ---- */

void gdb__vcpu_wait(struct vcpu *v)
{
	struct gdb *g = v->vm->gdb;

	if (!__atomic_load_n(&g->hold, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&g->lock);
	struct cpu_state *c = &g->cpu[v->id];
	if (!c->may_run && (v->run->exit_reason == KVM_EXIT_IO ||
			    v->run->exit_reason == KVM_EXIT_MMIO)) {
		/* an I/O exit completes in the next KVM_RUN: do that one (immediate_exit runs no
		 * guest instruction), so the registers gdb sees are consistent */
		v->run->exit_reason = KVM_EXIT_INTR;
		v->run->immediate_exit = 1;
		pthread_mutex_unlock(&g->lock);
		return;
	}
	while (!c->may_run && !vm__stopping(v->vm)) {
		struct timespec t;
		c->parked = true;
		g->nparked++;
		pthread_cond_broadcast(&g->park_cond);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000000;	/* re-check vm__stopping now and then */
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->run_cond, &g->lock, &t);
		c->parked = false;
		g->nparked--;
	}
	pthread_mutex_unlock(&g->lock);
}

static bool is_our_sw(struct gdb *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].addr == addr && g->sw[i].hw_slot < 0)
			return true;
	return false;
}

/* An int3 of the guest's own (Linux patches code with them) goes back to the guest. */
static void reinject(struct vcpu *v, unsigned vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)vector;
	ev.exception.has_error_code = 0;
	ev.flags &= ~(uint32_t)(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR);
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		fprintf(stderr, "kvmini: gdb: cannot give int3 back to vCPU %u: %s\n", v->id,
			strerror(errno));
}

static void kick_all(struct gdb *g, int except)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		if ((int)i != except)
			vcpu__kick(&g->vm->vcpus[i]);
}

/* with the lock held: every vCPU parks at its next loop */
static void hold_all(struct gdb *g)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		g->cpu[i].may_run = false;
	g->resumed = false;
	__atomic_store_n(&g->hold, 1, __ATOMIC_RELEASE);
}

enum exit_action gdb__debug_exit(struct vcpu *v)
{
	struct gdb *g = v->vm->gdb;

	if (!g)
		return EXIT_CONTINUE;	/* no stub: nothing asked for this exit, carry on */
	const struct kvm_debug_exit_arch *d = &v->run->debug.arch;
	enum stop_event ev = EV_NONE;
	uint64_t addr = 0;

	pthread_mutex_lock(&g->lock);
	if (d->exception == 3) {	/* #BP */
		uint64_t at = d->pc;
		if (!is_our_sw(g, at) && is_our_sw(g, at - 1)) {
			/* reported after the int3 (seen in the nested L1: the guest then took
			 * the #BP as its own and panicked): back to the breakpoint address */
			struct kvm_regs r;
			at--;
			if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && (r.rip & 0xfff) == ((at + 1) & 0xfff)) {
				r.rip--;
				ioctl(v->fd, KVM_SET_REGS, &r);
			}
		}
		if (!is_our_sw(g, at)) {
			pthread_mutex_unlock(&g->lock);
			reinject(v, 3);
			return EXIT_CONTINUE;
		}
		ev = EV_SWBP;
		addr = at;
	} else if (d->exception == 1) {	/* #DB: the single step or a debug register */
		/* data watchpoints, then the step, then instruction breakpoints: a step that
		 * stores to a watched address is a watchpoint hit, and an instruction breakpoint
		 * bit seen with the step bit is left over from an earlier hit */
		bool step = (d->dr6 & DR6_BS) && g->step_cpu == (int)v->id;
		for (unsigned pass = 0; pass < 2 && ev == EV_NONE; pass++) {
			for (unsigned i = 0; i < NHWBP && ev == EV_NONE; i++) {
				const struct hwbp *h = &g->hw[i];
				if (!h->used || !(d->dr6 & (1u << i)) || (h->type == HW_EXEC) != pass)
					continue;
				addr = h->addr;
				ev = h->type == HW_EXEC ? (h->for_sw ? EV_SWBP : EV_HWBP) :
				     h->type == HW_WRITE ? EV_WATCH : EV_AWATCH;
			}
			if (ev == EV_NONE && pass == 0 && step)
				ev = EV_STEP;
		}
	}
	if (ev == EV_NONE || !g->resumed) {
		/* not ours, or gdb already stopped the VM: the vCPU re-executes and, if it is
		 * a breakpoint still in place, hits it again after the next resume */
		pthread_mutex_unlock(&g->lock);
		return EXIT_CONTINUE;
	}
	g->cpu[v->id].ev = ev;
	g->cpu[v->id].ev_addr = addr;
	hold_all(g);
	pthread_mutex_unlock(&g->lock);
	kick_all(g, (int)v->id);
	uint64_t one = 1;
	if (write(g->efd, &one, sizeof(one)) < 0) {
		/* an eventfd counter does not overflow here */
	}
	return EXIT_CONTINUE;
}

/* ---- stopping and resuming (the stub side) ---- */

static void wait_parked(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->nparked < g->vm->ncpus && !vm__stopping(g->vm)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;
		pthread_cond_timedwait(&g->park_cond, &g->lock, &t);
	}
	pthread_mutex_unlock(&g->lock);
}

static void stop_all(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	hold_all(g);
	pthread_mutex_unlock(&g->lock);
	kick_all(g, -1);
	wait_parked(g);
}

static void release_all(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		g->cpu[i].may_run = true;
		g->cpu[i].ev = EV_NONE;
	}
	g->step_cpu = -1;
	__atomic_store_n(&g->hold, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->run_cond);
	pthread_mutex_unlock(&g->lock);
}

static const uint8_t hw_len_bits[9] = { [1] = 0, [2] = 1, [4] = 3, [8] = 2 };

/* KVM_SET_GUEST_DEBUG on every vCPU (all parked): breakpoints, and the step on one. */
static int apply_debug(struct gdb *g, int step_cpu)
{
	struct kvm_guest_debug dbg;
	bool any_hw = false;

	memset(&dbg, 0, sizeof(dbg));
	dbg.arch.debugreg[7] = 0x600;
	for (unsigned i = 0; i < NHWBP; i++) {
		const struct hwbp *h = &g->hw[i];
		if (!h->used)
			continue;
		any_hw = true;
		dbg.arch.debugreg[i] = h->addr;
		dbg.arch.debugreg[7] |= (2ULL << (i * 2)) | ((uint64_t)h->type << (16 + i * 4)) |
					((uint64_t)(h->type == HW_EXEC ? 0 : hw_len_bits[h->len])
					 << (18 + i * 4));
	}
	bool any_sw = false;
	for (unsigned i = 0; i < g->nsw; i++)
		any_sw |= g->sw[i].hw_slot < 0;
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		dbg.control = 0;
		if (any_sw)
			dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
		if (any_hw)
			dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		if ((int)i == step_cpu) {
			dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
			if (g->dbg_caps & KVM_GUESTDBG_BLOCKIRQ)	/* no detour into interrupts */
				dbg.control |= KVM_GUESTDBG_BLOCKIRQ;
		}
		if (ioctl(g->vm->vcpus[i].fd, KVM_SET_GUEST_DEBUG, &dbg) < 0) {
			fprintf(stderr, "kvmini: gdb: KVM_SET_GUEST_DEBUG on vCPU %u: %s\n", i,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* step_cpu < 0: every vCPU runs; else only that one, for one instruction. */
static int resume(struct gdb *g, int step_cpu)
{
	if (apply_debug(g, step_cpu))
		return -1;
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		g->cpu[i].ev = EV_NONE;
		g->cpu[i].may_run = step_cpu < 0 || (int)i == step_cpu;
	}
	g->step_cpu = step_cpu;
	g->resumed = true;
	__atomic_store_n(&g->hold, step_cpu >= 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->run_cond);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* ---- registers: gdb's amd64 layout (core, sse) plus fs_base/gs_base ---- */

enum { R_RIP = 16, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS, R_ST0, R_FCTRL = 32,
       R_XMM0 = 40, R_MXCSR = 56, R_FS_BASE, R_GS_BASE, NREGS };

static unsigned reg_size(unsigned r)
{
	if (r <= R_RIP)
		return 8;
	if (r < R_ST0)
		return 4;
	if (r < R_FCTRL)
		return 10;
	if (r < R_XMM0)
		return 4;
	if (r < R_MXCSR)
		return 16;
	return r == R_MXCSR ? 4 : 8;
}

struct cpu_regs {
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
};

static int get_cpu_regs(struct vcpu *v, struct cpu_regs *c)
{
	if (ioctl(v->fd, KVM_GET_REGS, &c->r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &c->s) < 0 ||
	    ioctl(v->fd, KVM_GET_FPU, &c->f) < 0)
		return -1;
	return 0;
}

static __u64 *gpr(struct kvm_regs *r, unsigned i)
{
	__u64 *const t[17] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp,
				  &r->rsp, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
				  &r->r14, &r->r15, &r->rip };
	return t[i];
}

static struct kvm_segment *segreg(struct kvm_sregs *s, unsigned i)
{
	struct kvm_segment *const t[6] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	return t[i];
}

/* the x87 control/status words as gdb numbers them: fctrl fstat ftag fiseg fioff foseg fooff fop */
static uint32_t fpu_ctl(const struct kvm_fpu *f, unsigned i)
{
	uint32_t tag = 0;

	switch (i) {
	case 0: return f->fcw;
	case 1: return f->fsw;
	case 2:	/* the FXSAVE abridged tag: 1 = in use (shown as valid, 00), 0 = empty (11) */
		for (unsigned k = 0; k < 8; k++)
			if (!(f->ftwx & (1u << k)))
				tag |= 3u << (2 * k);
		return tag;
	case 3: return (uint32_t)(f->last_ip >> 32);
	case 4: return (uint32_t)f->last_ip;
	case 5: return (uint32_t)(f->last_dp >> 32);
	case 6: return (uint32_t)f->last_dp;
	default: return f->last_opcode;
	}
}

/* Writes register r's bytes (little-endian, reg_size(r)) to out. */
static void reg_get(const struct cpu_regs *cc, unsigned r, uint8_t *out)
{
	struct cpu_regs *c = (struct cpu_regs *)cc;
	uint64_t v;

	if (r <= R_RIP) {
		memcpy(out, gpr(&c->r, r), 8);
	} else if (r == R_EFLAGS) {
		uint32_t f = (uint32_t)c->r.rflags;
		memcpy(out, &f, 4);
	} else if (r < R_ST0) {
		uint32_t sel = segreg(&c->s, r - R_CS)->selector;
		memcpy(out, &sel, 4);
	} else if (r < R_FCTRL) {
		memcpy(out, c->f.fpr[r - R_ST0], 10);
	} else if (r < R_XMM0) {
		uint32_t x = fpu_ctl(&c->f, r - R_FCTRL);
		memcpy(out, &x, 4);
	} else if (r < R_MXCSR) {
		memcpy(out, c->f.xmm[r - R_XMM0], 16);
	} else if (r == R_MXCSR) {
		memcpy(out, &c->f.mxcsr, 4);
	} else {
		v = r == R_FS_BASE ? c->s.fs.base : c->s.gs.base;
		memcpy(out, &v, 8);
	}
}

/* Sets register r from in. Selectors and the x87 control words other than fctrl/fstat/fop
 * cannot be written (a selector alone means nothing without its descriptor): a changed value
 * is refused with -1; the same value is accepted. */
static int reg_set(struct cpu_regs *c, unsigned r, const uint8_t *in)
{
	uint32_t x;

	if (r <= R_RIP) {
		memcpy(gpr(&c->r, r), in, 8);
	} else if (r == R_EFLAGS) {
		memcpy(&x, in, 4);
		c->r.rflags = x | 2;	/* bit 1 is always set */
	} else if (r < R_ST0) {
		memcpy(&x, in, 4);
		if (x != segreg(&c->s, r - R_CS)->selector)
			return -1;
	} else if (r < R_FCTRL) {
		memcpy(c->f.fpr[r - R_ST0], in, 10);
	} else if (r < R_XMM0) {
		memcpy(&x, in, 4);
		if (r == R_FCTRL)
			c->f.fcw = (uint16_t)x;
		else if (r == R_FCTRL + 1)
			c->f.fsw = (uint16_t)x;
		else if (r == R_FCTRL + 7)
			c->f.last_opcode = (uint16_t)x;
		else if (x != fpu_ctl(&c->f, r - R_FCTRL))
			return -1;
	} else if (r < R_MXCSR) {
		memcpy(c->f.xmm[r - R_XMM0], in, 16);
	} else if (r == R_MXCSR) {
		memcpy(&c->f.mxcsr, in, 4);
	} else {
		memcpy(r == R_FS_BASE ? &c->s.fs.base : &c->s.gs.base, in, 8);
	}
	return 0;
}

static int put_cpu_regs(struct vcpu *v, const struct cpu_regs *c)
{
	if (ioctl(v->fd, KVM_SET_REGS, &c->r) < 0 || ioctl(v->fd, KVM_SET_SREGS, &c->s) < 0 ||
	    ioctl(v->fd, KVM_SET_FPU, &c->f) < 0)
		return -1;
	return 0;
}

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\"><architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"\" start=\"1\" end=\"1\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/><reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/><reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/><reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/><reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/><reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/></feature>\n</target>\n";

/* ---- guest memory by virtual address: KVM_TRANSLATE per page, then gm__ptr ---- */

static int translate(struct gdb *g, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	if (ioctl(g->vm->vcpus[g->gcpu].fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -1;
	*gpa = tr.physical_address;
	return 0;
}

/* Copies up to n bytes at gva into buf (reads) or from buf (writes); stops at the first page
 * that does not translate or is not RAM. Returns the bytes done. */
static size_t mem_access(struct gdb *g, uint64_t gva, uint8_t *buf, size_t n, bool write)
{
	size_t done = 0;

	while (done < n) {
		uint64_t a = gva + done, gpa;
		size_t chunk = PAGE - (a & (PAGE - 1));
		if (chunk > n - done)
			chunk = n - done;
		if (translate(g, a, &gpa))
			break;
		uint8_t *p = gm__ptr(&g->vm->mem, gpa, chunk);
		if (!p)
			break;
		if (write)
			memcpy(p, buf + done, chunk);
		else
			memcpy(buf + done, p, chunk);
		done += chunk;
	}
	return done;
}

/* gdb sees the original bytes under our int3s, and writes there update what is restored. */
static void shadow_sw(struct gdb *g, uint64_t gva, uint8_t *buf, size_t n, bool write)
{
	for (unsigned i = 0; i < g->nsw; i++) {
		struct swbp *b = &g->sw[i];
		if (b->hw_slot >= 0 || b->addr < gva || b->addr - gva >= n)
			continue;
		if (write) {
			b->orig = buf[b->addr - gva];
			buf[b->addr - gva] = INT3;
		} else {
			buf[b->addr - gva] = b->orig;
		}
	}
}

/* ---- breakpoints ---- */

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

static const char *insert_bp(struct gdb *g, int type, uint64_t addr, uint64_t kind)
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
			uint8_t *p;
			if (translate(g, addr, &b->gpa) || !(p = gm__ptr(&g->vm->mem, b->gpa, 1))) {
				r = "E0e";	/* EFAULT */
				goto out;
			}
			b->orig = *p;
			*p = INT3;
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
		uint8_t *p = gm__ptr(&g->vm->mem, b->gpa, 1);
		if (p && *p == INT3)	/* the guest may have rewritten the code since */
			*p = b->orig;
	}
	g->sw[i] = g->sw[--g->nsw];
}

static const char *remove_bp(struct gdb *g, int type, uint64_t addr, uint64_t kind)
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

static void remove_all_bps(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->nsw)
		remove_sw_at(g, g->nsw - 1);
	memset(g->hw, 0, sizeof(g->hw));
	pthread_mutex_unlock(&g->lock);
}

/* ---- the connection ---- */

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_packet(struct gdb *g, const char *payload, size_t len)
{
	g->last_len = gdbpkt__frame(payload, len, g->out, sizeof(g->out));
	if (!g->last_len)
		return -1;
	return send_all(g->conn_fd, g->out, g->last_len);
}

static int send_str(struct gdb *g, const char *s)
{
	return send_packet(g, s, strlen(s));
}

/* The stop reply for the vCPU that stopped (picks one if several did). */
static void make_stop_reply(struct gdb *g, int signal)
{
	int who = -1;
	enum stop_event ev = EV_NONE;
	uint64_t addr = 0;

	pthread_mutex_lock(&g->lock);
	if (g->step_cpu >= 0 && g->cpu[g->step_cpu].ev != EV_NONE)
		who = g->step_cpu;
	for (unsigned i = 0; i < g->vm->ncpus && who < 0; i++)
		if (g->cpu[i].ev != EV_NONE)
			who = (int)i;
	if (who >= 0) {
		ev = g->cpu[who].ev;
		addr = g->cpu[who].ev_addr;
	} else {
		who = g->step_cpu >= 0 ? g->step_cpu : g->gcpu;
	}
	pthread_mutex_unlock(&g->lock);
	g->gcpu = who;
	g->ccpu = who;
	int n = snprintf(g->last_stop, sizeof(g->last_stop), "T%02xthread:%x;",
			 ev == EV_NONE ? signal : 5, TID(who));
	const char *why = ev == EV_SWBP ? "swbreak:;" : ev == EV_HWBP ? "hwbreak:;" : "";
	if (ev == EV_WATCH || ev == EV_AWATCH)
		snprintf(g->last_stop + n, sizeof(g->last_stop) - (size_t)n, "%swatch:%llx;",
			 ev == EV_AWATCH ? "a" : "", (unsigned long long)addr);
	else
		snprintf(g->last_stop + n, sizeof(g->last_stop) - (size_t)n, "%s", why);
}

/* "p" or "-1" or "0" thread ids: -1 all, 0 any. Returns a vCPU index, -1 for all, -2 bad. */
static int parse_tid(struct gdb *g, const char *s, bool allow_all)
{
	uint64_t t;

	if (!strcmp(s, "-1"))
		return allow_all ? -1 : -2;
	if (gdbpkt__parse_hex(&s, &t) || *s)
		return -2;
	if (t == 0)
		return g->gcpu;
	if (t > g->vm->ncpus)
		return -2;
	return (int)t - 1;
}

enum serve_next { KEEP, DETACH, KILL, CLOSE };

static void handle_query(struct gdb *g, const char *p, char *r)
{
	uint64_t off, len;
	const char *rest;

	r[0] = '\0';
	if (!strncmp(p, "qSupported", 10)) {
		snprintf(r, GDBPKT_MAX, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
			 "vContSupported+;QStartNoAckMode+", GDBPKT_MAX);
	} else if (!strcmp(p, "qC")) {
		snprintf(r, GDBPKT_MAX, "QC%x", TID(g->gcpu));
	} else if (!strcmp(p, "qfThreadInfo")) {
		size_t n = 0;
		r[n++] = 'm';
		for (unsigned i = 0; i < g->vm->ncpus; i++)
			n += (size_t)snprintf(r + n, GDBPKT_MAX - n, "%s%x", i ? "," : "", TID(i));
	} else if (!strcmp(p, "qsThreadInfo")) {
		strcpy(r, "l");
	} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
		int c = parse_tid(g, p + 17, false);
		char text[32];
		if (c < 0) {
			strcpy(r, "E01");
			return;
		}
		snprintf(text, sizeof(text), "vCPU %d", c);
		gdbpkt__hex_encode(text, strlen(text), r);
	} else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10)) {
		strcpy(r, "1");
	} else if (!strncmp(p, "qXfer:features:read:", 20)) {
		const char *annex = p + 20, *colon = strchr(annex, ':');
		if (!colon || (size_t)(colon - annex) != 10 || strncmp(annex, "target.xml", 10)) {
			strcpy(r, "E00");
			return;
		}
		if (gdbpkt__parse_addr_len(colon + 1, &off, &len, 0, &rest)) {
			strcpy(r, "E01");
			return;
		}
		size_t total = sizeof(target_xml) - 1;
		if (len > GDBPKT_MAX - 2)
			len = GDBPKT_MAX - 2;
		if (off >= total) {
			strcpy(r, "l");
			return;
		}
		size_t n = total - off < len ? total - off : len;
		r[0] = off + n >= total ? 'l' : 'm';
		memcpy(r + 1, target_xml + off, n);
		r[n + 1] = '\0';
	}
	/* anything else (qTStatus, qOffsets, qSymbol, ...): empty, "not supported" */
}

/* vCont;ACTION[:TID][;ACTION[:TID]]...: returns the vCPU to step, -1 to continue all,
 * -2 if malformed. A step runs only that vCPU; the others stay stopped. */
static int parse_vcont(struct gdb *g, const char *p)
{
	int step = -3;

	while (*p == ';') {
		p++;
		char a = *p++;
		if (a == 'C' || a == 'S') {	/* signals cannot be delivered to a VM: ignored */
			uint64_t sig;
			if (gdbpkt__parse_hex(&p, &sig))
				return -2;
		} else if (a != 'c' && a != 's') {
			return -2;
		}
		int cpu = -1;
		if (*p == ':') {
			char tid[24];
			size_t n = strcspn(++p, ";");
			if (n >= sizeof(tid))
				return -2;
			memcpy(tid, p, n);
			tid[n] = '\0';
			p += n;
			cpu = parse_tid(g, tid, true);
			if (cpu == -2)
				return -2;
		}
		if ((a == 's' || a == 'S') && step == -3)
			step = cpu >= 0 ? cpu : g->ccpu >= 0 ? g->ccpu : g->gcpu;
	}
	if (*p)
		return -2;
	return step == -3 ? -1 : step;
}

/* Handles one packet while the VM is stopped. Sets *resume_step to -1 (continue) or a vCPU
 * (step) when the packet resumes the guest, and returns what to do with the connection. */
static enum serve_next handle_packet(struct gdb *g, const char *p, int *resume_step)
{
	char *r = g->reply;
	struct cpu_regs regs;
	struct vcpu *v = &g->vm->vcpus[g->gcpu];
	uint64_t addr, len;
	const char *rest;

	*resume_step = -2;
	r[0] = '\0';
	switch (p[0]) {
	case '?':
		strcpy(r, g->last_stop);
		break;
	case 'q':
		handle_query(g, p, r);
		break;
	case 'Q':
		if (!strcmp(p, "QStartNoAckMode")) {
			send_str(g, "OK");
			g->noack = true;
			return KEEP;
		}
		break;
	case 'H': {
		int c = parse_tid(g, p + 2, true);
		if ((p[1] != 'g' && p[1] != 'c') || c == -2 || (p[1] == 'g' && c < 0)) {
			strcpy(r, "E01");
			break;
		}
		*(p[1] == 'g' ? &g->gcpu : &g->ccpu) = c;
		strcpy(r, "OK");
		break;
	}
	case 'T':
		strcpy(r, parse_tid(g, p + 1, false) >= 0 ? "OK" : "E01");
		break;
	case 'g':
		if (p[1] || get_cpu_regs(v, &regs)) {
			strcpy(r, "E01");
			break;
		}
		for (unsigned i = 0, o = 0; i < NREGS; i++) {
			uint8_t b[16];
			reg_get(&regs, i, b);
			gdbpkt__hex_encode(b, reg_size(i), r + o);
			o += 2 * reg_size(i);
		}
		break;
	case 'G': {
		const char *h = p + 1;
		unsigned i;
		if (get_cpu_regs(v, &regs)) {
			strcpy(r, "E01");
			break;
		}
		/* a shorter G sets the registers it covers */
		for (i = 0; i < NREGS && strlen(h) >= 2 * reg_size(i); i++) {
			uint8_t b[16], old[16];
			if (gdbpkt__hex_decode(h, reg_size(i), b))
				break;
			reg_get(&regs, i, old);
			if (memcmp(b, old, reg_size(i)) && reg_set(&regs, i, b))
				break;
			h += 2 * reg_size(i);
		}
		strcpy(r, *h || put_cpu_regs(v, &regs) ? "E01" : "OK");
		break;
	}
	case 'p': {
		const char *s = p + 1;
		uint64_t n;
		uint8_t b[16];
		if (gdbpkt__parse_hex(&s, &n) || *s || n >= NREGS || get_cpu_regs(v, &regs)) {
			strcpy(r, "E01");
			break;
		}
		reg_get(&regs, (unsigned)n, b);
		gdbpkt__hex_encode(b, reg_size((unsigned)n), r);
		break;
	}
	case 'P': {
		const char *s = p + 1;
		uint64_t n;
		uint8_t b[16];
		if (gdbpkt__parse_hex(&s, &n) || *s++ != '=' || n >= NREGS ||
		    strlen(s) != 2 * reg_size((unsigned)n) ||
		    gdbpkt__hex_decode(s, reg_size((unsigned)n), b) || get_cpu_regs(v, &regs) ||
		    reg_set(&regs, (unsigned)n, b) || put_cpu_regs(v, &regs))
			strcpy(r, "E01");
		else
			strcpy(r, "OK");
		break;
	}
	case 'm': {
		static uint8_t buf[GDBPKT_MAX / 2];
		if (gdbpkt__parse_addr_len(p + 1, &addr, &len, 0, &rest)) {
			strcpy(r, "E01");
			break;
		}
		if (len > sizeof(buf))
			len = sizeof(buf);
		size_t got = mem_access(g, addr, buf, len, false);
		if (!got && len) {
			strcpy(r, "E0e");
			break;
		}
		pthread_mutex_lock(&g->lock);
		shadow_sw(g, addr, buf, got, false);
		pthread_mutex_unlock(&g->lock);
		gdbpkt__hex_encode(buf, got, r);
		break;
	}
	case 'M': {
		static uint8_t buf[GDBPKT_MAX / 2];
		if (gdbpkt__parse_addr_len(p + 1, &addr, &len, ':', &rest) || len > sizeof(buf) ||
		    strlen(rest) != 2 * len || gdbpkt__hex_decode(rest, len, buf)) {
			strcpy(r, "E01");
			break;
		}
		/* all or nothing: every page must translate to RAM before a byte is written */
		static uint8_t check[GDBPKT_MAX / 2];
		if (mem_access(g, addr, check, len, false) != len) {
			strcpy(r, "E0e");
			break;
		}
		pthread_mutex_lock(&g->lock);
		shadow_sw(g, addr, buf, len, true);
		pthread_mutex_unlock(&g->lock);
		mem_access(g, addr, buf, len, true);
		strcpy(r, "OK");
		break;
	}
	case 'Z':
	case 'z': {
		uint64_t type, kind;
		const char *s = p + 1;
		if (gdbpkt__parse_hex(&s, &type) || *s++ != ',' ||
		    gdbpkt__parse_addr_len(s, &addr, &kind, 0, &rest) || type > 4) {
			strcpy(r, "E01");
			break;
		}
		if (type == 3)
			break;	/* read-only watchpoints: x86 has none; "" = not supported */
		strcpy(r, p[0] == 'Z' ? insert_bp(g, (int)type, addr, kind) :
					remove_bp(g, (int)type, addr, kind));
		break;
	}
	case 'c':
	case 's':
		if (p[1]) {	/* c ADDR / s ADDR: resume at ADDR */
			const char *s = p + 1;
			if (gdbpkt__parse_hex(&s, &addr) || *s || get_cpu_regs(v, &regs)) {
				strcpy(r, "E01");
				break;
			}
			regs.r.rip = addr;
			if (ioctl(v->fd, KVM_SET_REGS, &regs.r) < 0) {
				strcpy(r, "E01");
				break;
			}
		}
		*resume_step = p[0] == 'c' ? -1 : g->ccpu >= 0 ? g->ccpu : g->gcpu;
		return KEEP;
	case 'v':
		if (!strcmp(p, "vCont?")) {
			strcpy(r, "vCont;c;C;s;S");
		} else if (!strncmp(p, "vCont;", 5)) {
			int s = parse_vcont(g, p + 5);
			if (s == -2) {
				strcpy(r, "E01");
				break;
			}
			*resume_step = s;
			return KEEP;
		} else if (!strncmp(p, "vKill", 5)) {
			send_str(g, "OK");
			return KILL;
		}
		break;	/* vMustReplyEmpty, vFile, ...: empty */
	case 'D':
		send_str(g, "OK");
		return DETACH;
	case 'k':
		return KILL;
	default:
		break;	/* not supported: empty reply */
	}
	send_str(g, r);
	return KEEP;
}

/* Serves one gdb connection until it detaches, goes away, kills the VM or the VM stops. */
static enum serve_next serve(struct gdb *g)
{
	bool running = false;
	char in[4096];

	g->noack = false;
	g->last_len = 0;
	gdbpkt__rx_init(&g->rx);
	stop_all(g);
	g->gcpu = 0;
	g->ccpu = -1;
	make_stop_reply(g, 5);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = g->conn_fd, .events = POLLIN },
			{ .fd = g->efd, .events = POLLIN },
			{ .fd = g->vm->stop_efd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return CLOSE;
		}
		if (p[1].revents & POLLIN) {
			uint64_t n;
			if (read(g->efd, &n, sizeof(n)) < 0) {
				/* another wakeup raced us to it: fine */
			}
			pthread_mutex_lock(&g->lock);
			bool shut = g->shutdown, event = running && !g->resumed;
			pthread_mutex_unlock(&g->lock);
			if (shut)
				return CLOSE;
			if (event) {	/* a vCPU stopped at a breakpoint or a step */
				wait_parked(g);
				running = false;
				make_stop_reply(g, 5);
				send_str(g, g->last_stop);
			}
		}
		if (vm__stopping(g->vm)) {
			if (running) {	/* gdb waits for a stop reply: the guest is gone */
				char w[8];
				snprintf(w, sizeof(w), "W%02x", g->vm->exit_status & 0xff);
				send_str(g, w);
			}
			return CLOSE;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = recv(g->conn_fd, in, sizeof(in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return DETACH;	/* gdb went away: the guest goes on */
		for (ssize_t i = 0; i < n; i++) {
			int step;
			enum serve_next next;
			switch (gdbpkt__rx_byte(&g->rx, (uint8_t)in[i])) {
			case GDBPKT_INTERRUPT:
				if (running) {
					stop_all(g);
					running = false;
					make_stop_reply(g, 2);	/* SIGINT */
					send_str(g, g->last_stop);
				}
				break;
			case GDBPKT_NACK:
				if (g->last_len)
					send_all(g->conn_fd, g->out, g->last_len);
				break;
			case GDBPKT_BAD:
				if (!g->noack)
					send_all(g->conn_fd, "-", 1);
				break;
			case GDBPKT_PACKET:
				if (!g->noack)
					send_all(g->conn_fd, "+", 1);
				if (running) {	/* all-stop: only Ctrl-C is expected now */
					send_str(g, "E01");
					break;
				}
				next = handle_packet(g, g->rx.buf, &step);
				if (next != KEEP)
					return next;
				if (step != -2) {
					if (resume(g, step)) {
						send_str(g, "E01");
						break;
					}
					running = true;
				}
				break;
			default:
				break;
			}
		}
	}
}

static void *stub_thread(void *arg)
{
	struct gdb *g = arg;

	seccomp__enter(SECCOMP_KIND_GDB);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = g->listen_fd, .events = POLLIN },
			{ .fd = g->efd, .events = POLLIN },
			{ .fd = g->vm->stop_efd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&g->lock);
		bool shut = g->shutdown;
		pthread_mutex_unlock(&g->lock);
		if (shut || vm__stopping(g->vm))
			break;
		if (p[1].revents & POLLIN) {
			uint64_t n;
			if (read(g->efd, &n, sizeof(n)) < 0) {
				/* a stale wakeup */
			}
		}
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));	/* fails on unix: fine */
		g->conn_fd = fd;
		if (!g->quiet)
			fprintf(stderr, "kvmini: gdb: attached on %s; the VM is stopped\n", g->where);
		enum serve_next next = serve(g);
		if (next == KILL)
			vm__request_stop(g->vm, VM_STOP_USER, 0, "killed from gdb");
		/* detach, kill or a lost connection: no breakpoints left behind, the guest runs.
		 * gdb may have gone while the VM ran: park the vCPUs first (a vCPU ioctl waits for
		 * KVM_RUN to return, which for a halted vCPU may be never) */
		if (!vm__stopping(g->vm))
			stop_all(g);
		remove_all_bps(g);
		if (!vm__stopping(g->vm))
			apply_debug(g, -1);
		close(fd);
		g->conn_fd = -1;
		release_all(g);
		if (!g->quiet && next == DETACH)	/* (a kill says so in the stop message) */
			fprintf(stderr, "kvmini: gdb: detached; the VM runs on\n");
	}
	release_all(g);
	return NULL;
}

/* ---- setup ---- */

int gdb__open(struct vm *vm, const char *spec, bool wait, bool quiet, char *err, size_t errlen)
{
	struct gdb *g;

	if (gdb__check_spec(spec)) {
		snprintf(err, errlen, "--gdb '%s': use tcp:HOST:PORT or unix:PATH", spec);
		return -1;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->cpu = calloc(vm->ncpus, sizeof(*g->cpu)))) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->vm = vm;
	g->listen_fd = g->conn_fd = -1;
	g->quiet = quiet;
	g->wait_first = wait;
	g->step_cpu = -1;
	snprintf(g->where, sizeof(g->where), "%s", spec);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->run_cond, NULL);
	pthread_cond_init(&g->park_cond, NULL);
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((!strncmp(spec, "tcp:", 4) ? listen_tcp : listen_unix)(g, spec, err, errlen))
		goto fail;
	int caps = ioctl(vm->kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	g->dbg_caps = caps > 0 ? (uint32_t)caps : 0;
	/* kvm_pvm fails int3 exits with an emulation error: put Z0 in debug registers there */
	g->sw_as_hw = kvm__host_kind(NULL, NULL) == KVM_HOST_PVM;
	for (unsigned i = 0; i < vm->ncpus; i++)
		g->cpu[i].may_run = !wait;
	g->hold = wait;
	vm->gdb = g;
	if (!quiet)
		fprintf(stderr, "kvmini: gdb: listening on %s%s\n", spec,
			wait ? "; the VM starts when gdb resumes it" : "");
	return 0;
fail:
	if (g->efd >= 0)
		close(g->efd);
	free(g->cpu);
	free(g);
	return -1;
}

int gdb__start(struct vm *vm, char *err, size_t errlen)
{
	struct gdb *g = vm->gdb;
	sigset_t all, old;

	/* the thread takes no signals (it inherits this mask): SIGINT/SIGTERM belong to the
	 * console loop, SIGRTMIN to the vCPUs */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&g->thread, NULL, stub_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (e) {
		snprintf(err, errlen, "cannot start the gdb thread: %s", strerror(e));
		return -1;
	}
	g->thread_started = true;
	pthread_setname_np(g->thread, "gdb");
	return 0;
}

void gdb__close(struct vm *vm)
{
	struct gdb *g = vm->gdb;

	if (!g)
		return;
	if (g->thread_started) {
		pthread_mutex_lock(&g->lock);
		g->shutdown = true;
		pthread_mutex_unlock(&g->lock);
		uint64_t one = 1;
		if (write(g->efd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter is far from full */
		}
		pthread_join(g->thread, NULL);
	}
	release_all(g);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->unix_path[0])
		unlink(g->unix_path);
	close(g->efd);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->run_cond);
	pthread_cond_destroy(&g->park_cond);
	free(g->cpu);
	free(g);
	vm->gdb = NULL;
}
