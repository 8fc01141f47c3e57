/* SPDX-License-Identifier: Apache-2.0 */
/* What the network cards and the rng report: vm.info's config, vm.counters, --exit-stats lines. */
#ifndef KVMINI_VMM_NET_REPORT_H
#define KVMINI_VMM_NET_REPORT_H

#include <stdio.h>
#include <json-c/json.h>

struct net_dev;
struct rng;
struct vsock_dev;
struct vsock_hy;

/* One network card in Cloud Hypervisor's NetConfig names (id _netI, tap, mac, mtu,
 * num_queues: virtqueues, queue_size) and vhost: false. */
json_object *net_report__config(const struct net_dev *n, unsigned i);
/* Its counters, summed over the queue pairs (rx_/tx_ packets, bytes, dropped; rx_buffers,
 * rx_waits, interrupts, control_commands, driver_errors, active_pairs). */
json_object *net_report__counters(const struct net_dev *n);
/* The rng's counters (bytes, requests, errors, throttled, throttled_ns). */
json_object *net_report__rng_counters(struct rng *r);
/* The vsock device in Cloud Hypervisor's VsockConfig names (cid, socket: null), and its
 * counters (the interrupts it relayed, driver errors). */
json_object *net_report__vsock_config(const struct vsock_dev *d);
json_object *net_report__vsock_counters(const struct vsock_dev *d);
/* Hybrid vsock: the same config (socket: its path), and its counters (packets, bytes,
 * connections either way, refused, resets, driver errors, open now). */
json_object *net_report__vsock_hy_config(const struct vsock_hy *h);
json_object *net_report__vsock_hy_counters(struct vsock_hy *h);
/* Its --exit-stats line. */
void net_report__vsock_hy_text(FILE *f, struct vsock_hy *h);
/* One text line per card for --exit-stats. */
void net_report__text(FILE *f, const struct net_dev *n, unsigned i);
/* The same counters in --exit-stats JSON: an array of the cards. */
json_object *net_report__json(const struct net_dev *const *n, unsigned count);

#endif
