/* SPDX-License-Identifier: Apache-2.0 */
/* The --trace-exits file format: building the prologue, finishing the header, strict parsing. */
#include "vmm/trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/bus.h"

static size_t bus_count(const struct bus *b)
{
	return b ? b->n : 0;
}

static void add_devs(struct trace_dev *d, const struct bus *b, enum trace_bus which)
{
	for (size_t i = 0; b && i < b->n; i++, d++) {
		const struct bus_range *r = &b->ranges[i];
		const char *name = r->ops && r->ops->name ? r->ops->name : "(unnamed)";
		d->base = r->base;
		d->len = r->len;
		d->bus = (uint8_t)which;
		strncpy(d->name, name, sizeof(d->name));	/* NUL-padded, may fill it */
	}
}

void *trace_file__prologue(unsigned vcpus, const struct bus *pio, const struct bus *mmio,
			   uint64_t launch_realtime_ns, size_t *len)
{
	size_t ndevs = bus_count(pio) + bus_count(mmio);
	size_t total = sizeof(struct trace_header) + ndevs * sizeof(struct trace_dev);
	uint8_t *img = calloc(1, total);

	if (!img)
		return NULL;
	struct trace_header *h = (struct trace_header *)img;
	memcpy(h->magic, TRACE_MAGIC, sizeof(h->magic));
	h->version = TRACE_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(struct trace_rec);
	h->dev_size = sizeof(struct trace_dev);
	h->vcpus = vcpus;
	h->ndevs = (uint32_t)ndevs;
	h->devs_offset = sizeof(*h);
	h->recs_offset = total;
	h->launch_realtime_ns = launch_realtime_ns;
	struct trace_dev *d = (struct trace_dev *)(img + sizeof(*h));
	add_devs(d, pio, TRACE_BUS_PIO);
	add_devs(d + bus_count(pio), mmio, TRACE_BUS_MMIO);
	*len = total;
	return img;
}

int trace_file__finish(int fd, uint64_t nrecords, uint64_t dropped)
{
	struct trace_header h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	h.nrecords = nrecords;
	h.dropped = dropped;
	h.flags |= TRACE_F_COMPLETE;
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct trace_dev *x = a, *y = b;

	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	return x->base < y->base ? -1 : x->base > y->base;
}

#define BAD(...) return snprintf(err, errlen, __VA_ARGS__), -1

/* The header, and that the file holds what it says: out->h, out->n, out->complete. 0, or -1. */
static int check_header(const uint8_t *p, size_t len, struct trace_data *out, char *err,
			size_t errlen)
{
	struct trace_header *h = &out->h;

	if (len < sizeof(h->magic) && !memcmp(p, TRACE_MAGIC, len))
		BAD("truncated header (%zu bytes)", len);
	if (len < sizeof(h->magic) || memcmp(p, TRACE_MAGIC, sizeof(h->magic)))
		BAD("not a kvmini exit trace (bad magic)");
	if (len < 16)
		BAD("truncated header (%zu bytes)", len);
	memcpy(&h->version, p + 8, sizeof(h->version));
	if (h->version != TRACE_VERSION)
		BAD("unsupported trace version %" PRIu32 " (this kvmini reads version %d)",
		    h->version, TRACE_VERSION);
	if (len < sizeof(*h))
		BAD("truncated header (%zu of %zu bytes)", len, sizeof(*h));
	memcpy(h, p, sizeof(*h));
	if (h->header_size < sizeof(*h) || h->header_size > len)
		BAD("bad header size %" PRIu32, h->header_size);
	if (h->record_size != sizeof(struct trace_rec))
		BAD("record size %" PRIu32 " does not match this kvmini's %zu", h->record_size,
		    sizeof(struct trace_rec));
	if (h->dev_size != sizeof(struct trace_dev))
		BAD("device entry size %" PRIu32 " does not match this kvmini's %zu", h->dev_size,
		    sizeof(struct trace_dev));
	if (h->vcpus == 0 || h->vcpus > 0xffff)
		BAD("bad vCPU count %" PRIu32, h->vcpus);
	if (h->devs_offset < h->header_size || h->devs_offset > len ||
	    h->ndevs > (len - h->devs_offset) / sizeof(struct trace_dev))
		BAD("truncated device table (%" PRIu32 " entries at offset %" PRIu64 ")", h->ndevs,
		    h->devs_offset);
	if (h->recs_offset < h->devs_offset + (uint64_t)h->ndevs * sizeof(struct trace_dev) ||
	    h->recs_offset > len)
		BAD("bad record offset %" PRIu64, h->recs_offset);
	uint64_t body = len - h->recs_offset;
	if (body % sizeof(struct trace_rec))
		BAD("truncated: %" PRIu64 " bytes after the last whole record",
		    body % sizeof(struct trace_rec));
	out->n = body / sizeof(struct trace_rec);
	out->complete = h->flags & TRACE_F_COMPLETE;
	if (out->complete && h->nrecords != out->n)
		BAD("truncated: the header says %" PRIu64 " records, the file holds %" PRIu64,
		    h->nrecords, out->n);
	return 0;
}

