/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp mechanics: compiling each thread kind's allow-list once, entering it, naming a block. */
#include "vmm/seccomp.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "vmm/seccomp_rules.h"

#define NAMES 512          /* syscall numbers named in the SIGSYS message */
#define NAME_LEN 24

static const char *const kind_names[SECCOMP_KIND_COUNT] = {
	[SECCOMP_KIND_MAIN] = "main",
	[SECCOMP_KIND_VCPU] = "vCPU",
	[SECCOMP_KIND_BLK] = "virtio-blk I/O",
	[SECCOMP_KIND_LAUNCHER] = "launcher",
	[SECCOMP_KIND_TRACE] = "trace-writer",
	[SECCOMP_KIND_GDB] = "gdb",
	[SECCOMP_KIND_API] = "api",
	[SECCOMP_KIND_BALLOON] = "balloon",
	[SECCOMP_KIND_RNG] = "rng",
	[SECCOMP_KIND_NET] = "virtio-net I/O",
	[SECCOMP_KIND_VSOCK] = "virtio-vsock",
};

static struct {
	enum seccomp_setting setting;
	void (*on_fatal)(void);
	struct sock_fprog prog[SECCOMP_KIND_COUNT];
	char names[NAMES][NAME_LEN];    /* filled before any filter: the handler only reads */
} sc;

static __thread int this_kind = -1;

int seccomp__parse(const char *s, enum seccomp_setting *out)
{
	static const char *const names[] = { "off", "log", "on" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum seccomp_setting)i;
			return 0;
		}
	}
	return -1;
}

const char *seccomp__kind_name(enum seccomp_kind kind)
{
	return (unsigned)kind < SECCOMP_KIND_COUNT ? kind_names[kind] : "?";
}

size_t seccomp__filter_len(enum seccomp_kind kind)
{
	return (unsigned)kind < SECCOMP_KIND_COUNT ? sc.prog[kind].len : 0;
}

/* ---- the SIGSYS handler (SECCOMP_RET_TRAP): async-signal-safe, then the process ends ---- */

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, unsigned long long v, unsigned base)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = "0123456789abcdef"[v % base];
	while ((v /= base) && n < (int)sizeof(tmp));
	while (n && at < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	char msg[256];
	size_t n = 0, cap = sizeof(msg) - 1;
	int nr = si->si_syscall;

	(void)sig;
	n = put(msg, n, cap, "\r\nkvmini: seccomp: blocked syscall ");
	n = put(msg, n, cap, nr >= 0 && nr < NAMES && sc.names[nr][0] ? sc.names[nr] : "?");
	n = put(msg, n, cap, " (");
	n = put_num(msg, n, cap, (unsigned)nr, 10);
	n = put(msg, n, cap, ")");
	if (nr == SYS_ioctl) {	/* which request: the second argument */
		n = put(msg, n, cap, " request 0x");
		n = put_num(msg, n, cap, seccomp_arch__arg(uc_, 1), 16);
	}
	n = put(msg, n, cap, " in ");
	n = put(msg, n, cap, this_kind >= 0 ? kind_names[this_kind] :
		"a new (still under its creator's filter)");
	n = put(msg, n, cap, " thread (--seccomp=log lists every missing syscall: "
		"docs/debugging.md)\n");
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nowhere left to say it */
	}
	if (sc.on_fatal)
		sc.on_fatal();
	syscall(SYS_exit_group, 1);	/* not _exit: a sanitizer's _exit would do more syscalls */
}

/* ---- compiling the filters ---- */

