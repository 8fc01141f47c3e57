/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net's control queue: the driver's multiqueue command (VQ_PAIRS_SET); anything else is answered ERR. */
#include "virtio/net.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#define CTRL_IN_MAX 64u	/* command bytes we look at (class, command, data) */

int net__ctrl_queue(const struct net_dev *n, const struct virtio_dev *v)
{
	(void)n;
	if (!virtio__has(v, VIRTIO_NET_F_CTRL_VQ))
		return -1;
	/* virtio 1.2 5.1.2: 2N with N = max_virtqueue_pairs under MQ, else 1 pair */
	return virtio__has(v, VIRTIO_NET_F_MQ) ? 2 * (int)n->pairs : 2;
}

int net__set_active_pairs(struct net_dev *n, unsigned k)
{
	if (n->tap.nq < 2 || n->tap.fake) {
		__atomic_store_n(&n->active_pairs, k, __ATOMIC_RELAXED);
		return 0;
	}
	for (unsigned i = 0; i < n->tap.nq; i++) {
		struct ifreq ifr = { .ifr_flags = i < k ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
		if (ioctl(n->tap.fd[i], TUNSETQUEUE, &ifr) && errno != EINVAL)
			return -errno;	/* EINVAL: already so */
	}
	__atomic_store_n(&n->active_pairs, k, __ATOMIC_RELAXED);
	return 0;
}

/* One command: its bytes (class, command, data) in; VIRTIO_NET_OK or _ERR. */
static uint8_t command(struct net_dev *n, const uint8_t *b, uint32_t len)
{
	if (b[0] == VIRTIO_NET_CTRL_MQ && b[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
		uint16_t k = len >= 4 ? (uint16_t)(b[2] | b[3] << 8) : 0;
		if (!virtio__has(n->vdev, VIRTIO_NET_F_MQ) || k < 1 || k > n->pairs) {
			net__driver_error(n, "VQ_PAIRS_SET out of range, or without MQ");
			return VIRTIO_NET_ERR;
		}
		return net__set_active_pairs(n, k) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;	/* classes we did not offer (rx mode, MAC, VLAN, announce) */
}

void net__serve_ctrl(struct net_dev *n, struct virtq_chain *c)
{
	struct virtio_dev *v = n->vdev;
	int qi = net__ctrl_queue(n, v);
	struct virtq *q;
	bool pushed = false;
	int r = 0;

	if (qi < 0 || !v->vq_ready[qi])
		return;
	q = &v->vq[qi];
	do {
		virtq__disable_notify(q);
		while ((r = virtq__pop(q, c)) == 1) {
			uint8_t b[CTRL_IN_MAX] = { 0 }, ack;
			uint32_t len = 0;
			for (unsigned i = 0; i < c->n_out && len < CTRL_IN_MAX; i++) {
				uint32_t k = c->iov[i].len < CTRL_IN_MAX - len ? c->iov[i].len :
									CTRL_IN_MAX - len;
				memcpy(b + len, c->iov[i].base, k);
				len += k;
			}
			/* counted before it is answered: whoever sees the answer sees the count */
			__atomic_add_fetch(&n->ctrl_commands, 1, __ATOMIC_RELAXED);
			if (len < 2 || !c->n_in) {
				net__driver_error(n, "a control command without class, command or ack");
				virtq__push(q, c->head, 0);
			} else {
				ack = command(n, b, len);
				memcpy(c->iov[c->n_out].base, &ack, 1);
				virtq__push(q, c->head, 1);
			}
			pushed = true;
		}
	} while (r == 0 && virtq__enable_notify(q));
	if (r < 0)
		v->t_ops->needs_reset(v->transport, q->error);
	else if (pushed && virtq__should_notify(q))
		v->t_ops->notify_used(v->transport, (unsigned)qi);
}
