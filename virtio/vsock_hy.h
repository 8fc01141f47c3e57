/* SPDX-License-Identifier: Apache-2.0 */
/* Hybrid virtio-vsock: the device in kvmini, the host end on Unix sockets (CONNECT <port>, PATH_<port>). */
#ifndef KVMINI_VIRTIO_VSOCK_HY_H
#define KVMINI_VIRTIO_VSOCK_HY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_vsock.h>

#include "virtio/core.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

/*
 * The protocol is Firecracker's and Cloud Hypervisor's:
 *  - the host connects to the socket PATH and writes "CONNECT <port>\n"; kvmini asks the guest
 *    for a stream connection to <port> (from a host port of its own, from 2^30 up) and, once
 *    the guest accepts, writes "OK <host port>\n"; then the bytes flow both ways. A guest that
 *    refuses (nothing listens) or does not answer in VSOCK_HY_ACCEPT_MS: the socket is closed.
 *  - a guest connection to CID 2 (the host), port P, is connected to the socket PATH_P; if
 *    nothing listens there the guest's connect fails (a reset).
 * Bounds: VSOCK_HY_MAX_CONNS connections (more are refused), VSOCK_HY_BUF_ALLOC bytes of the
 * guest's data held per connection when its host socket is slow (the credit the guest is
 * given: it cannot send more), a CONNECT line of VSOCK_HY_LINE_MAX bytes within
 * VSOCK_HY_ACCEPT_MS, VSOCK_HY_BATCH packets per queue per wake-up.
 */
#define VSOCK_HOST_CID       2u
#define VSOCK_HDR_LEN        ((uint32_t)sizeof(struct virtio_vsock_hdr))  /* 44 */
#define VSOCK_HY_MAX_CONNS   256u
#define VSOCK_HY_BUF_ALLOC   (256u << 10)
#define VSOCK_HY_PKT_MAX     (64u << 10)    /* payload of one packet, either way */
#define VSOCK_HY_LINE_MAX    32u            /* "CONNECT 4294967295\n" is 19 */
#define VSOCK_HY_ACCEPT_MS   5000u          /* the CONNECT line; the guest's answer */
#define VSOCK_HY_DRAIN_MS    5000u          /* guest data left for a closed connection */
#define VSOCK_HY_CLOSE_MS    30000u         /* a guest told the host has gone, to answer */
#define VSOCK_HY_BATCH       64u
#define VSOCK_HY_RSTS        64u            /* resets for unknown connections, waiting */
#define VSOCK_HY_PORT_BASE   (1u << 30)     /* host ports kvmini gives host connections */

enum vsock_hy_state {
	HY_FREE,
	HY_LINE,          /* accepted on PATH, reading "CONNECT <port>\n" */
	HY_REQUEST,       /* REQUEST sent (or to send) to the guest, waiting for its RESPONSE */
	HY_OPEN,          /* connected both ways */
	HY_CLOSING,       /* the host has gone: the guest is told (SHUTDOWN, both), then RST */
	HY_DRAIN,         /* the guest has gone; its last bytes still go to the host socket */
};

/* what a connection has to tell the guest (bits) */
#define HY_TELL_REQUEST   (1u << 0)
#define HY_TELL_RESPONSE  (1u << 1)
#define HY_TELL_CREDIT    (1u << 2)
#define HY_TELL_SHUTDOWN  (1u << 3)   /* the host will send no more (SHUTDOWN, SEND) */
#define HY_TELL_RST       (1u << 4)   /* then the connection is gone */

struct vsock_hy_conn {
	enum vsock_hy_state state;
	int fd;                          /* the host's Unix socket */
	uint32_t host_port, guest_port;
	uint32_t tell;                   /* HY_TELL_* */
	bool readable;                   /* the socket said it has bytes (cleared on EAGAIN) */
	bool host_eof;                   /* the host will send no more */
	bool hup;                        /* the host closed its socket: read what is left, then
					  * HY_CLOSING (fd no longer watched) */
	bool guest_shut_send;            /* the guest will send no more */
	bool guest_shut_rcv;             /* the guest takes no more */
	uint32_t events;                 /* what epoll watches on fd now */
	bool watched;                    /* fd is in the epoll set */
	uint64_t deadline_ns;            /* HY_LINE, HY_REQUEST, HY_DRAIN: when to give up */
	/* credit (virtio 1.2 5.10.6.3): the guest's, and ours */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;                 /* bytes sent to the guest */
	uint32_t fwd_cnt;                /* guest bytes written to the host socket */
	uint32_t fwd_told;               /* fwd_cnt as the guest last heard it */
	/* guest bytes the host socket has not taken yet (at most VSOCK_HY_BUF_ALLOC) */
	uint8_t *pend;
	uint32_t pend_off, pend_len;
	uint32_t own;                    /* of which kvmini's own at the front ("OK <port>\n") */
	char line[VSOCK_HY_LINE_MAX];   /* HY_LINE: read so far */
	uint32_t line_len;
};

