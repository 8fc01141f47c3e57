/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of the guest console: stdin into the UART, raw terminal mode, Ctrl-A x, signals. */
#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/serial.h"
#include "vmm/vm.h"

#define CTRL_A 0x01

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

void console__restore(void)
{
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
		termios_saved = 0;
	}
}

/* Installed with SA_RESETHAND: the signal's default action is back already, and no
 * rt_sigaction is needed (seccomp allows none after setup). */
static void fatal_signal(int sig)
{
	console__restore();
	raise(sig);
}

int console__open(struct console *c, enum console_mode mode, const char *path,
		  char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = c->out_fd = -1;
	switch (mode) {
	case CONSOLE_STDIO:
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		c->tty = isatty(STDIN_FILENO);
		if (fcntl(STDIN_FILENO, F_GETFL) < 0)
			c->in_fd = -1;	/* stdin closed: output only */
		break;
	case CONSOLE_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			snprintf(err, errlen, "--console file=%s: %s", path, strerror(errno));
			return -1;
		}
		c->own_out = true;
		break;
	case CONSOLE_NONE:
		break;
	}
	return 0;
}

void console__close(struct console *c)
{
	console__restore();
	if (c->own_out && c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = c->in_fd = -1;
}

void console__raw(struct console *c)
{
	struct termios t;

	if (!c->tty || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	termios_saved = 1;
	atexit(console__restore);
	int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	struct sigaction sa = { .sa_handler = fatal_signal, .sa_flags = SA_RESETHAND | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	t = saved_termios;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;	/* our own messages still get \r\n */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

size_t console__filter(struct console *c, const uint8_t *in, size_t n, uint8_t *out, bool *quit)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		if (!c->tty) {
			out[o++] = b;	/* a pipe passes through untouched */
		} else if (c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				*quit = true;
				return o;
			}
			if (b != CTRL_A)
				out[o++] = CTRL_A;
			out[o++] = b;	/* Ctrl-A Ctrl-A sends one Ctrl-A */
		} else if (b == CTRL_A) {
			c->escape = true;
		} else {
			out[o++] = b;
		}
	}
	return o;
}

static void read_input(struct console *c, struct vm *vm)
{
	uint8_t buf[sizeof(c->pending) / 2];
	bool quit = false;
	ssize_t n = read(c->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->in_fd = -1;	/* EOF or error: the guest keeps running without input */
		return;
	}
	c->npending = console__filter(c, buf, (size_t)n, c->pending, &quit);
	if (quit)
		vm__request_stop(vm, VM_STOP_USER, 0, "quit (Ctrl-A x)");
}

/* the first SIGTERM with a power button and a timeout: the guest is asked to power off */
static bool graceful_term(struct console *c)
{
	if (!c->on_term || !c->term_timeout || c->term_deadline.tv_sec || c->on_term(c->term_ctx))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &c->term_deadline);
	c->term_deadline.tv_sec += c->term_timeout;
	fprintf(stderr, "kvmini: SIGTERM: pressed the guest's power button; waiting up to %u s for "
		"it to power off (SIGTERM again or SIGINT: stop now)\n", c->term_timeout);
	return true;
}

/* ms until the graceful stop's deadline (0: passed), or -1 when none is going on */
static int term_ms_left(const struct console *c)
{
	struct timespec now;

	if (!c->term_deadline.tv_sec)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (c->term_deadline.tv_sec - now.tv_sec) * 1000LL +
		       (c->term_deadline.tv_nsec - now.tv_nsec) / 1000000LL;
	return ms <= 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

static void on_signal(struct console *c, struct vm *vm, int sig)
{
	if (sig == SIGTERM && graceful_term(c))
		return;
	if (sig != SIGUSR1 && sig != SIGUSR2) {
		vm__request_stop(vm, VM_STOP_USER, 128 + sig, "stopped by signal %s", strsignal(sig));
		return;
	}
	if (c->on_stats)
		c->on_stats(c->stats_ctx);
	else
		fprintf(stderr, "kvmini: %s: exit stats are off (run with --exit-stats)\n",
			sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
}

void console__loop(struct console *c, struct serial *uart, struct vm *vm)
{
	sigset_t sigs;
	int sfd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGUSR1);	/* exit stats on demand (SIGRTMIN kicks vCPUs) */
	sigaddset(&sigs, SIGUSR2);	/* the same, kept for scripts that use it */
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	while (!vm__stopping(vm)) {
		struct pollfd p[3] = {
			{ .fd = vm->stop_efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = c->npending ? -1 : c->in_fd, .events = POLLIN },
		};
		/* input waiting for room in the UART's buffer: retry soon; a graceful stop going
		 * on: look at its deadline */
		int left = term_ms_left(c);
		if (left == 0) {
			vm__request_stop(vm, VM_STOP_USER, 128 + SIGTERM, "stopped by signal %s: "
					 "the guest did not power off within %u s of its power button",
					 strsignal(SIGTERM), c->term_timeout);
			break;
		}
		int r = poll(p, 3, c->npending ? 5 : left);
		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				on_signal(c, vm, (int)si.ssi_signo);
		}
		if (c->npending) {
			size_t took = serial__rx(uart, c->pending, c->npending);
			memmove(c->pending, c->pending + took, c->npending - took);
			c->npending -= took;
		} else if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			read_input(c, vm);
		}
	}
	if (sfd >= 0)
		close(sfd);
}
