/* SPDX-License-Identifier: Apache-2.0 */
/* Exit statistics (--exit-stats): per-vCPU counters, latency histograms, KVM binary stats. */
#ifndef KVMINI_VMM_STATS_H
#define KVMINI_VMM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bus_range;
struct vm;

/*
 * Latency histogram of nanoseconds, log2 buckets: bucket 0 holds 0, bucket i (1..63) holds
 * [2^(i-1), 2^i - 1], and bucket 63 everything from 2^62 up. A percentile is reported as the
 * upper bound of the bucket it falls in, clamped to the exact maximum.
 */
#define STATS_HIST_BUCKETS 64
struct stats_hist {
	uint64_t count, sum_ns, max_ns;
	uint64_t bucket[STATS_HIST_BUCKETS];
};

#define STATS_NREASONS  64              /* exit reasons 0..63 have their own slot */
#define STATS_OTHER_REASON STATS_NREASONS /* anything above */
#define STATS_NSITES    64              /* per-vCPU open-addressing table of ports/addresses */
#define STATS_MAX_PROBE 16              /* past this many probes a new key goes to "other" */
#define STATS_KVM_MAX   128             /* KVM binary stats kept per vCPU (scalars only) */
#define STATS_KVM_NAME  64

enum stats_bus { STATS_PIO, STATS_MMIO, STATS_NBUSES };

/* One port/address: the base of the device range it hit, or the raw address if none. */
struct stats_site {
	uint64_t key;
	const char *dev;                /* the range's ops->name, "(none)", or "(other)" */
	uint64_t count, reads, writes, total_ns, max_ns;
	uint8_t bus;                    /* enum stats_bus */
	bool used;                      /* published last (release): key/dev/bus are valid */
};

struct stats_kvm_value {
	char name[STATS_KVM_NAME];
	uint64_t value;
};

/* KVM's own counters for one vCPU, from KVM_GET_STATS_FD. */
struct stats_kvm {
	unsigned n;
	struct stats_kvm_value v[STATS_KVM_MAX];
};

/*
 * Everything for one vCPU. Only that vCPU's thread writes the counters (single writer, relaxed
 * atomic loads and stores: no lock, no RMW instruction); readers may take a snapshot any time.
 */
struct stats_vcpu {
	unsigned id;
	uint64_t exits;
	uint64_t reason_count[STATS_NREASONS + 1];
	struct stats_hist reason_hist[STATS_NREASONS + 1];
	struct stats_site sites[STATS_NSITES];
	struct stats_site other[STATS_NBUSES]; /* sites that did not fit */
	int kvm_fd;                     /* KVM_GET_STATS_FD of the vCPU, -1 if unsupported */
	struct stats_kvm kvm;           /* last read of kvm_fd */
};

/* ---- histogram ---- */
unsigned stats__hist_bucket(uint64_t ns);
/* The largest value bucket b holds. */
uint64_t stats__hist_upper(unsigned b);
void stats__hist_add(struct stats_hist *h, uint64_t ns);
/* p in 1..100: the upper bound of the bucket holding the p-th percentile (min with max_ns);
 * 0 for an empty histogram. */
uint64_t stats__hist_percentile(const struct stats_hist *h, unsigned p);
void stats__hist_merge(struct stats_hist *dst, const struct stats_hist *src);

/* ---- per-vCPU tables ---- */
/* A zeroed table for vCPU id (kvm_fd -1), or NULL. */
struct stats_vcpu *stats__new(unsigned id);
/* Closes kvm_fd and frees. NULL is fine. */
void stats__free(struct stats_vcpu *s);
/* One exit with this reason whose handling took ns. */
void stats__record_exit(struct stats_vcpu *s, unsigned reason, uint64_t ns);
/* One PIO/MMIO exit at addr; r is the range that handled it (NULL: none). */
void stats__record_access(struct stats_vcpu *s, enum stats_bus bus, const struct bus_range *r,
			  uint64_t addr, bool write, uint64_t ns);
/* The site for (bus, key), NULL if it is not in the table (it may be in other[bus]). */
const struct stats_site *stats__find_site(const struct stats_vcpu *s, enum stats_bus bus,
					  uint64_t key);
/* Adds src into dst (sites matched by bus and key; KVM values by name). */
void stats__merge(struct stats_vcpu *dst, const struct stats_vcpu *src);

/* ---- KVM binary stats ---- */
/* Parses a stats-fd image (header, descriptors, data) into out: every scalar stat. 0, or -1
 * if the layout is inconsistent. */
int stats__parse_kvm(const void *buf, size_t len, struct stats_kvm *out);
/* 0, or -1 if the vCPU has no stats fd or reading it failed. */
int stats__read_kvm(struct stats_vcpu *s);
/* The same from any stats fd (the VM's: vm->stats_fd). */
int stats__read_kvm_fd(int fd, struct stats_kvm *out);
/* The value of a KVM stat by name, or 0 (and *found false) if the kernel lacks it. */
uint64_t stats__kvm_value(const struct stats_kvm *k, const char *name, bool *found);

/* ---- snapshots (printed by vmm/report.c) ---- */
/* A consistent copy of some vCPUs' tables and their total, taken while they run. */
struct stats_snapshot {
	unsigned n;
	struct stats_vcpu **vcpus;      /* n copies, in the order given */
	struct stats_vcpu *total;       /* all of them added up (id 0) */
};
/* Copies v[0..n) (reading KVM's counters first if read_kvm). 0, or -1 (out of memory, out
 * left empty). */
int stats__snapshot(struct stats_vcpu *const *v, unsigned n, bool read_kvm,
		    struct stats_snapshot *out);
/* The same for every vCPU of vm that has a table, KVM's counters read. */
int stats__snapshot_vm(const struct vm *vm, struct stats_snapshot *out);
void stats__snapshot_free(struct stats_snapshot *s);

/* ---- a VM ---- */
/* Gives every vCPU of vm a table and, where KVM_CAP_BINARY_STATS_FD is there, its stats fd.
 * Before the vCPUs start. 0, or -1 (out of memory). */
int stats__enable_vm(struct vm *vm);
/* Frees every vCPU's table (and closes its stats fd), before the vCPUs go. */
void stats__disable_vm(struct vm *vm);

#endif
