/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: `kvmini run` options (vmm/cli.c), --disk (virtio/blk_opts.c), --trace-exits, sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/boot.h"
#include "vmm/cli.h"
#include "vmm/parse.h"
#include "vmm/trace_opts.h"

/*
 * The input is a command line: arguments separated by NUL bytes (argv[0] is "run", at most
 * 128 arguments). cli__parse_run on it, and a config it accepts is checked against what the
 * options promise and turned into the guest's command line; then each argument alone through
 * the parsers behind --disk, --trace-exits and --memory, which see values getopt would hand
 * them whatever the option.
 */
#define MAX_ARGS 128

static void check_config(const struct run_config *c)
{
	FUZZ_CHECK(c->cpus >= 1 && c->cpus <= MAX_CPUS);
	FUZZ_CHECK(c->memory >= GM_MIN_RAM && c->memory <= GM_MAX_RAM && c->memory % 4096 == 0);
	FUZZ_CHECK(c->ndisks <= MAX_DISKS);
	FUZZ_CHECK(c->shutdown_timeout <= 3600);
	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct blk_opts *o = &c->disks[i];
		FUZZ_CHECK(o->disk.path && o->disk.path[0]);
		FUZZ_CHECK(o->queues <= VIRTIO_MAX_QUEUES);
		FUZZ_CHECK(memchr(o->serial, 0, sizeof(o->serial)));
	}
	if (c->console == CONSOLE_FILE)
		FUZZ_CHECK(c->console_path && c->console_path[0]);
	char *cmdline = boot__cmdline(c, "virtio_mmio.device=4K@0xd0000000:5");
	FUZZ_CHECK(cmdline);
	free(cmdline);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	static struct run_config cfg;
	static struct blk_opts bo;
	struct trace_opts to;
	char err[256];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "run";
	for (char *p = buf; p < buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	err[0] = '\0';
	int r = cli__parse_run(argc, argv, &cfg, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == 1 || r == -1);
	if (r == 0)
		check_config(&cfg);
	else if (r == -1)
		FUZZ_CHECK(err[0]);

	for (int i = 1; i < argc; i++) {
		uint64_t sz;
		if (blk__parse_opts(argv[i], &bo, err, sizeof(err)) == 0) {
			FUZZ_CHECK(bo.disk.path && bo.disk.path[0]);
			FUZZ_CHECK(memchr(bo.serial, 0, sizeof(bo.serial)));
		}
		if (trace__parse_opts(argv[i], &to, err, sizeof(err)) == 0)
			FUZZ_CHECK(to.path[0] && to.max_bytes > 0);
		if (parse__size(argv[i], &sz) == 0)
			FUZZ_CHECK(sz % 4096 == 0);
	}
	free(buf);
	return 0;
}
