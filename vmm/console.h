/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of the guest console: stdin into the UART, raw terminal mode, Ctrl-A x. */
#ifndef KVMINI_VMM_CONSOLE_H
#define KVMINI_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct serial;
struct vm;

enum console_mode { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE };   /* --console */

struct console {
	int in_fd;           /* -1: no input */
	int out_fd;          /* where the UART writes; -1 discards */
	bool own_out;        /* out_fd was opened by us (file=) */
	bool tty;            /* in_fd is a terminal: raw mode and the Ctrl-A escape apply */
	bool escape;         /* saw Ctrl-A */
	uint8_t pending[512];
	size_t npending;
	void (*on_stats)(void *ctx); /* SIGUSR2: print exit stats (NULL: --exit-stats is off) */
	void *stats_ctx;
	/* the first SIGTERM: press the guest's power button (0), or -1 when the board has none
	 * (NULL: SIGTERM stops at once); the guest gets term_timeout seconds to power off */
	int (*on_term)(void *ctx);
	void *term_ctx;
	unsigned term_timeout;
	struct timespec term_deadline; /* CLOCK_MONOTONIC; tv_sec 0: no graceful stop going on */
};

/* Opens the console for a mode. 0, or -1 with a reason in err. */
int console__open(struct console *c, enum console_mode mode, const char *path,
		  char *err, size_t errlen);
void console__close(struct console *c);
/* Puts a terminal stdin into raw mode; it is restored by console__restore, at exit and on
 * fatal signals. */
void console__raw(struct console *c);
void console__restore(void);
/* Feeds host input to the UART until the VM stops; SIGINT/SIGTERM/SIGHUP/SIGQUIT stop it,
 * SIGUSR2 calls on_stats without stopping. */
void console__loop(struct console *c, struct serial *uart, struct vm *vm);
/* The escape filter, exposed for tests: turns input bytes into guest bytes in out (at most
 * 2 per input byte); returns how many, and sets *quit on Ctrl-A x. */
size_t console__filter(struct console *c, const uint8_t *in, size_t n, uint8_t *out, bool *quit);

#endif
