/* SPDX-License-Identifier: Apache-2.0 */
/* The `kvmini run` command line: getopt_long into struct run_config, with strict value checks. */
#include "vmm/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "vmm/board.h"
#include "vmm/gdb.h"
#include "vmm/memory.h"
#include "vmm/parse.h"

/* --memory SIZE[,thp=on|off][,hugepages=on|off] */
static int parse_memory(const char *arg, struct run_config *cfg, char *err, size_t errlen)
{
	char buf[128], *save = NULL, *tok;
	int thp = -1, huge = -1;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "--memory: too long");
		return -1;
	}
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (!tok || parse__size(tok, &cfg->memory)) {
		snprintf(err, errlen, "--memory '%s': not a size (examples: 512M, 2G)", arg);
		return -1;
	}
	if (cfg->memory < GM_MIN_RAM || cfg->memory > GM_MAX_RAM) {
		snprintf(err, errlen, "--memory '%s': must be between %llu MiB and %llu GiB", arg,
			 GM_MIN_RAM >> 20, GM_MAX_RAM >> 30);
		return -1;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');
		int *slot = NULL;

		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "thp"))
			slot = &thp;
		else if (!strcmp(tok, "hugepages"))
			slot = &huge;
		if (!slot) {
			snprintf(err, errlen, "--memory '%s': unknown key '%s' (keys: thp, hugepages)",
				 arg, tok);
			return -1;
		}
		if (!val || (strcmp(val, "on") && strcmp(val, "off"))) {
			snprintf(err, errlen, "--memory '%s': %s needs =on or =off", arg, tok);
			return -1;
		}
		*slot = !strcmp(val, "on");
	}
	if (huge == 1 && thp == 1) {
		snprintf(err, errlen, "--memory '%s': thp=on and hugepages=on exclude each other",
			 arg);
		return -1;
	}
	if (huge == 1 && (cfg->memory & (GM_HUGE - 1))) {
		snprintf(err, errlen, "--memory '%s': hugepages=on needs a whole number of 2 MiB "
			 "pages", arg);
		return -1;
	}
	cfg->mem_pages = huge == 1 ? GM_PAGES_HUGETLB : thp == 0 ? GM_PAGES_SMALL : GM_PAGES_THP;
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* NULL (bare --exit-stats) or "text", "json", "json:PATH" */
static int parse_exit_stats(const char *s, struct run_config *cfg)
{
	cfg->exit_stats_path = NULL;
	if (!s || !strcmp(s, "text")) {
		cfg->exit_stats = EXIT_STATS_TEXT;
	} else if (!strcmp(s, "json")) {
		cfg->exit_stats = EXIT_STATS_JSON;
	} else if (!strncmp(s, "json:", 5) && s[5]) {
		cfg->exit_stats = EXIT_STATS_JSON;
		cfg->exit_stats_path = s + 5;
	} else {
		return -1;
	}
	return 0;
}

/* cli__usage's second half: watching and debugging, the KVM device, the exit status */
static void usage_debug(FILE *f)
{
	fputs(
"      --dump-dtb FILE    write the device tree the guest gets to FILE (boards that\n"
"                         describe themselves with one: arm64; x86's use ACPI tables)\n"
"      --exit-stats[=FMT] count VM exits by reason, port/address and device, with\n"
"                         handling latency (p50/p99/max) and KVM's in-kernel counters;\n"
"                         FMT is text (default, stderr), json (stderr) or json:PATH\n"
"                         (written to PATH). Printed when the VM ends and on SIGUSR1\n"
"                         (the VM keeps running)\n"
"      --trace-exits FILE[,ITEM...]  record every VM exit kvmini handles to FILE (a\n"
"                         compact binary trace: `kvmini exits FILE` summarises it); ITEMs:\n"
"                         reason=io|mmio|...  only these exit reasons (names as in\n"
"                         KVM_EXIT_*, or numbers; '|' or '+' between them),\n"
"                         addr=LO[-HI]  only port/MMIO accesses in that range,\n"
"                         vcpu=N  only that vCPU, max=SIZE  file size limit (default 64M;\n"
"                         past it records are counted as dropped)\n"
"      --strict           an access to a port or MMIO address with no device stops the\n"
"                         VM with a dump (default: counted, reads return all-ones)\n"
"      --gdb SPEC         a gdb stub (GDB remote protocol) on SPEC: tcp:HOST:PORT or\n"
"                         unix:PATH; one gdb thread per vCPU; attaching stops the VM,\n"
"                         detaching resumes it. In gdb: target remote HOST:PORT\n"
"      --gdb-wait         with --gdb: the VM runs no instruction until gdb attaches and\n"
"                         continues it (like QEMU's -s -S)\n"
"      --api-socket PATH  an HTTP API on the Unix socket PATH (mode 0600): vm.info,\n"
"                         vm.pause, vm.resume, vm.shutdown, vm.counters, ... (curl\n"
"                         --unix-socket PATH, or kvmini ctl PATH VERB; docs/api.md)\n"
"      --shutdown-timeout S  SIGTERM presses the guest's power button (x86: ACPI; arm64:\n"
"                         gpio-keys) and"
"                         waits S seconds for it to power off, then stops it (default\n"
"                         30; 0: at once); a second SIGTERM, or SIGINT, stops it now\n"
"      --seccomp MODE     a syscall allow-list per thread once the VM is set up: on\n"
"                         (default: a syscall outside it ends kvmini, naming it), log\n"
"                         (allowed, but logged by the kernel: dmesg or the audit log),\n"
"                         or off\n"
"      --kvm-device PATH  KVM device (default /dev/kvm)\n"
"  -q, --quiet            print only errors, not what kvmini is doing\n"
"  -h, --help             this text\n"
"\n"
"exit status: 0 the guest powered off or rebooted (or Ctrl-A x); 1 the guest crashed or\n"
"panicked, or a host error; 2 bad usage or input. Messages from kvmini go to stderr.\n", f);
}

