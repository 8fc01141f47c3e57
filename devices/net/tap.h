/* SPDX-License-Identifier: Apache-2.0 */
/* The backing of virtio-net: a Linux tap device, one queue (fd) per queue pair, with virtio-net headers. */
#ifndef KVMINI_DEVICES_NET_TAP_H
#define KVMINI_DEVICES_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

#define TAP_MAX_QUEUES 8u

struct tap {
	char ifname[IFNAMSIZ];
	unsigned nq;                   /* queues open (fd[0..nq)) */
	int fd[TAP_MAX_QUEUES];        /* nonblocking, close-on-exec */
	bool adopted;                  /* fd=N: the launcher's fd, not opened here */
	unsigned offloads;             /* TUN_F_* this tap accepts (probed at open) */
	int mtu;                       /* the host side's MTU (0: unknown) */
	bool fake;                     /* socket pairs standing in for a tap (unit tests, fuzzing):
	                                * frames only, no tap ioctls */
};

/* Opens the existing tap NAME with `queues` queues (IFF_MULTI_QUEUE when more than one),
 * virtio-net headers of hdr_len bytes on every frame both ways, no offloads yet (they follow
 * what the guest's driver accepts: tap__set_offloads). 0, or -1 with a one-line reason in err:
 * no /dev/net/tun, no such interface, not a tap, made without (or with) multi_queue, no
 * permission, in use. */
int tap__open(struct tap *t, const char *name, unsigned queues, unsigned hdr_len, char *err,
	      size_t errlen);

/* Takes fd N, a tap queue a launcher opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and passed in:
 * checks it is that, sets hdr_len, makes it nonblocking and close-on-exec. One queue. */
int tap__adopt(struct tap *t, int fd, unsigned hdr_len, char *err, size_t errlen);

/* The TUN_F_* offloads the guest's receive side takes (checksums left partial, TSO/UFO
 * segments whole), on every queue; only what the tap accepts (t->offloads). 0 or -errno. */
int tap__set_offloads(struct tap *t, unsigned tun_flags);

void tap__close(struct tap *t);

#endif
