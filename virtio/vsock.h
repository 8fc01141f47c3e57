/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock through the host kernel's vhost-vsock: a guest CID, stream sockets to and from the host. */
#ifndef KVMINI_VIRTIO_VSOCK_H
#define KVMINI_VIRTIO_VSOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_vsock.h>

#include "virtio/core.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"

#define VSOCK_QUEUE_MAX 256u         /* QueueNumMax we offer (rx, tx, event) */
#define VSOCK_CID_MIN 3u             /* 0-2 are the hypervisor's, the local and the host's */
#define VSOCK_CID_MAX 0xfffffffeu    /* U32_MAX is VMADDR_CID_ANY */

/* --vsock, parsed */
struct vsock_opts {
	bool on;
	uint64_t cid;                    /* the guest's context id */
	char socket[108];                /* hybrid vsock: the host end's Unix socket ("": vhost) */
};

/* Parses "cid=N[,socket=PATH]" (N: 3 .. 2^32-2; PATH short enough for "PATH_<port>" to be a
 * Unix socket's name). 0, or -1 with a one-line reason. */
int vsock__parse_opts(const char *spec, struct vsock_opts *o, char *err, size_t errlen);

struct vsock_dev {
	struct vsock_opts opts;
	const struct guest_mem *mem;
	int vhost_fd;                    /* /dev/vhost-vsock */
	uint64_t vhost_features;
	int call[2];                     /* vhost's interrupts for rx and tx */
	int stop_fd;
	bool running;                    /* VHOST_VSOCK_SET_RUNNING 1 */
	struct virtio_vsock_config config;
	struct vhost_relay relay;
	pthread_mutex_t lock;
	uint64_t errors;
	struct virtio_report reports;
};

extern const struct virtio_dev_ops vsock_dev_ops;

/* Opens /dev/vhost-vsock and claims the CID (setup: a CID in use is the user's error). 0, or
 * -1 with err (nothing left to free). */
int vsock__init(struct vsock_dev *d, const struct vsock_opts *o, const struct guest_mem *mem,
		char *err, size_t errlen);
void vsock__free(struct vsock_dev *d);

#endif