void cli__usage(FILE *f)
{
	fprintf(f,
"usage: kvmini run [options]      boot a Linux guest (no options: the default guest)\n"
"       kvmini exits [--chrome OUT.json | --format=text|chrome] FILE\n"
"                                 summarise a --trace-exits file, or export it as\n"
"                                 Chrome trace-event JSON (Perfetto, chrome://tracing)\n"
"       kvmini ctl SOCKET VERB [--json]\n"
"                                 drive a kvmini started with --api-socket SOCKET;\n"
"                                 VERB: ping, info, pause, resume, power-button,\n"
"                                 shutdown, shutdown-vmm, counters, exit-stats\n"
"       kvmini host [--kind] [--exit-cost]\n"
"                                 what backs /dev/kvm here: hardware, paravirtual or\n"
"                                 none, and what to do (status 1 when there is none);\n"
"                                 --exit-cost: what one VM exit costs here\n"
"       kvmini --help | --version\n"
"\n"
"options of run:\n"
"  -k, --kernel PATH      %s to boot (default: the guest `make guest` built,\n"
"                         guest/%s next to the kvmini binary)\n"
"  -i, --initrd PATH      initramfs (default with the default kernel: its initramfs)\n"
"      --cmdline STR      kernel command line, replacing the default:\n"
"                         \"%s\"\n"
"      --append STR       added to the end of the command line\n"
"  -c, --cpus N           vCPUs, one thread each: 1..%d and at most KVM's maximum (default 1)\n"
"  -m, --memory SIZE[,thp=on|off][,hugepages=on]\n"
"                         guest RAM: 512M, 2G, 65536K; a bare number is MiB (default 512M);\n"
"                         on x86, RAM past 3 GiB goes above 4 GiB (the MMIO hole).\n"
"                         Backed by transparent huge pages where the host has them\n"
"                         (default, thp=on: 2 MiB-aligned, MADV_HUGEPAGE), by 4 KiB pages\n"
"                         only (thp=off), or by 2 MiB hugetlb pages reserved at start\n"
"                         (hugepages=on: SIZE a multiple of 2M, /proc/sys/vm/nr_hugepages\n"
"                         must hold them)\n"
"      --console MODE     stdio (default: guest serial on stdin/stdout, Ctrl-A x quits),\n"
"                         none, or file=PATH (output to PATH, no input)\n"
"  -d, --disk SPEC        a virtio-blk disk (repeatable, up to %d), SPEC is\n"
"                         path=PATH[,ro=on][,cache=writeback|none][,engine=io_uring|sync]\n"
"                         [,serial=ID][,force=on][,queues=N][,coalesce=auto|US]: a regular\n"
"                         file or a block device; queues=N (1..8, at most --cpus) gives N\n"
"                         virtqueues, each with its own I/O thread (and MSI-X vector with\n"
"                         pci); coalesce: how long a request of 64 KiB or more may wait for\n"
"                         company (its interrupt, or a new request while kicks are off):\n"
"                         auto (default) 16 VM exits' worth as measured at start, at most\n"
"                         500 us; US by hand; 0 off; the guest sees /dev/vda, /dev/vdb, ...\n"
"      --balloon SPEC     a virtio-balloon device: on, or [size=SIZE][,stats=on|off]\n"
"                         [,deflate_on_oom=on|off][,free_page_reporting=on|off] (all on,\n"
"                         size 0 by default): vm.resize (desired_balloon) inflates it, its\n"
"                         statistics give vm.memory the guest's view, pages the guest\n"
"                         reports free go back to the host\n"
"      --net SPEC         a virtio-net card on a tap (repeatable, up to %d), SPEC is\n"
"                         tap=NAME|fd=N[,mac=MAC][,queues=N][,mtu=N][,vhost=off]: an existing\n"
"                         tap (ip tuntap add NAME mode tap [multi_queue]), or an fd a\n"
"                         launcher opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR; mac default\n"
"                         random (locally administered); queues=N (1..4) queue pairs, each\n"
"                         with its own I/O thread (a multi_queue tap); mtu tells the guest\n"
"      --rng [SPEC]       a virtio-rng device fed by the host's getrandom(): on, or\n"
"                         rate=BYTES[,burst=BYTES] per second (K, M suffixes)\n"
"      --vsock cid=N[,socket=PATH]  a virtio-vsock device: the guest is CID N (3 or\n"
"                         more). Without socket: vhost-vsock, the host reaches the guest\n"
"                         with AF_VSOCK sockets. With it (hybrid vsock, as Firecracker and\n"
"                         Cloud Hypervisor): the host connects to PATH and writes\n"
"                         \"CONNECT <port>\\n\", the guest's connections to port P go to\n"
"                         PATH_P (docs/net.md)\n"
"      --virtio-transport T  how disks attach: pci (default: virtio-pci modern devices\n"
"                         behind a PCI root bridge, MSI-X interrupts through KVM irqfds,\n"
"                         kicks through ioeventfds: no userspace exit per request) or\n"
"                         mmio (virtio-mmio windows with wired GSIs, described in the\n"
"                         DSDT; two exits per completion interrupt)\n"
"      --virtio-mmio-cmdline  also add virtio_mmio.device= to the command line (for\n"
"                         kernels with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES; stock\n"
"                         kernels find the devices through ACPI)\n"
"",
		board__kernel_format(), board__kernel_format(), board__default_cmdline(), MAX_CPUS,
		MAX_DISKS, MAX_NETS);
	usage_debug(f);
}

