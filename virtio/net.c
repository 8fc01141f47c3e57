/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net (virtio 1.2 5.1) over a tap: features, configuration, starting and stopping the queue pairs' threads. */
#include "virtio/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "devices/thread.h"
#include "vmm/launcher.h"

void net__driver_error(struct net_dev *n, const char *what)
{
	pthread_mutex_lock(&n->lock);
	virtio_core__driver_error(&n->errors, &n->reports, n->name, what);
	pthread_mutex_unlock(&n->lock);
}

unsigned net__num_queues(const struct net_dev *n)
{
	return 2 * n->pairs + 1;
}

/* What the guest may be given as it is: the tap's offloads the driver accepted */
static unsigned guest_offloads(const struct virtio_dev *v)
{
	unsigned f = 0;

	if (virtio__has(v, VIRTIO_NET_F_GUEST_CSUM))
		f |= TUN_F_CSUM;
	if (virtio__has(v, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio__has(v, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if (virtio__has(v, VIRTIO_NET_F_GUEST_ECN))
		f |= TUN_F_TSO_ECN;
	if (virtio__has(v, VIRTIO_NET_F_GUEST_UFO))
		f |= TUN_F_UFO;
	return f;
}

static void stop_threads(struct net_dev *n)
{
	if (n->stop_fd >= 0)
		eventfd_write(n->stop_fd, 1);
	if (n->vhost)
		net__vhost_stop(n);
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		if (__atomic_load_n(&p->running, __ATOMIC_ACQUIRE)) {
			pthread_join(p->thread, NULL);
			__atomic_store_n(&p->running, false, __ATOMIC_RELEASE);
		}
		p->frame_len = 0;
	}
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	n->stop_fd = -1;
	__atomic_store_n(&n->vdev, NULL, __ATOMIC_RELEASE);
}

/* On the launcher thread: offloads as negotiated, one tap queue attached, a thread per pair
 * whose two queues are ready (pair 0 must be) */
static int activate_on_launcher(void *arg)
{
	struct net_dev *n = ((void **)arg)[0];
	struct virtio_dev *v = ((void **)arg)[1];

	if (!v->vq_ready[0] || !v->vq_ready[1])
		return -EINVAL;
	__atomic_store_n(&n->vdev, v, __ATOMIC_RELEASE);
	int e = tap__set_offloads(&n->tap, guest_offloads(v));
	if (!e)
		e = net__set_active_pairs(n, 1);
	n->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e || n->stop_fd < 0) {
		stop_threads(n);
		return e ? e : -ENOMEM;
	}
	if (n->vhost) {
		e = net__vhost_start(n, v);
		if (e)
			stop_threads(n);
		return e;
	}
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		if (!v->vq_ready[2 * i] || !v->vq_ready[2 * i + 1])
			continue;
		if (thread__create(&p->thread, 0, true, net__pair_thread, p)) {
			stop_threads(n);
			return -ENOMEM;
		}
		__atomic_store_n(&p->running, true, __ATOMIC_RELEASE);
	}
	return 0;
}

static int net_activate(void *priv, struct virtio_dev *vdev)
{
	void *args[2] = { priv, vdev };

	return launcher__call(activate_on_launcher, args);
}

static int reset_on_launcher(void *priv)
{
	struct net_dev *n = priv;

	stop_threads(n);
	tap__set_offloads(&n->tap, 0);	/* the next driver may take fewer */
	return 0;
}

static void net_reset(void *priv)
{
	launcher__call(reset_on_launcher, priv);
}

static uint64_t net_features(void *priv)
{
	return ((const struct net_dev *)priv)->features;
}

static void net_config_read(void *priv, uint32_t off, void *data, uint32_t len)
{
	const struct net_dev *n = priv;

	memcpy(data, (const uint8_t *)&n->config + off, len);	/* the transport bounds-checked */
}

static void net_config_write(void *priv, uint32_t off, const void *data, uint32_t len)
{
	(void)off;
	(void)data;
	(void)len;
	net__driver_error(priv, "a write to the read-only configuration");
}

const struct virtio_dev_ops net_dev_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.features = net_features,
	.config_size = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.config_write = net_config_write,
	.activate = net_activate,
	.reset = net_reset,
};

/* ---- the VMM's side ---- */

/* The features offered: the guest-side offloads only where the tap takes them */
static uint64_t offer(const struct net_dev *n)
{
	unsigned t = n->tap.offloads;
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_NET_F_MAC) |
		     (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		     (1ULL << VIRTIO_NET_F_CTRL_VQ) |
		     /* frames from the guest: the tap finishes checksums and segments */
		     (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4) |
		     (1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_ECN) |
		     (1ULL << VIRTIO_NET_F_HOST_UFO);

	if (t & TUN_F_CSUM) {
		f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
		f |= (t & TUN_F_TSO4 ? 1ULL << VIRTIO_NET_F_GUEST_TSO4 : 0) |
		     (t & TUN_F_TSO6 ? 1ULL << VIRTIO_NET_F_GUEST_TSO6 : 0) |
		     (t & TUN_F_TSO_ECN ? 1ULL << VIRTIO_NET_F_GUEST_ECN : 0) |
		     (t & TUN_F_UFO ? 1ULL << VIRTIO_NET_F_GUEST_UFO : 0);
	}
	if (n->opts.mtu)
		f |= 1ULL << VIRTIO_NET_F_MTU;
	if (n->pairs > 1)
		f |= 1ULL << VIRTIO_NET_F_MQ;
	return n->vhost ? net__vhost_mask(n, f) : f;
}

