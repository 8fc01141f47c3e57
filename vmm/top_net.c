/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini top`'s network panel: each card's traffic and interrupts, hybrid vsock's bytes and connections. */
#include "vmm/top.h"

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

void top__net_parse(struct top_snap *s, const char *key, struct json_object *v)
{
	json_object *x;

	if (!strcmp(key, "_vsock0")) {
		if (!json_object_object_get_ex(v, "connections", &x))
			return;	/* vhost-vsock: interrupts only */
		s->vsock = (struct top_vsock){ .on = true, .rx_bytes = top__ju64(v, "rx_bytes"),
			.tx_bytes = top__ju64(v, "tx_bytes"), .conns = top__ju64(v, "connections"),
			.refused = top__ju64(v, "refused"), .resets = top__ju64(v, "resets") };
		return;
	}
	if (s->nnet >= TOP_NETS)
		return;
	struct top_net *n = &s->net[s->nnet++];
	snprintf(n->id, sizeof(n->id), "%s", key + 1);	/* net0 */
	n->vhost = json_object_object_get_ex(v, "vhost", &x) && json_object_get_boolean(x);
	n->rx_pkts = top__ju64(v, "rx_packets");
	n->rx_bytes = top__ju64(v, "rx_bytes");
	n->tx_pkts = top__ju64(v, "tx_packets");
	n->tx_bytes = top__ju64(v, "tx_bytes");
	n->drops = top__ju64(v, "rx_dropped") + top__ju64(v, "tx_dropped");
	n->irqs = top__ju64(v, "interrupts");
}

/* a rate in the panel's style: "-" when not known */
static const char *r_s(char *b, size_t len, double r, double scale, const char *fmt)
{
	if (r < 0)
		snprintf(b, len, "-");
	else
		snprintf(b, len, fmt, r / scale);
	return b;
}

static const struct top_net *find(const struct top_snap *p, const char *id)
{
	for (unsigned i = 0; p && i < p->nnet; i++)
		if (!strcmp(p->net[i].id, id))
			return &p->net[i];
	return NULL;
}

/* one card: with vhost the frames never pass kvmini, so only its interrupts are shown */
static void card_line(char *l, size_t len, const struct top_net *x, const struct top_net *y,
		      double dt)
{
	char a[16], b[16], c[16], d[16], e[16];
	double t = y ? dt : 0;
	struct top_net z = { .rx_pkts = 0 };
	const struct top_net *o = y ? y : &z;

	if (x->vhost)
		snprintf(l, len, "%-6s %8s %9s %8s %9s %6s %8s  vhost-net", x->id, "-", "-", "-", "-",
			 "-", r_s(e, sizeof(e), top__rate(o->irqs, x->irqs, t), 1, "%.0f"));
	else
		snprintf(l, len, "%-6s %8s %9s %8s %9s %6llu %8s  kvmini", x->id,
			 r_s(a, sizeof(a), top__rate(o->rx_bytes, x->rx_bytes, t), 1e6, "%.2f"),
			 r_s(b, sizeof(b), top__rate(o->rx_pkts, x->rx_pkts, t), 1, "%.0f"),
			 r_s(c, sizeof(c), top__rate(o->tx_bytes, x->tx_bytes, t), 1e6, "%.2f"),
			 r_s(d, sizeof(d), top__rate(o->tx_pkts, x->tx_pkts, t), 1, "%.0f"),
			 (unsigned long long)x->drops,
			 r_s(e, sizeof(e), top__rate(o->irqs, x->irqs, t), 1, "%.0f"));
}

unsigned top__net_lines(const struct top_snap *p, const struct top_snap *c, double dt,
			top_line *lines, unsigned max, unsigned cols)
{
	char l[TOP_COLS * 2], a[16], b[16];
	unsigned n = 0;

	if (!c->nnet && !c->vsock.on)
		return 0;
	if (c->nnet && n < max) {
		snprintf(l, sizeof(l), "%-6s %8s %9s %8s %9s %6s %8s  %s", "net", "rx MB/s", "rx pkt/s",
			 "tx MB/s", "tx pkt/s", "drops", "irqs/s", "data path");
		top__fit(lines[n++], l, cols);
	}
	for (unsigned i = 0; i < c->nnet && n < max; i++) {
		card_line(l, sizeof(l), &c->net[i], find(p, c->net[i].id), dt);
		top__fit(lines[n++], l, cols);
	}
	if (c->vsock.on && n < max) {
		double t = p && p->vsock.on ? dt : 0;
		snprintf(l, sizeof(l), "vsock  to the guest %s MB/s, from it %s MB/s; %llu open, "
			 "%llu refused, %llu resets",
			 r_s(a, sizeof(a), top__rate(p && p->vsock.on ? p->vsock.rx_bytes : 0,
						     c->vsock.rx_bytes, t), 1e6, "%.2f"),
			 r_s(b, sizeof(b), top__rate(p && p->vsock.on ? p->vsock.tx_bytes : 0,
						     c->vsock.tx_bytes, t), 1e6, "%.2f"),
			 (unsigned long long)c->vsock.conns, (unsigned long long)c->vsock.refused,
			 (unsigned long long)c->vsock.resets);
		top__fit(lines[n++], l, cols);
	}
	return n;
}