enum { OPT_CMDLINE = 256, OPT_APPEND, OPT_CONSOLE, OPT_KVM, OPT_VIRTIO_CMDLINE,
       OPT_EXIT_STATS, OPT_TRACE_EXITS, OPT_STRICT, OPT_TRANSPORT, OPT_GDB, OPT_GDB_WAIT, OPT_SECCOMP,
       OPT_DUMP_DTB, OPT_API_SOCKET, OPT_SHUTDOWN_TIMEOUT, OPT_BALLOON, OPT_NET, OPT_RNG, OPT_VSOCK };
#define NOT_MINE (-2)	/* an option group's answer for an option of another group */

/* The guest: kernel, initrd, command line, vCPUs, memory, console. 0, -1 (err) or NOT_MINE. */
static int guest_option(int c, const char *arg, struct run_config *cfg, char *err, size_t errlen)
{
	switch (c) {
	case 'k':
	case 'i':
		if (!*arg) {
			snprintf(err, errlen, "--%s needs a path, got an empty string",
				 c == 'k' ? "kernel" : "initrd");
			return -1;
		}
		*(c == 'k' ? &cfg->kernel : &cfg->initrd) = arg;
		return 0;
	case OPT_CMDLINE:
		cfg->cmdline = arg;
		return 0;
	case OPT_APPEND:
		cfg->append = arg;
		return 0;
	case 'c':
		if (parse_uint(arg, MAX_CPUS, &cfg->cpus) || cfg->cpus == 0) {
			snprintf(err, errlen, "--cpus '%s': need a whole number from 1 to %d", arg,
				 MAX_CPUS);
			return -1;
		}
		return 0;
	case 'm':
		return parse_memory(arg, cfg, err, errlen);
	case OPT_CONSOLE:
		if (!strcmp(arg, "stdio")) {
			cfg->console = CONSOLE_STDIO;
		} else if (!strcmp(arg, "none")) {
			cfg->console = CONSOLE_NONE;
		} else if (!strncmp(arg, "file=", 5) && arg[5]) {
			cfg->console = CONSOLE_FILE;
			cfg->console_path = arg + 5;
		} else {
			snprintf(err, errlen, "--console '%s': use stdio, none or file=PATH", arg);
			return -1;
		}
		return 0;
	}
	return NOT_MINE;
}

