/* SPDX-License-Identifier: Apache-2.0 */
/* --api-socket: the Unix socket, libmicrohttpd in external epoll mode on kvmini's "api" thread, each request to the router. */
#include "vmm/api.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#include <microhttpd.h>

#include "devices/thread.h"
#include "vmm/seccomp.h"

#define API_POLL_MAX_MS 500	/* MHD re-arms its listen socket only in MHD_run: run it often */

extern int api__notls_linked;	/* vmm/mhd_notls.c: pulled into every link that has this file */

struct api {
	struct MHD_Daemon *d;
	int listen_fd;          /* until the daemon has it (it closes it when it stops) */
	int epoll_fd;           /* the daemon's */
	int efd;                /* eventfd: the thread stops */
	struct api_backend b;
	pthread_t thread;
	bool started, stopped;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* What one request has sent of its body so far (kept up to API_BODY_MAX: vm.resize's JSON). */
struct api_req {
	size_t body_len;
	bool too_big;
	char body[API_BODY_MAX];
};

/* ---- the socket ---- */

/* An existing path: a stale socket is removed; anything else is refused. 0 or -1 (err). */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "--api-socket '%s': %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--api-socket '%s': exists and is not a socket", path);
		return -1;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = probe < 0 ? -1 : connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	if (probe >= 0)
		close(probe);
	if (r == 0 || e != ECONNREFUSED) {
		snprintf(err, errlen, "--api-socket '%s': %s", path, r == 0 ?
			 "another process is listening there" : strerror(e));
		return -1;
	}
	if (unlink(path)) {	/* its kvmini is gone: a stale socket */
		snprintf(err, errlen, "--api-socket '%s': cannot remove the stale socket: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The listening socket at path, mode 0600 before anyone can connect; -1 with err. */
static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--api-socket '%s': %s", path, *path ? "path too long (at most "
			 "107 bytes)" : "needs a path");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (clear_stale(path, &sa, err, errlen))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "--api-socket '%s': cannot listen: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* nobody connects before listen(): the mode is set first */
	if (chmod(path, 0600) || listen(fd, 64)) {
		snprintf(err, errlen, "--api-socket '%s': cannot listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* ---- requests ---- */

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *r)
{
	struct MHD_Response *resp = r->body
		? MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_FREE)
		: MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	if (!resp) {
		free(r->body);
		return MHD_NO;	/* MHD closes the connection */
	}
	if (r->body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The first call, after the headers: a Content-Length over the limit is answered at once. */
static enum MHD_Result begin(struct api *a, struct MHD_Connection *c, const char *url,
			     const char *method, void **con_cls)
{
	struct api_req *q = calloc(1, sizeof(*q));

	if (!q)
		return MHD_NO;
	*con_cls = q;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
		struct api_reply r = api_route(&a->b, method, url, NULL, 0, true);
		return send_reply(c, &r);
	}
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *q = *con_cls;

	(void)version;
	if (!q)
		return begin(a, c, url, method, con_cls);
	if (*size) {	/* a piece of the body: kept while it fits, else only counted */
		if (*size > API_BODY_MAX - q->body_len || q->too_big) {
			q->too_big = true;
		} else {
			memcpy(q->body + q->body_len, data, *size);
			q->body_len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	struct api_reply r = api_route(&a->b, method, url, q->body_len ? q->body : NULL,
				       q->body_len, q->too_big);
	return send_reply(c, &r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

/* ---- setup, the thread, the end ---- */

struct api *api__listen(const char *path, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->efd = -1;
	a->listen_fd = listen_unix(path, err, errlen);
	if (a->listen_fd < 0) {
		free(a);
		return NULL;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* external epoll mode: MHD starts no thread; MHD_run on ours does all its work */
	a->d = a->efd < 0 ? NULL : MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK,
		0, NULL, NULL, handle, a,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)a->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONNECTION_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, completed, a,
		MHD_OPTION_END);
	const union MHD_DaemonInfo *info = a->d ? MHD_get_daemon_info(a->d,
						MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		snprintf(err, errlen, "--api-socket '%s': cannot start the HTTP server", path);
		api__close(a);
		return NULL;
	}
	a->listen_fd = -1;	/* the daemon's now */
	a->epoll_fd = info->epoll_fd;
	api__notls_linked = 1;
	return a;
}

void api__set_backend(struct api *a, const struct api_backend *b)
{
	a->b = *b;
}

static void *api_thread(void *arg)
{
	struct api *a = arg;

	seccomp__enter(SECCOMP_KIND_API);
	for (;;) {
		MHD_UNSIGNED_LONG_LONG to;
		int ms = API_POLL_MAX_MS;
		if (MHD_get_timeout(a->d, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)ms)
			ms = (int)to;
		struct pollfd p[2] = { { .fd = a->epoll_fd, .events = POLLIN },
				       { .fd = a->efd, .events = POLLIN } };
		if (poll(p, 2, ms) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		MHD_run(a->d);	/* always: also what timed out, and the listen socket re-armed */
	}
	/* here, under this thread's filter: closes every connection and the listen socket */
	MHD_stop_daemon(a->d);
	a->d = NULL;
	unlink(a->path);
	return NULL;
}

int api__start(struct api *a, char *err, size_t errlen)
{
	/* no signals: SIGINT/SIGTERM are the console loop's, SIGRTMIN the vCPUs' */
	int e = thread__create(&a->thread, 0, true, api_thread, a);

	if (e) {
		snprintf(err, errlen, "cannot start the API thread: %s", strerror(e));
		return -1;
	}
	a->started = true;
	pthread_setname_np(a->thread, "api");
	return 0;
}

void api__stop(struct api *a)
{
	if (!a || a->stopped)
		return;
	a->stopped = true;
	if (a->started) {
		uint64_t one = 1;
		if (write(a->efd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter is far from full */
		}
		pthread_join(a->thread, NULL);
		return;
	}
	if (a->d)	/* the thread never ran */
		MHD_stop_daemon(a->d);
	a->d = NULL;
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	a->listen_fd = -1;
	unlink(a->path);
}

void api__close(struct api *a)
{
	if (!a)
		return;
	api__stop(a);
	if (a->efd >= 0)
		close(a->efd);
	free(a);
}
