/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid vsock's setup and teardown: the listening Unix socket (a stale one replaced), the epoll set, the chains. */
#include "virtio/vsock_hy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Something at path: a socket nobody listens on is removed (a VMM that died left it);
 * anything else is the user's to remove. 0, or -1 with err. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (lstat(path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--vsock socket=%s: exists and is not a socket", path);
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--vsock: socket: %s", strerror(errno));
		return -1;
	}
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(fd);
	if (!r || e != ECONNREFUSED) {
		snprintf(err, errlen, "--vsock socket=%s: %s", path,
			 !r ? "in use (another VM listens on it)" : strerror(e));
		return -1;
	}
	unlink(path);
	return 0;
}

static int listen_on(struct vsock_hy *h, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (clear_stale(h->path, err, errlen))
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", h->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "--vsock socket=%s: %s", h->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	h->listen_fd = fd;	/* ours from here: removed at the end */
	if (listen(fd, 64)) {
		snprintf(err, errlen, "--vsock socket=%s: listen: %s", h->path, strerror(errno));
		return -1;
	}
	return 0;
}

int vsock_hy__init(struct vsock_hy *h, const struct vsock_opts *o, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->cid = o->cid;
	snprintf(h->path, sizeof(h->path), "%s", o->socket);
	h->listen_fd = h->stop_fd = -1;
	h->next_port = VSOCK_HY_PORT_BASE;
	for (unsigned i = 0; i < VSOCK_HY_MAX_CONNS; i++)
		h->conns[i] = (struct vsock_hy_conn){ .state = HY_FREE, .fd = -1 };
	pthread_mutex_init(&h->lock, NULL);
	h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	h->chain = malloc(sizeof(*h->chain));
	h->txc = malloc(sizeof(*h->txc));
	if (h->epoll_fd < 0 || !h->chain || !h->txc) {
		snprintf(err, errlen, "--vsock: %s", strerror(errno ? errno : ENOMEM));
		vsock_hy__free(h);
		return -1;
	}
	if (listen_on(h, err, errlen)) {
		vsock_hy__free(h);
		return -1;
	}
	return 0;
}

void vsock_hy__free(struct vsock_hy *h)
{
	if (h->listen_fd >= 0) {
		close(h->listen_fd);
		unlink(h->path);
	}
	h->listen_fd = -1;
	if (h->epoll_fd >= 0)
		close(h->epoll_fd);
	h->epoll_fd = -1;
	free(h->chain);
	free(h->txc);
	h->chain = h->txc = NULL;
	pthread_mutex_destroy(&h->lock);
}