/* The device table (checked, sorted, printable names) and the records (checked), copied out
 * of the file into the arrays out holds. 0, or -1. */
static int copy_tables(const uint8_t *p, struct trace_data *out, char *err, size_t errlen)
{
	const struct trace_header *h = &out->h;

	memcpy(out->devs, p + h->devs_offset, h->ndevs * sizeof(struct trace_dev));
	for (uint32_t i = 0; i < h->ndevs; i++) {
		const struct trace_dev *d = &out->devs[i];
		if ((d->bus != TRACE_BUS_PIO && d->bus != TRACE_BUS_MMIO) || d->len == 0 ||
		    d->base + d->len - 1 < d->base)
			BAD("device %" PRIu32 ": bad bus or range", i);
	}
	qsort(out->devs, h->ndevs, sizeof(*out->devs), dev_cmp);
	for (uint32_t i = 0; i < h->ndevs; i++) {
		memcpy(out->dev_names[i], out->devs[i].name, TRACE_DEV_NAME);
		out->dev_names[i][TRACE_DEV_NAME] = '\0';
		for (char *c = out->dev_names[i]; *c; c++)	/* printable only: it goes to terminals */
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
	}
	memcpy(out->recs, p + h->recs_offset, out->n * sizeof(*out->recs));
	for (uint64_t i = 0; i < out->n; i++) {
		const struct trace_rec *r = &out->recs[i];
		if (r->vcpu >= h->vcpus)
			BAD("record %" PRIu64 ": vCPU %u, but the trace has %" PRIu32, i, r->vcpu,
			    h->vcpus);
		if (r->bus > TRACE_BUS_MMIO || r->size > 8)
			BAD("record %" PRIu64 ": bad bus %u or size %u", i, r->bus, r->size);
	}
	return 0;
}

int trace_file__parse(const void *buf, size_t len, struct trace_data *out, char *err,
		      size_t errlen)
{
	const uint8_t *p = buf;

	memset(out, 0, sizeof(*out));
	if (check_header(p, len, out, err, errlen))
		goto fail;
	uint32_t ndevs = out->h.ndevs ? out->h.ndevs : 1;
	out->devs = calloc(ndevs, sizeof(*out->devs));
	out->dev_names = calloc(ndevs, sizeof(*out->dev_names));
	out->recs = malloc(out->n ? out->n * sizeof(*out->recs) : 1);
	if (!out->devs || !out->dev_names || !out->recs) {
		snprintf(err, errlen, "out of memory (%" PRIu64 " records)", out->n);
		goto fail;
	}
	if (copy_tables(p, out, err, errlen))
		goto fail;
	return 0;
fail:
	trace_file__free(out);
	return -1;
}

int trace_file__load(const char *path, struct trace_data *out, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "empty file");
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		snprintf(err, errlen, "out of memory (%lld bytes)", (long long)st.st_size);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* shrank while we read: parse what we have */
		got += (size_t)n;
	}
	close(fd);
	int r = trace_file__parse(buf, got, out, err, errlen);
	free(buf);
	return r;
}

void trace_file__free(struct trace_data *d)
{
	free(d->devs);
	free(d->dev_names);
	free(d->recs);
	d->devs = NULL;
	d->dev_names = NULL;
	d->recs = NULL;
	d->n = 0;
}

int trace_file__device(const struct trace_data *d, const struct trace_rec *r)
{
	size_t lo = 0, hi = d->h.ndevs;

	if (r->bus == TRACE_BUS_NONE)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct trace_dev *x = &d->devs[mid];
		if (r->bus < x->bus || (r->bus == x->bus && r->addr < x->base))
			hi = mid;
		else if (r->bus > x->bus || r->addr - x->base >= x->len)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}
