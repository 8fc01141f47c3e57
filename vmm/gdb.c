/* SPDX-License-Identifier: Apache-2.0 */
/* The gdb stub: the listening socket, the stub thread serving one gdb connection, setup. */
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
#include <unistd.h>
#include <linux/kvm.h>

#include "devices/thread.h"
#include "vmm/gdb_int.h"
#include "vmm/gdb_packet.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

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

int gdb__send_str(struct gdb *g, const char *s)
{
	return send_packet(g, s, strlen(s));
}

/* The stub's eventfd fired: CLOSE on shutdown; while the guest runs, a vCPU that stopped at a
 * breakpoint or a step stops the rest and gdb gets the stop reply. */
static enum serve_next on_wakeup(struct gdb *g, bool *running)
{
	uint64_t n;

	if (read(g->efd, &n, sizeof(n)) < 0) {
		/* another wakeup raced us to it: fine */
	}
	pthread_mutex_lock(&g->lock);
	bool shut = g->shutdown, event = *running && !g->resumed;
	pthread_mutex_unlock(&g->lock);
	if (shut)
		return CLOSE;
	if (event) {
		gdb_run__wait_parked(g);
		*running = false;
		gdb_cmd__stop_reply(g, 5);
		gdb__send_str(g, g->last_stop);
	}
	return KEEP;
}

/* One complete packet from gdb: acked, answered, and the guest resumed if it says so. */
static enum serve_next on_packet(struct gdb *g, bool *running)
{
	int step;

	if (!g->noack)
		send_all(g->conn_fd, "+", 1);
	if (*running) {	/* all-stop: only Ctrl-C is expected now */
		gdb__send_str(g, "E01");
		return KEEP;
	}
	enum serve_next next = gdb_cmd__handle(g, g->rx.buf, &step);
	if (next != KEEP || step == -2)
		return next;
	if (gdb_run__resume(g, step))
		gdb__send_str(g, "E01");
	else
		*running = true;
	return KEEP;
}

/* Bytes from gdb, through the framing: Ctrl-C, acks, packets. KEEP, or what ends the session. */
static enum serve_next on_input(struct gdb *g, const char *in, ssize_t n, bool *running)
{
	for (ssize_t i = 0; i < n; i++) {
		enum serve_next next;
		switch (gdbpkt__rx_byte(&g->rx, (uint8_t)in[i])) {
		case GDBPKT_INTERRUPT:
			if (*running) {
				gdb_run__stop_all(g);
				*running = false;
				gdb_cmd__stop_reply(g, 2);	/* SIGINT */
				gdb__send_str(g, g->last_stop);
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
			if ((next = on_packet(g, running)) != KEEP)
				return next;
			break;
		default:
			break;
		}
	}
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
	gdb_run__stop_all(g);
	g->gcpu = 0;
	g->ccpu = -1;
	gdb_cmd__stop_reply(g, 5);
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
		/* the VM's end first: gdb__close's wakeup may come with it, and gdb is owed its W */
		if (vm__stopping(g->vm)) {
			if (running) {	/* gdb waits for a stop reply: the guest is gone */
				char w[8];
				snprintf(w, sizeof(w), "W%02x", g->vm->exit_status & 0xff);
				gdb__send_str(g, w);
			}
			return CLOSE;
		}
		if ((p[1].revents & POLLIN) && on_wakeup(g, &running) == CLOSE)
			return CLOSE;
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = recv(g->conn_fd, in, sizeof(in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return DETACH;	/* gdb went away: the guest goes on */
		enum serve_next next = on_input(g, in, n, &running);
		if (next != KEEP)
			return next;
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
			gdb_run__stop_all(g);
		gdb_bp__remove_all(g);
		if (!vm__stopping(g->vm))
			gdb_bp__apply(g, -1);
		close(fd);
		g->conn_fd = -1;
		gdb_run__release_all(g);
		if (!g->quiet && next == DETACH)	/* (a kill says so in the stop message) */
			fprintf(stderr, "kvmini: gdb: detached; the VM runs on\n");
	}
	gdb_run__release_all(g);
	return NULL;
}

/* ---- setup ---- */

struct gdb *gdb__listen(const char *spec, unsigned ncpus, bool wait, bool quiet, char *err,
			size_t errlen)
{
	struct gdb *g;

	if (gdb__check_spec(spec)) {
		snprintf(err, errlen, "--gdb '%s': use tcp:HOST:PORT or unix:PATH", spec);
		return NULL;
	}
	if (gdb_arch__unsupported()) {
		snprintf(err, errlen, "--gdb: %s", gdb_arch__unsupported());
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->cpu = calloc(ncpus ? ncpus : 1, sizeof(*g->cpu)))) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
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
		gdb__free(g);
		return NULL;
	}
	if ((!strncmp(spec, "tcp:", 4) ? listen_tcp : listen_unix)(g, spec, err, errlen)) {
		gdb__free(g);
		return NULL;
	}
	for (unsigned i = 0; i < ncpus; i++)
		g->cpu[i].may_run = !wait;
	g->hold = wait;
	return g;
}

void gdb__attach(struct gdb *g, struct vm *vm)
{
	int caps = ioctl(vm->kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);

	g->vm = vm;
	g->dbg_caps = caps > 0 ? (uint32_t)caps : 0;
	/* kvm_pvm fails int3 exits with an emulation error: put Z0 in debug registers there */
	g->sw_as_hw = kvm__host_kind(NULL, NULL) == KVM_HOST_PVM;
	vm->gdb = g;
	if (!g->quiet)
		fprintf(stderr, "kvmini: gdb: listening on %s%s\n", g->where,
			g->wait_first ? "; the VM starts when gdb resumes it" : "");
}

int gdb__open(struct vm *vm, const char *spec, bool wait, bool quiet, char *err, size_t errlen)
{
	struct gdb *g = gdb__listen(spec, vm->ncpus, wait, quiet, err, errlen);

	if (!g)
		return -1;
	gdb__attach(g, vm);
	return 0;
}

int gdb__start(struct vm *vm, char *err, size_t errlen)
{
	struct gdb *g = vm->gdb;
	/* the thread takes no signals: SIGINT/SIGTERM belong to the console loop, SIGRTMIN to
	 * the vCPUs */
	int e = thread__create(&g->thread, 0, true, stub_thread, g);

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
	gdb_run__release_all(g);
	gdb__free(g);
	vm->gdb = NULL;
}

void gdb__free(struct gdb *g)
{
	if (!g)
		return;
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->unix_path[0])
		unlink(g->unix_path);
	if (g->efd >= 0)
		close(g->efd);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->run_cond);
	pthread_cond_destroy(&g->park_cond);
	free(g->cpu);
	free(g);
}
