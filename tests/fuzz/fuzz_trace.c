/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the exit-trace reader (vmm/trace_file.c) and `kvmini exits` (vmm/exits_cmd.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/exits_cmd.h"
#include "vmm/trace_file.h"

/*
 * The input is a trace file. trace_file__parse on exactly its bytes (ASan sees any read past
 * the end); when it is accepted, every record's device lookup, the text summary and the
 * Chrome export (to /dev/null); then the whole `kvmini exits` command on it, read from a
 * memfd (text, or Chrome JSON to stdout or to a file, by the input's length).
 */
static int tfd = -1;
static char tpath[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tfd = memfd_create("fuzz-trace", 0);
	devnull = fopen("/dev/null", "w");
	if (tfd < 0 || !devnull)
		abort();
	snprintf(tpath, sizeof(tpath), "/proc/self/fd/%d", tfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_data d;
	char err[256];

	if (trace_file__parse(data, size, &d, err, sizeof(err)) == 0) {
		FUZZ_CHECK(d.n == (size - d.h.recs_offset) / sizeof(struct trace_rec));
		for (uint64_t i = 0; i < d.n; i++) {
			int dev = trace_file__device(&d, &d.recs[i]);
			FUZZ_CHECK(dev >= -1 && dev < (int64_t)d.h.ndevs);
			if (dev >= 0)
				FUZZ_CHECK(d.recs[i].bus == d.devs[dev].bus &&
					   d.recs[i].addr - d.devs[dev].base < d.devs[dev].len);
		}
		for (uint32_t i = 0; i < d.h.ndevs; i++)
			FUZZ_CHECK(strlen(d.dev_names[i]) <= TRACE_DEV_NAME);
		exits__summary(devnull, &d, "fuzz");
		FUZZ_CHECK(exits__chrome(devnull, &d, "fuzz\"\\\n") == 0);
		trace_file__free(&d);
	} else {
		FUZZ_CHECK(err[0] && !d.devs && !d.recs && !d.dev_names);
	}

	if (ftruncate(tfd, 0) || pwrite(tfd, data, size, 0) != (ssize_t)size)
		abort();
	char *argv_text[] = { "exits", tpath, NULL };
	char *argv_json[] = { "exits", "--format=chrome", tpath, NULL };
	char *argv_file[] = { "exits", "--chrome", "/dev/null", tpath, NULL };
	int r;
	switch (size % 3) {
	case 0: r = exits__main(2, argv_text); break;
	case 1: r = exits__main(3, argv_json); break;
	default: r = exits__main(4, argv_file); break;
	}
	FUZZ_CHECK(r == 0 || r == 1 || r == 2);
	return 0;
}