static int open_tap(struct tap *t, const struct net_opts *o, char *err, size_t errlen)
{
	if (o->fd >= 0) {
		if (o->queues > 1) {
			snprintf(err, errlen, "--net fd=%d: one fd is one queue (queues=%u)", o->fd,
				 o->queues);
			return -1;
		}
		return tap__adopt(t, o->fd, NET_HDR_LEN, err, errlen);
	}
	return tap__open(t, o->tap, o->queues, NET_HDR_LEN, err, errlen);
}

/* vhost=on: vhost-net or an error; auto (the default): vhost-net where it opens, else the
 * data path in kvmini, with the reason in n->note. 0, or -1 with err. */
static int use_vhost(struct net_dev *n, char *err, size_t errlen)
{
	if (n->opts.vhost == NET_VHOST_OFF || n->tap.fake)
		return 0;
	char why[120];

	if (net__vhost_open(n, why, sizeof(why)) == 0) {
		n->vhost = true;
		return 0;
	}
	net__vhost_close(&n->vh);
	if (n->opts.vhost == NET_VHOST_ON) {
		snprintf(err, errlen, "--net vhost=on: %s", why);
		return -1;
	}
	snprintf(n->note, sizeof(n->note), "%s: the data path runs in kvmini", why);
	return 0;
}

/* The MTU against the tap's, each pair's buffers. 0, or -1 with err. */
static int check_and_alloc(struct net_dev *n, const struct net_opts *o, char *err, size_t errlen)
{
	snprintf(n->name, sizeof(n->name), "virtio-net %s", n->tap.ifname);
	if (o->mtu && n->tap.mtu && (int)o->mtu > n->tap.mtu) {
		snprintf(err, errlen, "--net mtu=%u: more than tap %s's MTU (%d): ip link set %s mtu "
			 "%u", o->mtu, n->tap.ifname, n->tap.mtu, n->tap.ifname, o->mtu);
		return -1;
	}
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		*p = (struct net_pair){ .n = n, .idx = i,
					.chain = malloc(sizeof(*p->chain)),
					.frame = malloc(NET_HDR_LEN + NET_FRAME_MAX) };
		if (!p->chain || !p->frame) {
			snprintf(err, errlen, "--net: out of memory");
			return -1;
		}
	}
	return 0;
}

int net__init(struct net_dev *n, const struct net_opts *o, const struct guest_mem *mem,
	      char *err, size_t errlen)
{
	struct tap t;

	memset(n, 0, sizeof(*n));
	if (open_tap(&t, o, err, errlen))
		return -1;
	return net__init_on(n, o, &t, mem, err, errlen);
}

int net__init_on(struct net_dev *n, const struct net_opts *o, const struct tap *t,
		 const struct guest_mem *mem, char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	n->opts = *o;
	n->tap = *t;
	n->mem = mem;
	n->stop_fd = -1;
	n->pairs = o->queues ? o->queues : 1;
	n->active_pairs = 1;
	net__vhost_init(&n->vh);
	pthread_mutex_init(&n->lock, NULL);
	if (n->tap.nq != n->pairs) {
		snprintf(err, errlen, "--net: %u queue pairs on %u tap queues", n->pairs, n->tap.nq);
		net__free(n);
		return -1;
	}
	if (check_and_alloc(n, o, err, errlen) || use_vhost(n, err, errlen)) {
		net__free(n);
		return -1;
	}
	memcpy(n->config.mac, o->mac, 6);
	if (!o->mac_set && getrandom(n->config.mac, 6, 0) == 6)
		n->config.mac[0] = (uint8_t)((n->config.mac[0] & 0xfe) | 0x02);	/* local unicast */
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = (uint16_t)n->pairs;
	n->config.mtu = (uint16_t)o->mtu;
	n->features = offer(n);
	return 0;
}

void net__free(struct net_dev *n)
{
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++) {
		free(n->pair[i].chain);
		free(n->pair[i].frame);
		n->pair[i].chain = NULL;
		n->pair[i].frame = NULL;
	}
	tap__close(&n->tap);
	net__vhost_close(&n->vh);
	pthread_mutex_destroy(&n->lock);
}

void net__stats(const struct net_dev *n, struct net_stats *out, uint64_t *errors)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n->pairs; i++) {
		const uint64_t *f = (const uint64_t *)&n->pair[i].stats;
		uint64_t *t = (uint64_t *)out;
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			t[k] += __atomic_load_n(&f[k], __ATOMIC_RELAXED);
	}
	*errors = __atomic_load_n(&n->errors, __ATOMIC_RELAXED);
}