/* The host side: disks, their transport, the KVM device. 0, -1 (err) or NOT_MINE. */
static int device_option(int c, const char *arg, struct run_config *cfg, char *err,
			 size_t errlen)
{
	switch (c) {
	case 'd':
		if (cfg->ndisks == MAX_DISKS) {
			snprintf(err, errlen, "too many --disk options (at most %d)", MAX_DISKS);
			return -1;
		}
		if (blk__parse_opts(arg, &cfg->disks[cfg->ndisks], err, errlen))
			return -1;
		cfg->ndisks++;
		return 0;
	case OPT_VIRTIO_CMDLINE:
		cfg->virtio_cmdline = true;
		return 0;
	case OPT_TRANSPORT:
		if (!strcmp(arg, "mmio")) {
			cfg->transport = VIRTIO_TRANSPORT_MMIO;
		} else if (!strcmp(arg, "pci")) {
			cfg->transport = VIRTIO_TRANSPORT_PCI;
		} else {
			snprintf(err, errlen, "--virtio-transport '%s': use mmio or pci", arg);
			return -1;
		}
		return 0;
	case OPT_KVM:
		cfg->kvm_path = arg;
		return 0;
	case OPT_BALLOON:
		return balloon__parse_opts(strcmp(arg, "on") ? arg : "", &cfg->balloon, err, errlen);
	case OPT_NET:
		if (cfg->nnets == MAX_NETS) {
			snprintf(err, errlen, "too many --net options (at most %d)", MAX_NETS);
			return -1;
		}
		return net__parse_opts(arg, &cfg->nets[cfg->nnets++], err, errlen);
	case OPT_RNG:
		return rng__parse_opts(arg ? arg : "", &cfg->rng, err, errlen);
	case OPT_VSOCK:
		return vsock__parse_opts(arg, &cfg->vsock, err, errlen);
	case OPT_SHUTDOWN_TIMEOUT:
		if (parse_uint(arg, 3600, &cfg->shutdown_timeout)) {
			snprintf(err, errlen, "--shutdown-timeout '%s': need whole seconds from 0 "
				 "to 3600", arg);
			return -1;
		}
		return 0;
	case OPT_API_SOCKET:
		if (!*arg || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "--api-socket '%s': %s", arg, *arg ?
				 "path too long (at most 107 bytes)" : "needs a path");
			return -1;
		}
		cfg->api_socket = arg;
		return 0;
	case OPT_DUMP_DTB:
		if (!board__has_device_tree()) {
			snprintf(err, errlen, "--dump-dtb: this board describes itself to the guest "
				 "with ACPI tables, not a device tree (arm64 has one)");
			return -1;
		}
		if (!*arg) {
			snprintf(err, errlen, "--dump-dtb needs a path, got an empty string");
			return -1;
		}
		cfg->dump_dtb = arg;
		return 0;
	}
	return NOT_MINE;
}

/* Watching and debugging: exit statistics, traces, --strict, gdb, seccomp, --quiet. 0, -1
 * (err) or NOT_MINE. */
static int debug_option(int c, const char *arg, struct run_config *cfg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_EXIT_STATS:
		if (parse_exit_stats(arg, cfg)) {
			snprintf(err, errlen, "--exit-stats=%s: use text, json or json:PATH", arg);
			return -1;
		}
		return 0;
	case OPT_TRACE_EXITS:
		if (trace__parse_opts(arg, &cfg->trace_opts, err, errlen))
			return -1;
		cfg->trace = true;
		return 0;
	case OPT_STRICT:
		cfg->strict = true;
		return 0;
	case OPT_GDB:
		if (gdb__check_spec(arg)) {
			snprintf(err, errlen, "--gdb '%s': use tcp:HOST:PORT (PORT 1-65535) or "
				 "unix:PATH", arg);
			return -1;
		}
		cfg->gdb = arg;
		return 0;
	case OPT_GDB_WAIT:
		cfg->gdb_wait = true;
		return 0;
	case OPT_SECCOMP:
		if (seccomp__parse(arg, &cfg->seccomp)) {
			snprintf(err, errlen, "--seccomp '%s': use on, log or off", arg);
			return -1;
		}
		return 0;
	case 'q':
		cfg->quiet = true;
		return 0;
	}
	return NOT_MINE;
}

