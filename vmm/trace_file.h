/* SPDX-License-Identifier: Apache-2.0 */
/* The --trace-exits file format: header, device table, fixed-size exit records; write and validate. */
#ifndef KVMINI_VMM_TRACE_FILE_H
#define KVMINI_VMM_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/exit_decode.h"

struct bus;

/*
 * A trace file, all little-endian:
 *   struct trace_header      (header_size bytes, at offset 0)
 *   struct trace_dev[ndevs]  (at devs_offset: the VM's PIO and MMIO device ranges)
 *   struct trace_rec[...]    (at recs_offset, to the end of the file)
 * The writer fills nrecords/dropped and sets TRACE_F_COMPLETE when it closes the file; a file
 * without it (kvmini was killed) holds every whole record up to its end.
 */
#define TRACE_MAGIC   "KVMINIXT"
#define TRACE_VERSION 1
#define TRACE_F_COMPLETE 1u

struct trace_header {
	char magic[8];              /* TRACE_MAGIC, no NUL */
	uint32_t version;           /* TRACE_VERSION */
	uint32_t header_size;       /* sizeof(struct trace_header) */
	uint32_t record_size;       /* sizeof(struct trace_rec) */
	uint32_t dev_size;          /* sizeof(struct trace_dev) */
	uint32_t vcpus;             /* vCPUs of the VM (record vcpu < vcpus) */
	uint32_t ndevs;
	uint64_t devs_offset, recs_offset;
	uint64_t launch_realtime_ns; /* wall clock (CLOCK_REALTIME) at kvmini's launch */
	uint64_t nrecords;          /* records in the file, set at close */
	uint64_t dropped;           /* records not written (size limit, writer behind), at close */
	uint32_t flags;             /* TRACE_F_COMPLETE */
	uint32_t reserved;
};

#define TRACE_DEV_NAME 24
struct trace_dev {
	uint64_t base, len;
	uint8_t bus;                /* enum trace_bus */
	uint8_t reserved[7];
	char name[TRACE_DEV_NAME];  /* NUL-padded; a full-length name has no NUL */
};

/* enum trace_bus and TRACE_R_WRITE / TRACE_R_UNHANDLED: vmm/exit_decode.h */

/* One userspace exit. For a PIO/MMIO exit addr/size/value describe the access (value: the data
 * written, or what the read returned after handling; for `rep ins/outs`, the first element). */
struct trace_rec {
	uint64_t t_ns;              /* when it was handled, ns since kvmini's launch */
	uint64_t addr;              /* port or GPA; 0 for other exits */
	uint64_t value;
	uint32_t handle_ns;         /* time kvmini took to handle it (saturates) */
	uint32_t count;             /* PIO repetitions (`rep ins/outs`), 1 otherwise */
	uint16_t vcpu;
	uint16_t reason;            /* KVM_EXIT_* (saturates at 0xffff) */
	uint8_t bus;                /* enum trace_bus */
	uint8_t size;               /* access width in bytes, 0 for other exits */
	uint8_t flags;              /* TRACE_R_* */
	uint8_t reserved;
};

_Static_assert(sizeof(struct trace_header) == 80, "trace header layout");
_Static_assert(sizeof(struct trace_dev) == 48, "trace device layout");
_Static_assert(sizeof(struct trace_rec) == 40, "trace record layout");

/* ---- writing ---- */
/* The header and device table for a VM with these buses (either may be NULL). Returns a
 * malloc'd image of *len bytes (records start at *len), or NULL (out of memory). */
void *trace_file__prologue(unsigned vcpus, const struct bus *pio, const struct bus *mmio,
			   uint64_t launch_realtime_ns, size_t *len);
/* Rewrites the header's counts and sets TRACE_F_COMPLETE. 0, or -1 (errno). */
int trace_file__finish(int fd, uint64_t nrecords, uint64_t dropped);

/* ---- reading ---- */
struct trace_data {
	struct trace_header h;
	struct trace_dev *devs;     /* h.ndevs, names NUL-terminated copies */
	char (*dev_names)[TRACE_DEV_NAME + 1];
	struct trace_rec *recs;
	uint64_t n;                 /* records */
	bool complete;              /* closed cleanly */
};

/* Parses and validates a whole trace image. 0, or -1 with a reason in err. */
int trace_file__parse(const void *buf, size_t len, struct trace_data *out, char *err,
		      size_t errlen);
/* Reads and parses path. 0, or -1 with a reason in err (without the path). */
int trace_file__load(const char *path, struct trace_data *out, char *err, size_t errlen);
void trace_file__free(struct trace_data *d);
/* The device a record's access hit: an index into d->devs, or -1. */
int trace_file__device(const struct trace_data *d, const struct trace_rec *r);

#endif
