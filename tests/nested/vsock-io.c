/* SPDX-License-Identifier: Apache-2.0 */
/* Guest-side vsock test tool: connect to CID:PORT or listen on PORT, then copy stdin to the socket and the socket to stdout. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

/* usage: vsock-io connect CID PORT | vsock-io listen PORT   (static; the nested vsock case) */

static int open_socket(int argc, char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	if (argc == 4 && !strcmp(argv[1], "connect")) {
		a.svm_cid = (unsigned)strtoul(argv[2], NULL, 10);
		a.svm_port = (unsigned)strtoul(argv[3], NULL, 10);
		return connect(s, (struct sockaddr *)&a, sizeof(a)) ? -1 : s;
	}
	if (argc == 3 && !strcmp(argv[1], "listen")) {
		a.svm_cid = VMADDR_CID_ANY;
		a.svm_port = (unsigned)strtoul(argv[2], NULL, 10);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
			return -1;
		fprintf(stderr, "vsock-io: listening on port %u\n", a.svm_port);
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		close(s);
		return c;
	}
	errno = EINVAL;
	return -1;
}

/* one read from `from` written whole to `to`: bytes moved, 0 at EOF, -1 on error */
static ssize_t pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0)
			return -1;
		off += w;
	}
	return n;
}

int main(int argc, char **argv)
{
	int s = open_socket(argc, argv);
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = -1, .events = POLLIN } };

	if (s < 0) {
		fprintf(stderr, "vsock-io: %s (usage: vsock-io connect CID PORT | listen PORT)\n",
			strerror(errno));
		return 1;
	}
	p[1].fd = s;
	while (p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			ssize_t n = pump(0, s);
			if (n < 0)
				return 1;
			if (n == 0) {	/* stdin ended: the peer sees EOF, its answer may follow */
				shutdown(s, SHUT_WR);
				p[0].fd = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = pump(s, 1);
			if (n < 0)
				return 1;
			if (n == 0)
				p[1].fd = -1;
		}
	}
	return 0;
}
