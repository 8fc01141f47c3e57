/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub's packets: queries, registers, memory, breakpoints, resuming; stop replies. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "vmm/gdb_int.h"
#include "vmm/gdb_regs.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define TID(i)       ((i) + 1)	/* gdb thread ids start at 1: vCPU i is thread i+1 */

/* The stop reply for the vCPU that stopped (picks one if several did). */
void gdb_cmd__stop_reply(struct gdb *g, int signal)
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
		size_t total;
		const char *xml = gdb_regs__target_xml(&total);
		if (len > GDBPKT_MAX - 2)
			len = GDBPKT_MAX - 2;
		if (off >= total) {
			strcpy(r, "l");
			return;
		}
		size_t n = total - off < len ? total - off : len;
		r[0] = off + n >= total ? 'l' : 'm';
		memcpy(r + 1, xml + off, n);
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

/* H (which vCPU the next g/G/m/M or c/s is about) and T (is this thread alive). */
static void thread_packet(struct gdb *g, const char *p, char *r)
{
	if (p[0] == 'T') {
		strcpy(r, parse_tid(g, p + 1, false) >= 0 ? "OK" : "E01");
		return;
	}
	int c = parse_tid(g, p + 2, true);
	if ((p[1] != 'g' && p[1] != 'c') || c == -2 || (p[1] == 'g' && c < 0)) {
		strcpy(r, "E01");
		return;
	}
	*(p[1] == 'g' ? &g->gcpu : &g->ccpu) = c;
	strcpy(r, "OK");
}

/* g, G, p, P: the registers of the vCPU gdb chose (Hg), all or one, in the architecture's
 * layout (gdb_regs.h). */
static void reg_packet(struct vcpu *v, const char *p, char *r)
{
	const char *s = p + 1;
	uint64_t n;
	int e;

	switch (p[0]) {
	case 'g':
		e = p[1] ? -1 : gdb_regs__read_hex(v, r);
		break;
	case 'G':
		e = gdb_regs__write_hex(v, p + 1);
		break;
	case 'p':
		e = gdbpkt__parse_hex(&s, &n) || *s || n >= gdb_regs__count() ? -1 :
		    gdb_regs__read_one_hex(v, (unsigned)n, r);
		break;
	default:	/* P */
		e = gdbpkt__parse_hex(&s, &n) || *s++ != '=' || n >= gdb_regs__count() ? -1 :
		    gdb_regs__write_one_hex(v, (unsigned)n, s);
		break;
	}
	if (e)
		strcpy(r, "E01");
	else if (p[0] == 'G' || p[0] == 'P')
		strcpy(r, "OK");
}

/* m, M: guest memory by virtual address, as the vCPU gdb chose sees it; breakpoints' int3s
 * are hidden from reads and kept under writes. */
static void mem_packet(struct gdb *g, struct vcpu *v, const char *p, char *r)
{
	static uint8_t buf[GDBPKT_MAX / 2], check[GDBPKT_MAX / 2];
	uint64_t addr, len;
	const char *rest;

	if (p[0] == 'm') {
		if (gdbpkt__parse_addr_len(p + 1, &addr, &len, 0, &rest)) {
			strcpy(r, "E01");
			return;
		}
		if (len > sizeof(buf))
			len = sizeof(buf);
		size_t got = vcpu__access_virt(v, addr, buf, len, false);
		if (!got && len) {
			strcpy(r, "E0e");
			return;
		}
		gdb_bp__shadow(g, addr, buf, got, false);
		gdbpkt__hex_encode(buf, got, r);
		return;
	}
	if (gdbpkt__parse_addr_len(p + 1, &addr, &len, ':', &rest) || len > sizeof(buf) ||
	    strlen(rest) != 2 * len || gdbpkt__hex_decode(rest, len, buf)) {
		strcpy(r, "E01");
		return;
	}
	/* all or nothing: every page must translate to RAM before a byte is written */
	if (vcpu__access_virt(v, addr, check, len, false) != len) {
		strcpy(r, "E0e");
		return;
	}
	gdb_bp__shadow(g, addr, buf, len, true);
	vcpu__access_virt(v, addr, buf, len, true);
	strcpy(r, "OK");
}

/* Z, z: insert or remove a breakpoint or watchpoint. */
static void bp_packet(struct gdb *g, const char *p, char *r)
{
	uint64_t type, kind, addr;
	const char *s = p + 1, *rest;

	if (gdbpkt__parse_hex(&s, &type) || *s++ != ',' ||
	    gdbpkt__parse_addr_len(s, &addr, &kind, 0, &rest) || type > 4) {
		strcpy(r, "E01");
		return;
	}
	if (type == 3)
		return;	/* read-only watchpoints: x86 has none; "" = not supported */
	strcpy(r, p[0] == 'Z' ? gdb_bp__insert(g, (int)type, addr, kind) :
				gdb_bp__remove(g, (int)type, addr, kind));
}

/* c, s [ADDR]: 0 and *resume_step set (continue: -1, step: a vCPU), or -1 with E01 in r. */
static int resume_packet(struct gdb *g, struct vcpu *v, const char *p, char *r,
			 int *resume_step)
{
	if (p[1]) {	/* c ADDR / s ADDR: resume at ADDR */
		const char *s = p + 1;
		uint64_t addr;
		if (gdbpkt__parse_hex(&s, &addr) || *s || gdb_regs__set_pc(v, addr)) {
			strcpy(r, "E01");
			return -1;
		}
	}
	*resume_step = p[0] == 'c' ? -1 : g->ccpu >= 0 ? g->ccpu : g->gcpu;
	return 0;
}

/* vCont?, vCont;..., vKill; any other v packet gets the empty reply. */
static enum serve_next v_packet(struct gdb *g, const char *p, char *r, int *resume_step)
{
	if (!strcmp(p, "vCont?")) {
		strcpy(r, "vCont;c;C;s;S");
	} else if (!strncmp(p, "vCont;", 5)) {
		int s = parse_vcont(g, p + 5);
		if (s != -2) {
			*resume_step = s;
			return KEEP;
		}
		strcpy(r, "E01");
	} else if (!strncmp(p, "vKill", 5)) {
		gdb__send_str(g, "OK");
		return KILL;
	}
	gdb__send_str(g, r);	/* vMustReplyEmpty, vFile, ...: empty */
	return KEEP;
}

/* Handles one packet while the VM is stopped. Sets *resume_step to -1 (continue) or a vCPU
 * (step) when the packet resumes the guest, and returns what to do with the connection. */
enum serve_next gdb_cmd__handle(struct gdb *g, const char *p, int *resume_step)
{
	char *r = g->reply;
	struct vcpu *v = &g->vm->vcpus[g->gcpu];

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
			gdb__send_str(g, "OK");
			g->noack = true;
			return KEEP;
		}
		break;
	case 'H':
	case 'T':
		thread_packet(g, p, r);
		break;
	case 'g':
	case 'G':
	case 'p':
	case 'P':
		reg_packet(v, p, r);
		break;
	case 'm':
	case 'M':
		mem_packet(g, v, p, r);
		break;
	case 'Z':
	case 'z':
		bp_packet(g, p, r);
		break;
	case 'c':
	case 's':
		if (resume_packet(g, v, p, r, resume_step) == 0)
			return KEEP;
		break;
	case 'v':
		return v_packet(g, p, r, resume_step);
	case 'D':
		gdb__send_str(g, "OK");
		return DETACH;
	case 'k':
		return KILL;
	default:
		break;	/* not supported: empty reply */
	}
	gdb__send_str(g, r);
	return KEEP;
}