/* What the device has done (vm.counters _vsock0, --exit-stats). */
struct vsock_hy_counters {
	uint64_t rx_packets, tx_packets; /* to the guest, from the guest */
	uint64_t rx_bytes, tx_bytes;     /* stream payload */
	uint64_t host_connects;          /* host connections the guest accepted */
	uint64_t guest_connects;         /* guest connections a PATH_<port> accepted */
	uint64_t refused;                /* connections refused, either way, or over the bound */
	uint64_t resets;                 /* RSTs sent to the guest */
	uint64_t errors;                 /* driver errors */
	uint64_t conns;                  /* open now */
};

struct vsock_hy {
	uint64_t cid;
	char path[108];                  /* the listening socket */
	int listen_fd;
	struct virtio_dev *vdev;         /* set while active */
	pthread_t thread;
	bool running;
	int stop_fd, epoll_fd;
	pthread_mutex_t lock;            /* counters */
	struct vsock_hy_counters counters;
	struct virtio_report reports;
	/* the thread's own */
	struct vsock_hy_conn conns[VSOCK_HY_MAX_CONNS];
	unsigned rr;                     /* where the next round over conns starts */
	uint32_t next_port;
	struct { uint32_t host_port, guest_port; } rst[VSOCK_HY_RSTS];
	unsigned nrst;
	struct virtq_chain *chain;       /* a popped rx chain not used yet (have_rx) */
	bool have_rx;
	bool rx_empty;                   /* the guest's rx ring had nothing: wait for its kick */
	struct virtq_chain *txc;
	bool pushed_rx, pushed_tx;
};

extern const struct virtio_dev_ops vsock_hy_dev_ops;

/* Setup: binds and listens on opts->socket (a stale socket nobody listens on is replaced;
 * anything else there is the user's error). 0, or -1 with err. */
int vsock_hy__init(struct vsock_hy *h, const struct vsock_opts *o, char *err, size_t errlen);
/* Closes everything and removes the socket. */
void vsock_hy__free(struct vsock_hy *h);
void vsock_hy__counters(struct vsock_hy *h, struct vsock_hy_counters *c);

/* ---- inside the device (vsock_hy*.c) ---- */

void vsock_hy__driver_error(struct vsock_hy *h, const char *what);
void vsock_hy__count(struct vsock_hy *h, size_t field_off, uint64_t v);
#define HY_COUNT(h, field, v) vsock_hy__count(h, offsetof(struct vsock_hy_counters, field), v)
uint64_t vsock_hy__now_ns(void);

/* the packet layer (vsock_hy_pkt.c) */
/* Copies len bytes from offset off of the chain's readable buffers; the bytes copied. */
uint32_t vsock_hy__gather(const struct virtq_chain *c, uint32_t off, void *dst, uint32_t len);
/* One packet from the guest's tx queue (the whole chain): checked, then acted on. */
void vsock_hy__from_guest(struct vsock_hy *h, const struct virtq_chain *c);
/* Fills the rx chain c with the next packet some connection has for the guest: the bytes
 * written, 0 if nobody had anything (c unused). */
uint32_t vsock_hy__to_guest(struct vsock_hy *h, const struct virtq_chain *c);
/* The connection ends: its socket closed, its slot free (the counters follow). */
void vsock_hy__conn_free(struct vsock_hy *h, struct vsock_hy_conn *k);
/* A reset for a connection kvmini does not have (dropped when VSOCK_HY_RSTS wait already). */
void vsock_hy__queue_rst(struct vsock_hy *h, uint32_t host_port, uint32_t guest_port);
/* Whether k would read its host socket now (open, the guest has credit, ...). */
bool vsock_hy__wants_read(const struct vsock_hy_conn *k);
/* Whether any connection has something for the guest now. */
bool vsock_hy__has_output(const struct vsock_hy *h);

/* the host end (vsock_hy_host.c) */
void vsock_hy__accept(struct vsock_hy *h);
/* The socket of k has events ev (EPOLLIN/OUT/HUP/ERR). */
void vsock_hy__host_event(struct vsock_hy *h, struct vsock_hy_conn *k, uint32_t ev);
/* A guest REQUEST to host port `port`: connects to PATH_port. The fd, or -1. */
int vsock_hy__connect_path(const struct vsock_hy *h, uint32_t port);
/* Writes guest bytes to the host socket (what it does not take waits in pend). false: the
 * socket is gone. */
bool vsock_hy__host_write(struct vsock_hy_conn *k, const struct virtq_chain *c,
			  uint32_t skip, uint32_t len);
/* The host's socket said EOF: the guest is told SHUTDOWN (SEND; both if it hung up). */
void vsock_hy__host_eof(struct vsock_hy *h, struct vsock_hy_conn *k);
/* Puts fd's epoll interest in line with k's state. */
void vsock_hy__watch(struct vsock_hy *h, struct vsock_hy_conn *k);
/* Deadlines: connections that waited too long end. The next deadline's poll timeout (ms,
 * -1: none). */
int vsock_hy__expire(struct vsock_hy *h);

#endif
