/* SPDX-License-Identifier: Apache-2.0 */
/* The network cards' and the rng's configuration and counters as JSON and text lines. */
#include "vmm/net_report.h"

#include <inttypes.h>

#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "virtio/vsock_hy.h"
#include "vmm/json.h"

json_object *net_report__config(const struct net_dev *n, unsigned i)
{
	json_object *o = json__obj();
	char id[16], mac[18];
	const uint8_t *m = n->config.mac;

	snprintf(id, sizeof(id), "_net%u", i);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	json__add(o, "id", json__string(id, true));
	json__add(o, "tap", json__string(n->tap.ifname, true));
	if (n->tap.adopted)
		json__add(o, "fds", json__u64((uint64_t)n->tap.fd[0]));
	json__add(o, "mac", json__string(mac, true));
	json__add(o, "mtu", n->opts.mtu ? json__u64(n->opts.mtu) : NULL);
	json__add(o, "num_queues", json__u64(2 * n->pairs));
	json__add(o, "queue_size", json__u64(NET_QUEUE_MAX));
	json__add(o, "vhost", json__bool(n->vhost));
	return o;
}

json_object *net_report__counters(const struct net_dev *n)
{
	struct net_stats s;
	uint64_t errors;
	json_object *o = json__obj();

	net__stats(n, &s, &errors);
	json__add(o, "rx_packets", json__u64(s.rx_packets));
	json__add(o, "rx_bytes", json__u64(s.rx_bytes));
	json__add(o, "rx_dropped", json__u64(s.rx_dropped));
	json__add(o, "rx_buffers", json__u64(s.rx_buffers));
	json__add(o, "rx_waits", json__u64(s.rx_waits));
	json__add(o, "tx_packets", json__u64(s.tx_packets));
	json__add(o, "tx_bytes", json__u64(s.tx_bytes));
	json__add(o, "tx_dropped", json__u64(s.tx_dropped));
	/* with vhost-net the frames never pass through kvmini: only the interrupts it relays */
	json__add(o, "interrupts", json__u64(n->vhost ? __atomic_load_n(&n->vh.relay.interrupts,
					__ATOMIC_RELAXED) : s.notifies));
	json__add(o, "control_commands",
		  json__u64(__atomic_load_n(&n->ctrl_commands, __ATOMIC_RELAXED)));
	json__add(o, "driver_errors", json__u64(errors));
	json__add(o, "active_pairs", json__u64(__atomic_load_n(&n->active_pairs, __ATOMIC_RELAXED)));
	json__add(o, "vhost", json__bool(n->vhost));
	return o;
}

json_object *net_report__rng_counters(struct rng *r)
{
	struct rng_counters c;
	json_object *o = json__obj();

	rng__counters(r, &c);
	json__add(o, "bytes", json__u64(c.bytes));
	json__add(o, "requests", json__u64(c.requests));
	json__add(o, "errors", json__u64(c.errors));
	json__add(o, "throttled", json__u64(c.throttled));
	json__add(o, "throttled_ns", json__u64(c.throttled_ns));
	return o;
}

/* Each ready queue's ring as the guest and the device left it: what is waiting, and who
 * waits for whom (a stalled card's diagnosis) */
static void text_rings(FILE *f, const struct net_dev *n, unsigned i)
{
	const struct virtio_dev *v = __atomic_load_n(&n->vdev, __ATOMIC_ACQUIRE);

	for (unsigned q = 0; v && q < 2 * n->pairs; q++) {
		struct virtq_snapshot s;
		if (!v->vq_ready[q])
			continue;
		virtq__snapshot(&v->vq[q], &s);
		fprintf(f, "kvmini: net%u %s%u: the guest made %u available, the device used %u",
			i, q & 1 ? "tx" : "rx", q / 2, s.avail_idx, s.used_ring_idx);
		if (s.event_idx)
			fprintf(f, "; the guest wants an interrupt after %u, the device a kick after %u",
				s.used_event, s.avail_event);
		fprintf(f, "%s\n", s.broken ? " (broken)" : "");
	}
}

