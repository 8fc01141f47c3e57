/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net over a tap: offloads, mergeable receive buffers, multiqueue; an I/O thread per queue pair. */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "devices/net/tap.h"
#include "virtio/core.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"

#define NET_QUEUE_MAX 256u           /* QueueNumMax we offer */
#define NET_MAX_PAIRS 4u             /* queue pairs (queues=): 2 per pair + the control queue */
#define NET_HDR_LEN 12u              /* struct virtio_net_hdr_v1: VERSION_1 has num_buffers */
#define NET_FRAME_MAX 65550u         /* the largest frame a tap gives (64 KiB GSO + Ethernet) */
#define NET_RX_CHAINS 64u            /* buffers one received frame may use (MRG_RXBUF) */
#define NET_BURST 256u               /* frames one pass moves each way before it looks around */
#define NET_MTU_MIN 68u              /* IPv4's minimum */

enum net_vhost_mode { NET_VHOST_AUTO, NET_VHOST_ON, NET_VHOST_OFF };

/* --net, parsed */
struct net_opts {
	bool on;
	char tap[IFNAMSIZ];              /* tap=NAME ("" with fd=) */
	int fd;                          /* fd=N, -1 with tap= */
	uint8_t mac[6];
	bool mac_set;                    /* mac= given (else a random local one) */
	unsigned queues;                 /* queue pairs, 1..NET_MAX_PAIRS */
	enum net_vhost_mode vhost;
	unsigned mtu;                    /* mtu= (0: the tap's) */
};

/* Parses "tap=NAME|fd=N[,mac=MAC][,queues=N][,vhost=on|off][,mtu=N]" (vhost: auto when not
 * given: on where /dev/vhost-net opens). 0, or -1 with err. */
int net__parse_opts(const char *spec, struct net_opts *o, char *err, size_t errlen);

/* What one queue pair has moved (one writer: its thread; read with relaxed loads). */
struct net_stats {
	uint64_t rx_packets, rx_bytes;   /* frames given to the guest */
	uint64_t rx_dropped;             /* frames from the tap the guest had no room for */
	uint64_t rx_buffers;             /* guest buffers used (more than frames with MRG_RXBUF) */
	uint64_t tx_packets, tx_bytes;   /* frames sent to the tap */
	uint64_t tx_dropped;             /* frames the tap refused, or malformed */
	uint64_t rx_waits;               /* times the receive ring was empty with frames waiting */
	uint64_t notifies;               /* used-buffer interrupts */
};

struct net_dev;

/* vhost-net (net_vhost.c): the data path in the host kernel */
struct net_vhost {
	int fd[NET_MAX_PAIRS];           /* /dev/vhost-net, one per pair (-1: none) */
	int call[2 * NET_MAX_PAIRS];     /* eventfds vhost signals for each queue's interrupt */
	uint64_t features;               /* VHOST_GET_FEATURES */
	struct vhost_relay relay;        /* relays interrupts, serves the control queue */
};

struct net_pair {
	struct net_dev *n;
	unsigned idx;
	pthread_t thread;
	bool running;
	struct net_stats stats;
	struct virtq_chain *chain;       /* the thread's scratch chain */
	uint8_t *frame;                  /* a frame read from the tap (header first) */
	uint32_t frame_len;              /* 0: none waiting */
};

struct net_dev {
	struct net_opts opts;
	struct tap tap;
	char name[32];                   /* "virtio-net tap0" */
	unsigned pairs;
	uint64_t features;               /* offered */
	struct virtio_net_config config;
	const struct guest_mem *mem;
	struct virtio_dev *vdev;         /* set while active */
	int stop_fd;
	unsigned active_pairs;           /* the driver's VQ_PAIRS_SET (1 until then) */
	struct net_pair pair[NET_MAX_PAIRS];
	bool vhost;                      /* the data path is vhost-net's */
	struct net_vhost vh;
	char note[160];                  /* why vhost is off under vhost=auto ("": it is on) */
	pthread_mutex_t lock;            /* errors, reports */
	uint64_t errors;                 /* driver errors */
	uint64_t ctrl_commands;
	struct virtio_report reports;
};

extern const struct virtio_dev_ops net_dev_ops;

/* Opens the tap (setup: errors exit). 0, or -1 with a one-line reason (nothing left to free). */
int net__init(struct net_dev *n, const struct net_opts *o, const struct guest_mem *mem,
	      char *err, size_t errlen);
/* The same on a backend already open (tests: socket pairs with t->fake); takes t's fds (closed
 * on failure too). */
int net__init_on(struct net_dev *n, const struct net_opts *o, const struct tap *t,
		 const struct guest_mem *mem, char *err, size_t errlen);
void net__free(struct net_dev *n);
/* Virtqueues the transport offers: 2 per pair, then the control queue. */
unsigned net__num_queues(const struct net_dev *n);
/* The counters of every pair, summed; errors the driver made. */
void net__stats(const struct net_dev *n, struct net_stats *out, uint64_t *errors);

/* ---- shared by net.c and net_io.c ---- */
/* the per-pair thread (net_io.c) */
void *net__pair_thread(void *arg);
/* a driver mistake: counted, reported once per kind */
void net__driver_error(struct net_dev *n, const char *what);
/* the control queue, served by pair 0's thread (net_ctrl.c) */
void net__serve_ctrl(struct net_dev *n, struct virtq_chain *c);
/* attaches tap queues 0..k-1 and detaches the rest (the driver's VQ_PAIRS_SET) */
int net__set_active_pairs(struct net_dev *n, unsigned k);
/* which queue is the control queue as negotiated */
int net__ctrl_queue(const struct net_dev *n, const struct virtio_dev *v);
/* vhost-net (net_vhost.c): no fds yet; open one per pair (0, or -1 with err); the features
 * offered less the ring features vhost lacks; set up and start at DRIVER_OK (0 or -errno);
 * stop (stop_fd already signalled) and reset; close */
void net__vhost_init(struct net_vhost *vh);
int net__vhost_open(struct net_dev *n, char *err, size_t errlen);
uint64_t net__vhost_mask(const struct net_dev *n, uint64_t offer);
int net__vhost_start(struct net_dev *n, struct virtio_dev *v);
void net__vhost_stop(struct net_dev *n);
void net__vhost_close(struct net_vhost *vh);

#endif
