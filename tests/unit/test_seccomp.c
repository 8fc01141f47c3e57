/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp allow-lists: forked children enter a thread kind's filter and try what it forbids. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "tests/lib/ck.h"
#include "vmm/cli.h"
#include "vmm/seccomp.h"

enum attempt { TRY_SOCKET, TRY_EXECVE, TRY_IOCTL, TRY_FORK, TRY_THREAD, TRY_ALLOWED };

/* The child's end: exit_group itself, as kvmini's SIGSYS handler does (a sanitizer's _exit
 * would check for leaks first, with syscalls no filter allows). */
static void __attribute__((noreturn)) quit(int status)
{
	syscall(SYS_exit_group, status);
	_exit(status);
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* In a child: prepare with `setting`, enter `kind`, try one thing, exit 0 if it returned. */
static void child(enum seccomp_setting setting, enum seccomp_kind kind, enum attempt what)
{
	struct seccomp_config cfg = { .setting = setting };
	char err[256];
	int efd = eventfd(0, 0);
	uint64_t one = 1;

	if (seccomp__prepare(&cfg, err, sizeof(err))) {
		fprintf(stderr, "prepare: %s\n", err);
		quit(3);
	}
	if (what == TRY_THREAD) {	/* as in kvmini, whose first thread comes before any filter:
					 * glibc's one-time thread setup (rt_sigaction) is done */
		pthread_t t;
		if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
			quit(5);
	}
	seccomp__enter(kind);
	switch (what) {
	case TRY_SOCKET:
		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			quit(4);
		break;
	case TRY_EXECVE:
		execl("/bin/true", "true", (char *)NULL);
		quit(4);
	case TRY_IOCTL:
		ioctl(efd, KVM_CREATE_VM, 0);	/* the filter answers before the fd type matters */
		break;
	case TRY_FORK: {
		pid_t p = fork();
		if (p == 0)
			quit(0);
		break;
	}
	case TRY_THREAD: {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
			quit(4);
		break;
	}
	case TRY_ALLOWED:	/* what every kind does: eventfd signals, memory, time */
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			quit(4);
		free(malloc(1 << 20));
		break;
	}
	quit(0);
}

/* Runs child() in a fork with stderr into a pipe: its exit status and what it said. */
static int run_child(enum seccomp_setting setting, enum seccomp_kind kind, enum attempt what,
		     char *out, size_t outlen)
{
	int pfd[2], st;

	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		child(setting, kind, what);
		quit(0);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t r;
	while (n < outlen - 1 && (r = read(pfd[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* needle with each "%s" replaced in turn by "NAME (NR)" for this architecture's syscalls */
static const char *sys(char *buf, size_t len, const char *fmt, const char *name, long nr)
{
	char one[64];

	snprintf(one, sizeof(one), "%s (%ld)", name, nr);
	snprintf(buf, len, fmt, one);
	return buf;
}

static void expect_blocked(enum seccomp_kind kind, enum attempt what, const char *needle)
{
	char out[512];
	int st = run_child(SECCOMP_ON, kind, what, out, sizeof(out));

	ck_assert_msg(st == 1, "status %d, want 1 (blocked): %s", st, out);
	ck_assert_msg(strstr(out, needle), "want '%s' in: %s", needle, out);
	ck_assert_msg(strstr(out, "--seccomp=log"), "no hint in: %s", out);
}

static void expect_allowed(enum seccomp_setting setting, enum seccomp_kind kind, enum attempt what)
{
	char out[512];
	int st = run_child(setting, kind, what, out, sizeof(out));

	ck_assert_msg(st == 0, "status %d, want 0 (allowed): %s", st, out);
	ck_assert_msg(!strstr(out, "seccomp"), "unexpected: %s", out);
}

START_TEST(parse_setting)
{
	enum seccomp_setting s;

	ck_assert_int_eq(seccomp__parse("on", &s), 0);
	ck_assert_int_eq(s, SECCOMP_ON);
	ck_assert_int_eq(seccomp__parse("log", &s), 0);
	ck_assert_int_eq(s, SECCOMP_LOG);
	ck_assert_int_eq(seccomp__parse("off", &s), 0);
	ck_assert_int_eq(s, SECCOMP_OFF);
	ck_assert_int_eq(seccomp__parse("", &s), -1);
	ck_assert_int_eq(seccomp__parse("ON", &s), -1);
	ck_assert_int_eq(seccomp__parse("kill", &s), -1);
}
END_TEST

START_TEST(cli_option)
{
	struct run_config cfg;
	char err[256];

	ck_assert_int_eq(cli__parse_run(1, (char *[]){ "run", NULL }, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.seccomp, SECCOMP_ON);	/* default on */
	ck_assert_int_eq(cli__parse_run(2, (char *[]){ "run", "--seccomp=log", NULL }, &cfg, err,
					sizeof(err)), 0);
	ck_assert_int_eq(cfg.seccomp, SECCOMP_LOG);
	ck_assert_int_eq(cli__parse_run(3, (char *[]){ "run", "--seccomp", "off", NULL }, &cfg, err,
					sizeof(err)), 0);
	ck_assert_int_eq(cfg.seccomp, SECCOMP_OFF);
	ck_assert_int_eq(cli__parse_run(2, (char *[]){ "run", "--seccomp=strict", NULL }, &cfg, err,
					sizeof(err)), -1);
	ck_assert_str_eq(err, "--seccomp 'strict': use on, log or off");
}
END_TEST

START_TEST(every_kind_compiles)
{
	char out[512];

	/* prepared in a child: the runner itself stays unfiltered and without NO_NEW_PRIVS */
	for (int k = 0; k < SECCOMP_KIND_COUNT; k++) {
		for (enum seccomp_setting set = SECCOMP_LOG; set <= SECCOMP_ON; set++) {
			int st = run_child(set, (enum seccomp_kind)k, TRY_ALLOWED, out, sizeof(out));
			ck_assert_msg(st == 0, "%s: status %d: %s",
				      seccomp__kind_name((enum seccomp_kind)k), st, out);
		}
	}
	ck_assert_str_eq(seccomp__kind_name(SECCOMP_KIND_VCPU), "vCPU");
	ck_assert_uint_eq(seccomp__filter_len(SECCOMP_KIND_VCPU), 0);	/* not prepared here */
}
END_TEST

START_TEST(vcpu_thread_cannot_open_a_socket)
{
	char b[160];

	expect_blocked(SECCOMP_KIND_VCPU, TRY_SOCKET,
		       sys(b, sizeof(b), "kvmini: seccomp: blocked syscall %s in vCPU thread", "socket", SYS_socket));
	expect_blocked(SECCOMP_KIND_MAIN, TRY_SOCKET, sys(b, sizeof(b), "blocked syscall %s in main thread", "socket", SYS_socket));
}
END_TEST

START_TEST(no_thread_can_exec)
{
	char b[160];

	expect_blocked(SECCOMP_KIND_VCPU, TRY_EXECVE, sys(b, sizeof(b), "blocked syscall %s in vCPU thread", "execve", SYS_execve));
	expect_blocked(SECCOMP_KIND_BLK, TRY_EXECVE,
		       sys(b, sizeof(b), "blocked syscall %s in virtio-blk I/O thread", "execve", SYS_execve));
	expect_blocked(SECCOMP_KIND_GDB, TRY_EXECVE, sys(b, sizeof(b), "blocked syscall %s in gdb thread", "execve", SYS_execve));
	expect_blocked(SECCOMP_KIND_API, TRY_EXECVE, sys(b, sizeof(b), "blocked syscall %s in api thread", "execve", SYS_execve));
	expect_blocked(SECCOMP_KIND_TRACE, TRY_EXECVE,
		       sys(b, sizeof(b), "blocked syscall %s in trace-writer thread", "execve", SYS_execve));
	expect_blocked(SECCOMP_KIND_LAUNCHER, TRY_EXECVE,
		       sys(b, sizeof(b), "blocked syscall %s in launcher thread", "execve", SYS_execve));
}
END_TEST

START_TEST(ioctl_is_checked_by_request)
{
	char want[128];

	snprintf(want, sizeof(want), "blocked syscall ioctl (%ld) request 0x%lx in vCPU thread",
		 (long)SYS_ioctl, (unsigned long)KVM_CREATE_VM);
	expect_blocked(SECCOMP_KIND_VCPU, TRY_IOCTL, want);
}
END_TEST

START_TEST(only_the_launcher_makes_threads_and_never_processes)
{
	char b[160];

	expect_allowed(SECCOMP_ON, SECCOMP_KIND_LAUNCHER, TRY_THREAD);
	expect_blocked(SECCOMP_KIND_LAUNCHER, TRY_FORK, sys(b, sizeof(b), "blocked syscall %s in launcher", "clone", SYS_clone));
	/* glibc blocks every signal around clone: the SIGSYS cannot be handled, so the kernel
	 * kills the process outright (the audit log still names the syscall) */
	char out[512];
	ck_assert_int_eq(run_child(SECCOMP_ON, SECCOMP_KIND_VCPU, TRY_THREAD, out, sizeof(out)),
			 -SIGSYS);
	expect_blocked(SECCOMP_KIND_BLK, TRY_FORK, sys(b, sizeof(b), "blocked syscall %s in virtio-blk", "clone", SYS_clone));
}
END_TEST

START_TEST(log_and_off_do_not_block)
{
	expect_allowed(SECCOMP_LOG, SECCOMP_KIND_VCPU, TRY_SOCKET);	/* the kernel logs it */
	expect_allowed(SECCOMP_OFF, SECCOMP_KIND_VCPU, TRY_SOCKET);
	expect_allowed(SECCOMP_OFF, SECCOMP_KIND_VCPU, TRY_FORK);
}
END_TEST

Suite *seccomp_suite(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("filters");

	tcase_add_test(tc, parse_setting);
	tcase_add_test(tc, cli_option);
	tcase_add_test(tc, every_kind_compiles);
	tcase_add_test(tc, vcpu_thread_cannot_open_a_socket);
	tcase_add_test(tc, no_thread_can_exec);
	tcase_add_test(tc, ioctl_is_checked_by_request);
	tcase_add_test(tc, only_the_launcher_makes_threads_and_never_processes);
	tcase_add_test(tc, log_and_off_do_not_block);
	suite_add_tcase(s, tc);
	return s;
}