json_object *net_report__vsock_config(const struct vsock_dev *d)
{
	json_object *o = json__obj();

	json__add(o, "cid", json__u64(d->opts.cid));
	json__add(o, "socket", NULL);	/* (vhost-vsock: no socket) */
	json__add(o, "id", json__string("_vsock0", true));
	return o;
}

json_object *net_report__vsock_counters(const struct vsock_dev *d)
{
	json_object *o = json__obj();

	json__add(o, "interrupts", json__u64(__atomic_load_n(&d->relay.interrupts,
							     __ATOMIC_RELAXED)));
	json__add(o, "driver_errors", json__u64(__atomic_load_n(&d->errors, __ATOMIC_RELAXED)));
	return o;
}

json_object *net_report__vsock_hy_config(const struct vsock_hy *h)
{
	json_object *o = json__obj();

	json__add(o, "cid", json__u64(h->cid));
	json__add(o, "socket", json__string(h->path, true));
	json__add(o, "id", json__string("_vsock0", true));
	return o;
}

json_object *net_report__vsock_hy_counters(struct vsock_hy *h)
{
	struct vsock_hy_counters c;
	json_object *o = json__obj();

	vsock_hy__counters(h, &c);
	json__add(o, "rx_packets", json__u64(c.rx_packets));
	json__add(o, "tx_packets", json__u64(c.tx_packets));
	json__add(o, "rx_bytes", json__u64(c.rx_bytes));
	json__add(o, "tx_bytes", json__u64(c.tx_bytes));
	json__add(o, "host_connects", json__u64(c.host_connects));
	json__add(o, "guest_connects", json__u64(c.guest_connects));
	json__add(o, "refused", json__u64(c.refused));
	json__add(o, "resets", json__u64(c.resets));
	json__add(o, "connections", json__u64(c.conns));
	json__add(o, "driver_errors", json__u64(c.errors));
	return o;
}

void net_report__vsock_hy_text(FILE *f, struct vsock_hy *h)
{
	struct vsock_hy_counters c;

	vsock_hy__counters(h, &c);
	fprintf(f, "kvmini: vsock (hybrid, %s): %" PRIu64 " packets to the guest (%" PRIu64
		" bytes), %" PRIu64 " from it (%" PRIu64 " bytes); connections: %" PRIu64
		" from the host, %" PRIu64 " from the guest, %" PRIu64 " refused, %" PRIu64
		" open; %" PRIu64 " resets, %" PRIu64 " driver errors\n", h->path, c.rx_packets,
		c.rx_bytes, c.tx_packets, c.tx_bytes, c.host_connects, c.guest_connects, c.refused,
		c.conns, c.resets, c.errors);
}

void net_report__text(FILE *f, const struct net_dev *n, unsigned i)
{
	struct net_stats s;
	uint64_t errors;

	net__stats(n, &s, &errors);
	if (n->vhost) {
		fprintf(f, "kvmini: net%u (tap %s): vhost-net moved the frames; %" PRIu64
			" interrupts relayed, %" PRIu64 " driver errors\n", i, n->tap.ifname,
			__atomic_load_n(&n->vh.relay.interrupts, __ATOMIC_RELAXED), errors);
		text_rings(f, n, i);
		return;
	}
	fprintf(f, "kvmini: net%u (tap %s): rx %" PRIu64 " frames %" PRIu64 " bytes (%" PRIu64
		" dropped, %" PRIu64 " buffers, ring empty %" PRIu64 "x), tx %" PRIu64 " frames %"
		PRIu64 " bytes (%" PRIu64 " dropped), %" PRIu64 " interrupts, %" PRIu64
		" driver errors\n", i, n->tap.ifname, s.rx_packets, s.rx_bytes, s.rx_dropped,
		s.rx_buffers, s.rx_waits, s.tx_packets, s.tx_bytes, s.tx_dropped, s.notifies, errors);
	text_rings(f, n, i);
}

json_object *net_report__json(const struct net_dev *const *n, unsigned count)
{
	json_object *a = json__arr();

	for (unsigned i = 0; i < count; i++) {
		json_object *o = net_report__counters(n[i]);
		json__add(o, "tap", json__string(n[i]->tap.ifname, true));
		json__push(a, o);
	}
	return a;
}