static int add_rules(scmp_filter_ctx ctx, const struct seccomp_ruleset *set,
		     const struct seccomp_config *cfg, char *err, size_t errlen)
{
	unsigned on = (cfg->stats_file ? SECCOMP_IF_STATS_FILE : 0) |
		      (cfg->gdb_unix ? SECCOMP_IF_GDB_UNIX : 0) |
		      (cfg->vsock_unix ? SECCOMP_IF_VSOCK_UNIX : 0);

	for (size_t i = 0; i < set->n; i++) {
		const struct seccomp_rule *r = &set->rules[i];
		struct scmp_arg_cmp arg[2];

		if (r->when && !(r->when & on))
			continue;
		for (unsigned a = 0; a < r->nargs; a++) {
			arg[a] = r->arg[a];
			if (arg[a].op == SCMP_CMP_EQ && arg[a].datum_a == SECCOMP_ARG_PID)
				arg[a].datum_a = (scmp_datum_t)getpid();
		}
		int e = seccomp_rule_add_array(ctx, r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) :
					       SCMP_ACT_ALLOW, r->nr, r->nargs, arg);
		if (e && e != -EEXIST) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
			snprintf(err, errlen, "seccomp: rule %zu of the %s set (%s): %s", i, set->name,
				 name ? name : "?", strerror(-e));
			free(name);
			return -1;
		}
	}
	return 0;
}

/* libseccomp 2.5 exports BPF only to a file descriptor: through a memfd into memory. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, char *err, size_t errlen)
{
	int fd = memfd_create("kvmini-seccomp", MFD_CLOEXEC);
	int e;

	if (fd < 0) {
		snprintf(err, errlen, "seccomp: memfd_create: %s", strerror(errno));
		return -1;
	}
	e = seccomp_export_bpf(ctx, fd);
	off_t len = lseek(fd, 0, SEEK_END);
	if (e || len <= 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		snprintf(err, errlen, "seccomp: cannot export the filter: %s",
			 strerror(e ? -e : EINVAL));
		close(fd);
		return -1;
	}
	struct sock_filter *f = malloc((size_t)len);
	if (!f || pread(fd, f, (size_t)len, 0) != len) {
		snprintf(err, errlen, "seccomp: cannot read the exported filter back");
		free(f);
		close(fd);
		return -1;
	}
	close(fd);
	prog->filter = f;
	prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

static int compile(enum seccomp_kind kind, const struct seccomp_config *cfg, char *err,
		   size_t errlen)
{
	uint32_t def = cfg->setting == SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx = seccomp_init(def);
	int r = -1;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -1;
	}
	for (int i = 0; i < SECCOMP_MAX_SETS && seccomp_kind_sets[kind][i]; i++)
		if (add_rules(ctx, seccomp_kind_sets[kind][i], cfg, err, errlen))
			goto out;
	r = export_bpf(ctx, &sc.prog[kind], err, errlen);
out:
	seccomp_release(ctx);
	return r;
}

int seccomp__prepare(const struct seccomp_config *cfg, char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	sc.setting = cfg->setting;
	sc.on_fatal = cfg->on_fatal;
	if (cfg->setting == SECCOMP_OFF)
		return 0;
	if (seccomp_api_get() < (cfg->setting == SECCOMP_LOG ? 3u : 1u)) {
		snprintf(err, errlen, "seccomp: this kernel has no seccomp filters%s (run with "
			 "--seccomp=off)", cfg->setting == SECCOMP_LOG ? " with SECCOMP_RET_LOG" : "");
		return -1;
	}
	for (int nr = 0; nr < NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name)
			snprintf(sc.names[nr], NAME_LEN, "%s", name);
		free(name);
	}
	for (int k = 0; k < SECCOMP_KIND_COUNT; k++) {
		free(sc.prog[k].filter);
		sc.prog[k] = (struct sock_fprog){ 0 };
		if (compile((enum seccomp_kind)k, cfg, err, errlen))
			return -1;
	}
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		snprintf(err, errlen, "seccomp: sigaction(SIGSYS): %s", strerror(errno));
		return -1;
	}
	return 0;
}

void seccomp__enter(enum seccomp_kind kind)
{
	if (sc.setting == SECCOMP_OFF || (unsigned)kind >= SECCOMP_KIND_COUNT ||
	    !sc.prog[kind].filter)
		return;
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);	/* a blocked SIGSYS would kill without the message */
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	this_kind = (int)kind;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sc.prog[kind])) {
		fprintf(stderr, "kvmini: error: seccomp: cannot enter the %s thread's filter: %s\n",
			kind_names[kind], strerror(errno));
		if (sc.on_fatal)
			sc.on_fatal();
		_exit(1);
	}
}
