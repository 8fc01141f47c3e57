/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini top`'s pure half: the API's JSON into snapshots, rates between two, the screen as lines of at most 80 columns. */
#ifndef KVMINI_VMM_TOP_H
#define KVMINI_VMM_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/limits.h"

#define TOP_COLS    80	/* never wider */
#define TOP_ROWS    24	/* what the sections are sized for */
#define TOP_MAXROWS 100	/* lines one screen may have */
#define TOP_REASONS 72
#define TOP_SITES   72

struct top_vcpu {
	unsigned id;
	uint64_t exits, io, mmio;
};

struct top_disk {
	char id[16], path[64];
	uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops, kicks, irqs;
	uint64_t inflight;	/* requests in flight when it was taken */
};

#define TOP_NETS 4

/* a network card's counters (vm.counters _netN); with vhost kvmini does not see the frames */
struct top_net {
	char id[16];
	bool vhost;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, drops, irqs;
};

/* hybrid vsock's (vm.counters _vsock0, when it has connection counters) */
struct top_vsock {
	bool on;
	uint64_t rx_bytes, tx_bytes, conns, refused, resets;
};

struct top_reason {
	char name[32];
	uint64_t count, sum_ns, p50, p99, max;
};

struct top_site {
	char bus[8], addr[24], dev[24];
	uint64_t count, total_ns, max_ns;
};

/* What one poll of vm.counters, vm.info and (with --exit-stats) vm.exit-stats says. */
struct top_snap {
	double t;		/* seconds, monotonic, when it was taken */
	char state[16];
	unsigned nvcpu, ndisk, nreason, nsite;
	struct top_vcpu vcpu[MAX_CPUS];
	struct top_disk disk[MAX_DISKS];
	unsigned nnet;
	struct top_net net[TOP_NETS];
	struct top_vsock vsock;
	bool stats;		/* vm.exit-stats answered */
	bool mem;		/* vm.memory answered with guest RAM */
	uint64_t mem_size, mem_res, mem_huge, vmm_res;
	char mem_pages[16];
	uint64_t kvm_tables;	/* KVM's page tables, at least (TOP_UNKNOWN: no figure) */
	bool guest;		/* the guest's own view (--balloon statistics) */
	uint64_t guest_total, guest_free, guest_cache, balloon;
	unsigned ncache;
	uint64_t page_cache[MAX_DISKS];	/* each disk's host page cache (TOP_UNKNOWN) */
	struct top_reason reason[TOP_REASONS];
	struct top_site site[TOP_SITES];
};

struct top_view {
	const char *sock;
	double up_s, interval;	/* how long top has run; its period */
	unsigned cols, rows;	/* the terminal's, cols at most TOP_COLS */
};

typedef char top_line[TOP_COLS + 1];

/* Each fills its part of s from a JSON body of n bytes; 0, or -1 when it is not the shape
 * docs/api.md gives. */
int top__parse_counters(struct top_snap *s, const char *body, size_t n);
int top__parse_info(struct top_snap *s, const char *body, size_t n);
int top__parse_stats(struct top_snap *s, const char *body, size_t n);
int top__parse_memory(struct top_snap *s, const char *body, size_t n);
#define TOP_UNKNOWN UINT64_MAX
/* (b - a) / dt per second, or -1 when not known (no interval, or a counter that went back). */
double top__rate(uint64_t a, uint64_t b, double dt);
/* src cut to at most cols columns (bytes: the screen is ASCII) into dst[cols + 1]. */
void top__fit(char *dst, const char *src, unsigned cols);
struct json_object;
/* o's integer at key, 0 when absent */
uint64_t top__ju64(struct json_object *o, const char *key);
/* vm.counters' _netN or _vsock0 object v into s (top_net.c) */
void top__net_parse(struct top_snap *s, const char *key, struct json_object *v);
/* The network panel (nothing without cards or hybrid vsock) into lines[0..max), at most cols
 * columns each: how many lines. */
unsigned top__net_lines(const struct top_snap *p, const struct top_snap *c, double dt,
			top_line *lines, unsigned max, unsigned cols);
/* The screen: cur, with rates against prev (NULL: none yet), into lines[0..rows); returns how
 * many. Every line is at most v->cols columns. */
unsigned top__render(const struct top_snap *prev, const struct top_snap *cur,
		     const struct top_view *v, top_line *lines);

#endif
