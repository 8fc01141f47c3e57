/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a tap for virtio-net: by name (one fd per queue) or a launcher's fd; headers, offloads, clear errors. */
#include "devices/net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

/* What sysfs says of interface name's file f (tun_flags, mtu): the number, or -1 */
static long sysfs_num(const char *name, const char *f)
{
	char path[96], buf[32];
	long v = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, f);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return -1;
	if (fgets(buf, sizeof(buf), fp))
		v = strtol(buf, NULL, 0);
	fclose(fp);
	return v;
}

/* Before TUNSETIFF, which would make a new tap of a name that does not exist: what the name
 * is. 0, or -1 with err. */
static int check_name(const char *name, unsigned queues, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		snprintf(err, errlen, "--net tap='%s': not an interface name (1 to %d bytes, no '/')",
			 name, IFNAMSIZ - 1);
		return -1;
	}
	if (!if_nametoindex(name)) {
		snprintf(err, errlen, "--net tap=%s: no such interface (make it first: ip tuntap add "
			 "%s mode tap%s [user USER])", name, name, queues > 1 ? " multi_queue" : "");
		return -1;
	}
	long flags = sysfs_num(name, "tun_flags");
	if (flags < 0 || !(flags & IFF_TAP)) {
		snprintf(err, errlen, "--net tap=%s: %s, not a tap", name,
			 flags < 0 ? "an interface of another kind" : "a tun (layer 3) device");
		return -1;
	}
	if (!(flags & IFF_MULTI_QUEUE) != (queues == 1)) {
		snprintf(err, errlen, "--net tap=%s: queues=%u needs a tap made %s multi_queue", name,
			 queues, queues > 1 ? "with" : "without");
		return -1;
	}
	return 0;
}

/* The offloads this tap takes, one at a time (TSO needs CSUM); left at none. */
static unsigned probe_offloads(int fd)
{
	static const unsigned each[] = { TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO };
	unsigned ok = 0;

	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0) {
		ok = TUN_F_CSUM;
		for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
			unsigned f = TUN_F_CSUM | each[i] |
				     (each[i] == TUN_F_TSO_ECN ? TUN_F_TSO4 : 0);
			if (ioctl(fd, TUNSETOFFLOAD, f) == 0)
				ok |= each[i];
		}
	}
	ioctl(fd, TUNSETOFFLOAD, 0);
	return ok;
}

static int set_hdr(int fd, unsigned hdr_len)
{
	int len = (int)hdr_len;

	return ioctl(fd, TUNSETVNETHDRSZ, &len);
}

/* One more queue of tap name. 0, or -1 with err. */
static int open_queue(struct tap *t, const char *name, unsigned queues, unsigned hdr_len,
		      char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "--net tap=%s: /dev/net/tun: %s%s", name, strerror(errno),
			 errno == ENOENT ? " (modprobe tun)" : "");
		return -1;
	}
	if (queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int e = errno;
		snprintf(err, errlen, "--net tap=%s: %s", name,
			 e == EPERM ? "not permitted (it belongs to another user: ip tuntap add ... "
				      "user USER, or run with CAP_NET_ADMIN)" :
			 e == EBUSY ? "in use by another process" : strerror(e));
		close(fd);
		return -1;
	}
	t->fd[t->nq++] = fd;
	if (set_hdr(fd, hdr_len)) {
		snprintf(err, errlen, "--net tap=%s: TUNSETVNETHDRSZ: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int tap__open(struct tap *t, const char *name, unsigned queues, unsigned hdr_len, char *err,
	      size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (queues == 0 || queues > TAP_MAX_QUEUES) {
		snprintf(err, errlen, "--net: queues must be 1 to %u", TAP_MAX_QUEUES);
		return -1;
	}
	if (check_name(name, queues, err, errlen))
		return -1;
	snprintf(t->ifname, sizeof(t->ifname), "%s", name);
	for (unsigned i = 0; i < queues; i++)
		if (open_queue(t, name, queues, hdr_len, err, errlen)) {
			tap__close(t);
			return -1;
		}
	t->offloads = probe_offloads(t->fd[0]);
	long mtu = sysfs_num(name, "mtu");
	t->mtu = mtu > 0 && mtu < 65536 ? (int)mtu : 0;
	return 0;
}

int tap__adopt(struct tap *t, int fd, unsigned hdr_len, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };

	memset(t, 0, sizeof(*t));
	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "--net fd=%d: not an open file descriptor", fd);
		return -1;
	}
	if (ioctl(fd, TUNGETIFF, &ifr)) {
		snprintf(err, errlen, "--net fd=%d: not a tap (TUNGETIFF: %s)", fd, strerror(errno));
		return -1;
	}
	unsigned need = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (((unsigned)ifr.ifr_flags & need) != need || ((unsigned)ifr.ifr_flags & IFF_TUN)) {
		snprintf(err, errlen, "--net fd=%d: tap %.*s was opened without IFF_TAP, IFF_NO_PI "
			 "and IFF_VNET_HDR", fd, IFNAMSIZ, ifr.ifr_name);
		return -1;
	}
	if (set_hdr(fd, hdr_len) || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		snprintf(err, errlen, "--net fd=%d: %s", fd, strerror(errno));
		return -1;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
	t->fd[0] = fd;
	t->nq = 1;
	t->adopted = true;
	t->offloads = probe_offloads(fd);
	long mtu = sysfs_num(t->ifname, "mtu");
	t->mtu = mtu > 0 && mtu < 65536 ? (int)mtu : 0;
	return 0;
}

int tap__set_offloads(struct tap *t, unsigned tun_flags)
{
	if (t->fake)
		return 0;
	tun_flags &= t->offloads;
	if (!(tun_flags & TUN_F_CSUM))
		tun_flags = 0;	/* segmentation offloads need checksum offload */
	for (unsigned i = 0; i < t->nq; i++)
		if (ioctl(t->fd[i], TUNSETOFFLOAD, tun_flags))
			return -errno;
	return 0;
}

void tap__close(struct tap *t)
{
	for (unsigned i = 0; i < t->nq; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	t->nq = 0;
}
