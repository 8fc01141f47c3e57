/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock (virtio 1.2 5.10) on vhost-vsock: kvmini claims the CID, hands the rx and tx queues to the host kernel, relays its interrupts; the event queue stays with kvmini. */
#include "virtio/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "vmm/launcher.h"
#include "vmm/seccomp.h"

/* the feature bits vhost-vsock takes part in */
#define VSOCK_VHOST_BITS ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
			  (1ULL << VIRTIO_RING_F_INDIRECT_DESC))

static void driver_error(struct vsock_dev *d, const char *what)
{
	pthread_mutex_lock(&d->lock);
	virtio_core__driver_error(&d->errors, &d->reports, "virtio-vsock", what);
	pthread_mutex_unlock(&d->lock);
}

static void stop(struct vsock_dev *d)
{
	int off = 0;

	if (d->stop_fd >= 0)
		eventfd_write(d->stop_fd, 1);
	vhost__relay_stop(&d->relay);
	if (d->running)
		ioctl(d->vhost_fd, VHOST_VSOCK_SET_RUNNING, &off);
	d->running = false;
	ioctl(d->vhost_fd, VHOST_RESET_OWNER);	/* forgets rings and memory; the CID stays */
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	d->stop_fd = -1;
}

/* On the launcher thread: rx and tx to vhost-vsock, running, the relay */
static int activate_on_launcher(void *arg)
{
	struct vsock_dev *d = ((void **)arg)[0];
	struct virtio_dev *v = ((void **)arg)[1];
	int on = 1, e;

	if (!v->vq_ready[0] || !v->vq_ready[1])
		return -EINVAL;
	e = vhost__setup(d->vhost_fd, v->features & VSOCK_VHOST_BITS, d->mem);
	for (unsigned k = 0; k < 2 && !e; k++)
		e = vhost__set_vring(d->vhost_fd, k, &v->vq[k], v->kick_fd[k], d->call[k]);
	if (!e && ioctl(d->vhost_fd, VHOST_VSOCK_SET_RUNNING, &on))
		e = -errno;
	d->running = !e;
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!e && d->stop_fd < 0)
		e = -ENOMEM;
	if (!e) {
		d->relay = (struct vhost_relay){ .v = v, .n = 2, .call = { d->call[0], d->call[1] },
			.qi = { 0, 1 }, .stop_fd = d->stop_fd, .extra_fd = -1, .name = "virtio-vsock",
			.seccomp_kind = SECCOMP_KIND_NET };
		e = vhost__relay_start(&d->relay);
	}
	if (e) {
		char why[96];
		snprintf(why, sizeof(why), "vhost-vsock setup: %s", strerror(-e));
		driver_error(d, why);
		stop(d);
	}
	return e;
}

static int vsock_activate(void *priv, struct virtio_dev *vdev)
{
	void *args[2] = { priv, vdev };

	return launcher__call(activate_on_launcher, args);
}

static int reset_on_launcher(void *priv)
{
	stop(priv);
	return 0;
}

static void vsock_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

static uint64_t vsock_features(void *priv)
{
	const struct vsock_dev *d = priv;

	return (1ULL << VIRTIO_F_VERSION_1) | (d->vhost_features & VSOCK_VHOST_BITS);
}

static void vsock_config_read(void *priv, uint32_t off, void *data, uint32_t len)
{
	const struct vsock_dev *d = priv;

	memcpy(data, (const uint8_t *)&d->config + off, len);	/* the transport bounds-checked */
}

static void vsock_config_write(void *priv, uint32_t off, const void *data, uint32_t len)
{
	(void)off;
	(void)data;
	(void)len;
	driver_error(priv, "a write to the read-only configuration");
}

const struct virtio_dev_ops vsock_dev_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = vsock_features,
	.config_size = sizeof(struct virtio_vsock_config),
	.config_read = vsock_config_read,
	.config_write = vsock_config_write,
	.activate = vsock_activate,
	.reset = vsock_reset,
};

/* ---- the VMM's side ---- */

static int open_vhost(struct vsock_dev *d, char *err, size_t errlen)
{
	uint64_t cid = d->opts.cid;

	d->vhost_fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (d->vhost_fd < 0) {
		snprintf(err, errlen, "--vsock: /dev/vhost-vsock: %s%s", strerror(errno),
			 errno == ENOENT ? " (modprobe vhost_vsock)" : "");
		return -1;
	}
	if (ioctl(d->vhost_fd, VHOST_GET_FEATURES, &d->vhost_features)) {
		snprintf(err, errlen, "--vsock: VHOST_GET_FEATURES: %s", strerror(errno));
		return -1;
	}
	if (ioctl(d->vhost_fd, VHOST_VSOCK_SET_GUEST_CID, &cid)) {
		snprintf(err, errlen, "--vsock cid=%llu: %s", (unsigned long long)cid,
			 errno == EADDRINUSE ? "in use by another VM" : strerror(errno));
		return -1;
	}
	return 0;
}

int vsock__init(struct vsock_dev *d, const struct vsock_opts *o, const struct guest_mem *mem,
		char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->opts = *o;
	d->mem = mem;
	d->stop_fd = d->call[0] = d->call[1] = -1;
	d->config.guest_cid = o->cid;	/* little-endian, as the host */
	pthread_mutex_init(&d->lock, NULL);
	if (open_vhost(d, err, errlen)) {
		vsock__free(d);
		return -1;
	}
	for (unsigned k = 0; k < 2; k++)
		if ((d->call[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			snprintf(err, errlen, "--vsock: eventfd: %s", strerror(errno));
			vsock__free(d);
			return -1;
		}
	return 0;
}

void vsock__free(struct vsock_dev *d)
{
	if (d->vhost_fd >= 0)
		close(d->vhost_fd);	/* releases the CID */
	d->vhost_fd = -1;
	for (unsigned k = 0; k < 2; k++)
		if (d->call[k] >= 0)
			close(d->call[k]);
	d->call[0] = d->call[1] = -1;
	pthread_mutex_destroy(&d->lock);
}
