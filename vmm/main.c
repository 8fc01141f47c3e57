/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's entry point: subcommands, the default guest, and the boot-then-run sequence. */
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/board.h"
#include "vmm/cli.h"
#include "vmm/console.h"
#include "vmm/ctl_cmd.h"
#include "vmm/exits_cmd.h"
#include "vmm/host_cmd.h"
#include "vmm/kvm_host.h"
#include "vmm/machine.h"
#include "vmm/seccomp.h"
#include "vmm/top_cmd.h"

/* The default guest lives next to the binary: build/kvmini -> build/guest/. */
static int default_guest(struct run_config *cfg, char *kbuf, char *ibuf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = '\0';
	char *dir = dirname(exe);
	snprintf(kbuf, len, "%s/guest/%s", dir, board__kernel_format());
	snprintf(ibuf, len, "%s/guest/initramfs.cpio.gz", dir);
	if (access(kbuf, R_OK) != 0) {
		fprintf(stderr, "kvmini: error: no --kernel given and the default guest is not built "
			"(%s is missing): run `make guest`\n", kbuf);
		return -1;
	}
	cfg->kernel = kbuf;
	if (!cfg->initrd && access(ibuf, R_OK) == 0)
		cfg->initrd = ibuf;
	return 0;
}

static uint64_t launch_ns;

static int cmd_run(int argc, char **argv)
{
	struct run_config cfg;
	char err[512], kbuf[PATH_MAX], ibuf[PATH_MAX];
	int status;

	int r = cli__parse_run(argc, argv, &cfg, err, sizeof(err));
	if (r > 0)
		return 0;
	if (r < 0) {
		fprintf(stderr, "kvmini: error: %s\n", err);
		return 2;
	}
	cfg.launch_ns = launch_ns;
	if (!cfg.kernel && default_guest(&cfg, kbuf, ibuf, sizeof(kbuf)))
		return 2;
	/* the filters are compiled now; each thread enters its own once the VM is set up */
	struct seccomp_config sc = {
		.setting = cfg.seccomp,
		.stats_file = cfg.exit_stats_path != NULL,
		.gdb_unix = cfg.gdb && !strncmp(cfg.gdb, "unix:", 5),
		.vsock_unix = cfg.vsock.on && cfg.vsock.socket[0],
		.on_fatal = console__restore,
	};
	if (seccomp__prepare(&sc, err, sizeof(err))) {
		fprintf(stderr, "kvmini: error: %s\n", err);
		return 1;
	}
	/* zeroed pages from the kernel: what a run does not use (most of the 16 disk slots)
	 * never becomes kvmini's memory */
	struct machine *m = calloc(1, sizeof(*m));
	if (!m) {
		fprintf(stderr, "kvmini: error: out of memory\n");
		return 1;
	}
	if (machine__create(m, &cfg, &status, err, sizeof(err))) {
		fprintf(stderr, "kvmini: error: %s\n", err);
	} else if (machine__boot(m, err, sizeof(err))) {
		fprintf(stderr, "kvmini: error: %s\n", err);
		status = 2;
	} else {
		status = machine__run(m, &cfg);
	}
	machine__destroy(m);
	free(m);
	return status;
}

int main(int argc, char **argv)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	launch_ns = (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
	signal(SIGPIPE, SIG_IGN);	/* a closed console pipe is an error to report, not a kill */
	if (argc < 2)
		return cmd_run(1, (char *[]){ "run", NULL });
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "exits"))
		return exits__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "host"))
		return host_cmd__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return ctl__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return top__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli__usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("kvmini %s\n", KVMINI_VERSION);
		return 0;
	}
	if (argv[1][0] == '-')	/* options without a subcommand mean `run` */
		return cmd_run(argc, (argv[0] = "run", argv));
	fprintf(stderr, "kvmini: error: unknown command '%s' (commands: run, exits, host, ctl, top; see kvmini "
		"--help)\n", argv[1]);
	return 2;
}
