/* SPDX-License-Identifier: Apache-2.0 */
/* --disk: path=PATH and its ro, cache, engine, serial, force, queues and coalesce keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk.h"

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Splits buf in place at single commas, turning ",," into ",". Returns the item count. */
static unsigned split(char *buf, char **items, unsigned max)
{
	unsigned n = 0;
	char *w = buf;

	items[n++] = buf;
	for (char *r = buf; *r; r++) {
		if (*r == ',' && r[1] == ',') {
			*w++ = ',';
			r++;
		} else if (*r == ',') {
			*w++ = '\0';
			if (n == max)
				return max + 1;
			items[n++] = w;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return n;
}

/* The --disk keys that take a word or a flag: 0, 1 (a value it does not know: the caller
 * names it) or NOT_MINE for another key. */
#define NOT_MINE 2
static int word_key(const char *k, const char *v, struct blk_opts *o)
{
	if (!strcmp(k, "path")) {
		o->disk.path = v;
	} else if (!strcmp(k, "ro") || !strcmp(k, "readonly")) {
		return parse_bool(v, &o->disk.readonly) ? 1 : 0;
	} else if (!strcmp(k, "force")) {
		return parse_bool(v, &o->disk.force) ? 1 : 0;
	} else if (!strcmp(k, "cache")) {
		if (!strcmp(v, "writeback"))
			o->disk.cache = DISK_CACHE_WRITEBACK;
		else if (!strcmp(v, "none") || !strcmp(v, "direct"))
			o->disk.cache = DISK_CACHE_NONE;
		else
			return 1;
	} else if (!strcmp(k, "engine") || !strcmp(k, "aio")) {
		if (!strcmp(v, "sync"))
			o->disk.engine = DISK_ENGINE_SYNC;
		else if (!strcmp(v, "io_uring") || !strcmp(v, "uring"))
			o->disk.engine = DISK_ENGINE_IO_URING;
		else
			return 1;
	} else {
		return NOT_MINE;
	}
	return 0;
}

/* The --disk keys with a bounded value (serial, queues, coalesce): 0, -1 with err, or
 * NOT_MINE. */
static int bounded_key(const char *spec, const char *k, const char *v, struct blk_opts *o,
		       char *err, size_t errlen)
{
	if (!strcmp(k, "serial")) {
		if (strlen(v) > BLK_SERIAL_MAX) {
			snprintf(err, errlen, "--disk '%s': serial is longer than %d bytes", spec,
				 BLK_SERIAL_MAX);
			return -1;
		}
		strcpy(o->serial, v);
	} else if (!strcmp(k, "queues")) {
		char *end;
		unsigned long nq = strtoul(v, &end, 10);
		if (*v < '1' || *v > '9' || *end || nq > BLK_MAX_QUEUES) {
			snprintf(err, errlen, "--disk '%s': queues must be 1 to %u", spec,
				 BLK_MAX_QUEUES);
			return -1;
		}
		o->queues = (unsigned)nq;
	} else if (!strcmp(k, "coalesce")) {
		char *end = (char *)v + strlen(v);
		long us = -1;	/* auto */
		if (strcmp(v, "auto"))
			us = *v >= '0' && *v <= '9' ? strtol(v, &end, 10) : BLK_COALESCE_MAX_US + 1;
		if (*end || us > BLK_COALESCE_MAX_US) {
			snprintf(err, errlen, "--disk '%s': coalesce must be auto, or 0 (off) to "
				 "%ld microseconds", spec, BLK_COALESCE_MAX_US);
			return -1;
		}
		o->coalesce_us = us;
	} else {
		return NOT_MINE;
	}
	return 0;
}

/* One ITEM of --disk (key=value, or the path first): 0, or -1 with err. */
static int parse_item(const char *spec, char *k, bool first, struct blk_opts *o, char *err,
		      size_t errlen)
{
	char *v = strchr(k, '=');

	if (!v && first && *k) {
		o->disk.path = k;	/* --disk PATH[,...] */
		return 0;
	}
	if (!v) {
		snprintf(err, errlen, "--disk '%s': '%s' is not key=value", spec, k);
		return -1;
	}
	*v++ = '\0';
	int r = word_key(k, v, o);
	if (r == 1) {
		snprintf(err, errlen, "--disk '%s': bad value '%s' for %s", spec, v, k);
		return -1;
	}
	if (r == NOT_MINE)
		r = bounded_key(spec, k, v, o, err, errlen);
	if (r == NOT_MINE) {
		snprintf(err, errlen, "--disk '%s': unknown key '%s' (path, ro, cache, engine, "
			 "serial, force, queues, coalesce)", spec, k);
		return -1;
	}
	return r;
}

int blk__parse_opts(const char *spec, struct blk_opts *o, char *err, size_t errlen)
{
	char *items[16];

	memset(o, 0, sizeof(*o));
	o->disk.cache = DISK_CACHE_WRITEBACK;
	o->disk.engine = DISK_ENGINE_IO_URING;
	o->coalesce_us = -1;
	if (!spec || !*spec) {
		snprintf(err, errlen, "--disk needs a value: path=PATH[,ro=on][,cache=...][,engine=...]");
		return -1;
	}
	if (strlen(spec) >= sizeof(o->buf)) {
		snprintf(err, errlen, "--disk value is too long");
		return -1;
	}
	strcpy(o->buf, spec);
	unsigned n = split(o->buf, items, 16);
	if (n > 16) {
		snprintf(err, errlen, "--disk '%s': too many options", spec);
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (parse_item(spec, items[i], i == 0, o, err, errlen))
			return -1;
	if (!o->disk.path || !*o->disk.path) {
		snprintf(err, errlen, "--disk '%s': no path given", spec);
		return -1;
	}
	return 0;
}
