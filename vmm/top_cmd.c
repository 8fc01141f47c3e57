/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini top SOCKET`: polls a running kvmini's --api-socket and redraws its view every interval, or prints one snapshot. */
#include "vmm/top_cmd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmm/ctl_cmd.h"
#include "vmm/top.h"

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum fetch { FETCH_OK, FETCH_GONE, FETCH_BAD };

/* GET PATH: the body of a 2xx reply in *body (inside *reply, to free), or its status in *st.
 * FETCH_GONE when nothing answers (no socket, a reset, a reply cut short). */
static enum fetch get(const char *sock, const char *path, char **reply, const char **body,
		      size_t *n, unsigned *st, char *err, size_t errlen)
{
	size_t len;

	if (ctl__request(sock, "GET", path, NULL, reply, &len, err, errlen))
		return FETCH_GONE;
	if (ctl__parse_response(*reply, len, st, body, n)) {
		snprintf(err, errlen, "%s: %s: not an HTTP answer", sock, path);
		return FETCH_GONE;	/* kvmini ended mid-reply */
	}
	return FETCH_OK;
}

/* One parsed GET into s through fn; a 409 from vm.exit-stats is "no --exit-stats". */
static enum fetch get_into(const char *sock, const char *path, struct top_snap *s,
			   int (*fn)(struct top_snap *, const char *, size_t), char *err,
			   size_t errlen)
{
	char *reply = NULL;
	const char *body;
	size_t n;
	unsigned st;
	enum fetch r = get(sock, path, &reply, &body, &n, &st, err, errlen);

	if (r == FETCH_OK && fn == top__parse_stats && st == 409) {
		s->stats = false;
	} else if (r == FETCH_OK && (st < 200 || st > 299)) {
		snprintf(err, errlen, "%s: GET %s: HTTP %u", sock, path, st);
		r = FETCH_BAD;
	} else if (r == FETCH_OK && fn(s, body, n)) {
		snprintf(err, errlen, "%s: GET %s: not the JSON docs/api.md gives", sock, path);
		r = FETCH_BAD;
	}
	free(reply);
	return r;
}

static enum fetch poll_vm(const char *sock, struct top_snap *s, char *err, size_t errlen)
{
	enum fetch r;

	s->stats = s->mem = false;
	s->nreason = s->nsite = 0;
	s->t = now_s();
	r = get_into(sock, "vm.counters", s, top__parse_counters, err, errlen);
	if (r == FETCH_OK)
		r = get_into(sock, "vm.info", s, top__parse_info, err, errlen);
	if (r == FETCH_OK)
		r = get_into(sock, "vm.memory", s, top__parse_memory, err, errlen);
	if (r == FETCH_OK)
		r = get_into(sock, "vm.exit-stats", s, top__parse_stats, err, errlen);
	return r;
}

/* ---- the terminal ---- */

static struct termios saved_tio;
static bool tio_saved;

static void term_enter(void)
{
	struct termios t;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		t = saved_tio;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);	/* keys unechoed; Ctrl-C still a signal */
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		tio_saved = !tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	fputs("\033[?25l\033[H\033[2J", stdout);	/* hide the cursor, clear */
	fflush(stdout);
}

static void term_leave(void)
{
	fputs("\033[?25h\n", stdout);	/* the cursor back, below the last view */
	fflush(stdout);
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

static void term_size(struct top_view *v)
{
	struct winsize ws;

	v->cols = TOP_COLS;
	v->rows = TOP_ROWS;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		v->cols = ws.ws_col < TOP_COLS ? ws.ws_col : TOP_COLS;
		v->rows = ws.ws_row;
	}
}

/* The view from home, each line cleared to its end, the rest of the screen cleared; no
 * newline after the last line, so a full screen does not scroll. */
static void draw(top_line *l, unsigned n)
{
	fputs("\033[H", stdout);
	for (unsigned i = 0; i < n; i++)
		printf("%s\033[K%s", l[i], i + 1 < n ? "\n" : "");
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* Waits the interval; false when it should end (a signal, q typed). */
static bool wait_interval(double secs)
{
	double end = now_s() + secs;
	struct pollfd p = { .fd = tio_saved ? STDIN_FILENO : -1, .events = POLLIN };

	while (!stop_sig) {
		double left = end - now_s();
		if (left <= 0)
			return true;
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		char c;
		if (r > 0 && (p.revents & POLLIN) && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q'))
			return false;
		if (r > 0 && !(p.revents & POLLIN))
			p.fd = -1;	/* stdin closed: just wait */
	}
	return false;
}

/* ---- the command ---- */

struct top_args {
	const char *sock;
	double interval;
	bool once;
};

static int usage(const char *why)
{
	fprintf(stderr, "kvmini: error: %s (usage: kvmini top SOCKET [--interval SECONDS] "
		"[--once])\n", why);
	return 2;
}

/* 0, 1 (--help printed), or 2 (bad usage, said) */
static int parse_args(int argc, char **argv, struct top_args *a)
{
	*a = (struct top_args){ .interval = 1.0 };
	for (int i = 1; i < argc; i++) {
		char *end;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: kvmini top SOCKET [--interval SECONDS] [--once]\n"
			       "  a live view of a running kvmini's --api-socket SOCKET (docs/api.md):\n"
			       "  exits/s per vCPU, disk IOPS and MB/s; with kvmini --exit-stats, exits\n"
			       "  by reason and device with handling times. q or Ctrl-C ends it.\n"
			       "  --interval: seconds between polls (default 1, 0.1 to 3600)\n"
			       "  --once: one snapshot (two polls an interval apart), as when stdout\n"
			       "          is not a terminal\n");
			return 1;
		} else if (!strcmp(argv[i], "--once")) {
			a->once = true;
		} else if (!strcmp(argv[i], "--interval")) {
			if (i + 1 >= argc)
				return usage("--interval needs SECONDS");
			a->interval = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !(a->interval >= 0.1 && a->interval <= 3600))
				return usage("--interval: SECONDS from 0.1 to 3600");
		} else if (argv[i][0] == '-' || a->sock) {
			char why[96];
			snprintf(why, sizeof(why), "unexpected argument '%.40s'", argv[i]);
			return usage(why);
		} else {
			a->sock = argv[i];
		}
	}
	return a->sock ? 0 : usage("a socket is needed");
}

static int gone(const struct top_args *a, const char *err)
{
	(void)err;	/* which syscall said so matters less than that it is gone */
	printf("kvmini top: %s is gone: the VM has ended\n", a->sock);
	return 0;
}

/* Two polls an interval apart, one view on stdout. */
static int once(const struct top_args *a, struct top_snap *s, double t0)
{
	static top_line lines[TOP_MAXROWS];
	char err[400];
	struct top_view v = { .sock = a->sock, .interval = a->interval };

	term_size(&v);
	if (!wait_interval(a->interval))
		return 0;
	enum fetch r = poll_vm(a->sock, &s[1], err, sizeof(err));
	if (r == FETCH_GONE && !stop_sig)
		return gone(a, err);
	if (r != FETCH_OK) {
		if (!stop_sig)
			fprintf(stderr, "kvmini: error: %s\n", err);
		return stop_sig ? 0 : 1;
	}
	v.up_s = now_s() - t0;
	unsigned n = top__render(&s[0], &s[1], &v, lines);
	for (unsigned i = 0; i < n; i++)
		printf("%s\n", lines[i]);
	return fflush(stdout) ? 1 : 0;
}

/* Redraws every interval until a signal, q, or the VM's end. */
static int live(const struct top_args *a, struct top_snap *s, double t0)
{
	static top_line lines[TOP_MAXROWS];
	char err[400];
	int cur = 0;
	bool first = true;

	term_enter();
	for (;;) {
		struct top_view v = { .sock = a->sock, .interval = a->interval, .up_s = now_s() - t0 };
		term_size(&v);
		draw(lines, top__render(first ? NULL : &s[!cur], &s[cur], &v, lines));
		if (!wait_interval(a->interval))
			break;
		enum fetch r = poll_vm(a->sock, &s[!cur], err, sizeof(err));
		if (stop_sig)
			break;
		if (r != FETCH_OK) {
			term_leave();
			if (r == FETCH_GONE)
				return gone(a, err);
			fprintf(stderr, "kvmini: error: %s\n", err);
			return 1;
		}
		cur = !cur;
		first = false;
	}
	term_leave();
	return 0;
}

int top__main(int argc, char **argv)
{
	static struct top_snap s[2];	/* large: not on the stack */
	struct top_args a;
	char err[400];
	int r = parse_args(argc, argv, &a);

	if (r)
		return r == 1 ? 0 : r;
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART: waits end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	double t0 = now_s();
	if (poll_vm(a.sock, &s[0], err, sizeof(err)) != FETCH_OK) {
		if (stop_sig)
			return 0;
		fprintf(stderr, "kvmini: error: %s\n", err);
		return 1;
	}
	if (a.once || !isatty(STDOUT_FILENO))
		return once(&a, s, t0);
	return live(&a, s, t0);
}
