/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz targets: a virtio-blk device on a small temporary file (engine=sync) and flat guest RAM. */
#ifndef KVMINI_TESTS_FUZZ_DISK_H
#define KVMINI_TESTS_FUZZ_DISK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "vmm/memory.h"

/* Opens a blk device on a fresh file of `size` bytes (a byte pattern) with "path=...,
 * engine=sync" + `extra` options; the file is unlinked at once (the device keeps it open).
 * Exits on failure: that is the harness's environment, not the code under test. */
static inline void fuzz__blk_open(struct blk_dev *b, const char *extra, size_t size)
{
	/* the device keeps pointing at its path in o (blk_dev.path): one per device, for good */
	static struct blk_opts opts[4];
	static unsigned nopts;
	char path[] = "/tmp/kvmini-fuzz-XXXXXX", spec[256], err[256], note[256];
	struct blk_opts *o = nopts < 4 ? &opts[nopts++] : NULL;
	uint8_t *pat = malloc(size);
	int fd = mkstemp(path);

	if (!o || !pat || fd < 0)
		goto fail;
	for (size_t i = 0; i < size; i++)
		pat[i] = (uint8_t)(i * 7 + (i >> 9));
	if (write(fd, pat, size) != (ssize_t)size)
		goto fail;
	close(fd);
	snprintf(spec, sizeof(spec), "path=%s,engine=sync%s%s", path, *extra ? "," : "", extra);
	if (blk__parse_opts(spec, o, err, sizeof(err)) ||
	    blk__init(b, o, err, sizeof(err), note, sizeof(note))) {
		fprintf(stderr, "fuzz: %s\n", err);
		goto fail;
	}
	unlink(path);
	free(pat);
	return;
fail:
	perror("fuzz: cannot make the test disk");
	unlink(path);
	exit(1);
}

/* Guest RAM for a target: `size` bytes at gpa 0, made once per process (exits on failure). */
static inline uint8_t *fuzz__ram(struct guest_mem *gm, size_t size)
{
	uint8_t *ram = malloc(size);
	if (!ram)
		abort();
	gm__init_flat(gm, ram, size);
	return ram;
}

/* An interrupt line that goes nowhere. */
static inline void fuzz__no_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	(void)gsi;
	(void)level;
}

#endif