/* What no single option can say wrong, only two together. 0, or -1 with err. */
static int check_together(const struct run_config *cfg, char *err, size_t errlen)
{
	if (cfg->trace && cfg->trace_opts.filter.vcpu >= (int)cfg->cpus) {
		snprintf(err, errlen, "--trace-exits: vcpu=%d, but there %s only %u vCPU%s",
			 cfg->trace_opts.filter.vcpu, cfg->cpus == 1 ? "is" : "are", cfg->cpus,
			 cfg->cpus == 1 ? "" : "s");
		return -1;
	}
	if (cfg->gdb_wait && !cfg->gdb) {
		snprintf(err, errlen, "--gdb-wait needs --gdb");
		return -1;
	}
	if (cli__virtio_count(cfg) > MAX_VIRTIO) {
		snprintf(err, errlen, "%u virtio devices (%u disks%s, %u network cards%s%s): at most "
			 "%d", cli__virtio_count(cfg), cfg->ndisks, cfg->balloon.on ? ", a balloon" : "",
			 cfg->nnets, cfg->rng.on ? ", an rng" : "", cfg->vsock.on ? ", a vsock" : "",
			 MAX_VIRTIO);
		return -1;
	}
	if (cfg->balloon.on && cfg->balloon.size > cfg->memory) {
		snprintf(err, errlen, "--balloon size=%llu MiB is more than --memory (%llu MiB)",
			 (unsigned long long)(cfg->balloon.size >> 20),
			 (unsigned long long)(cfg->memory >> 20));
		return -1;
	}
	if (cfg->virtio_cmdline && cfg->transport != VIRTIO_TRANSPORT_MMIO) {
		snprintf(err, errlen, "--virtio-mmio-cmdline needs --virtio-transport mmio "
			 "(the default transport is pci)");
		return -1;
	}
	return 0;
}

unsigned cli__virtio_count(const struct run_config *cfg)
{
	return cfg->ndisks + cfg->balloon.on + cfg->nnets + cfg->rng.on + cfg->vsock.on;
}

static void set_defaults(struct run_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->memory = DEFAULT_MEMORY;
	cfg->console = CONSOLE_STDIO;
	cfg->kvm_path = "/dev/kvm";
	/* pci: no exit per request (ioeventfd + MSI-X irqfd), where the board has a PCI host */
	cfg->transport = board__has_pci() ? VIRTIO_TRANSPORT_PCI : VIRTIO_TRANSPORT_MMIO;
	cfg->seccomp = SECCOMP_ON;
	cfg->shutdown_timeout = 30;
}

int cli__parse_run(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "kvm-device", required_argument, NULL, OPT_KVM },
		{ "disk", required_argument, NULL, 'd' },
		{ "virtio-mmio-cmdline", no_argument, NULL, OPT_VIRTIO_CMDLINE },
		{ "virtio-transport", required_argument, NULL, OPT_TRANSPORT },
		{ "exit-stats", optional_argument, NULL, OPT_EXIT_STATS },
		{ "trace-exits", required_argument, NULL, OPT_TRACE_EXITS },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
		{ "seccomp", required_argument, NULL, OPT_SECCOMP },
		{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
		{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "balloon", required_argument, NULL, OPT_BALLOON },
		{ "net", required_argument, NULL, OPT_NET },
		{ "rng", optional_argument, NULL, OPT_RNG },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	set_defaults(cfg);
	optind = 0;	/* reset getopt: tests call this more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:k:i:c:m:d:qh", opts, NULL)) != -1) {
		if (c == 'h') {
			cli__usage(stdout);
			return 1;
		}
		if (c == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		}
		int r = guest_option(c, optarg, cfg, err, errlen);
		if (r == NOT_MINE)
			r = device_option(c, optarg, cfg, err, errlen);
		if (r == NOT_MINE)
			r = debug_option(c, optarg, cfg, err, errlen);
		if (r == NOT_MINE) {
			snprintf(err, errlen, "unknown option '%s' (see kvmini run --help)",
				 argv[optind - 1]);
			return -1;
		}
		if (r)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see kvmini run --help)", argv[optind]);
		return -1;
	}
	return check_together(cfg, err, errlen);
}
