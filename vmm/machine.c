/* SPDX-License-Identifier: Apache-2.0 */
/* The board: one VM with its platform devices wired to buses and IRQs, booted and run. */
#include "vmm/machine.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"
#include "vmm/api.h"
#include "vmm/board.h"
#include "vmm/boot.h"
#include "vmm/exit_cost.h"
#include "vmm/gdb.h"
#include "vmm/launcher.h"
#include "vmm/memory_report.h"
#include "vmm/report.h"
#include "vmm/run.h"
#include "vmm/seccomp.h"
#include "vmm/stats.h"
#include "vmm/trace.h"
#include "vmm/vcpu.h"

int machine__add_devices(struct machine *m, char *err, size_t errlen)
{
	return board__add_devices(m, err, errlen);
}

static void print_memory_backing(const struct run_config *cfg)
{
	char mode[32];
	const char *how;

	switch (cfg->mem_pages) {
	case GM_PAGES_HUGETLB: how = "2 MiB hugetlb pages, reserved"; break;
	case GM_PAGES_SMALL: how = "4 KiB pages (thp=off)"; break;
	default:
		gm__thp_mode(mode, sizeof(mode));
		how = !strcmp(mode, "always") || !strcmp(mode, "madvise")
			      ? "transparent huge pages where the host has them"
			      : "4 KiB pages (the host's transparent huge pages are off)";
	}
	fprintf(stderr, "kvmini: guest RAM %llu MiB on %s\n",
		(unsigned long long)(cfg->memory >> 20), how);
}

static int enable_exit_stats(struct machine *m, const struct run_config *cfg, char *err,
			     size_t errlen)
{
	if (stats__enable_vm(&m->vm)) {
		snprintf(err, errlen, "--exit-stats: out of memory");
		return -1;
	}
	m->exit_stats = cfg->exit_stats;
	m->exit_stats_path = cfg->exit_stats_path;
	m->console.on_stats = machine__print_exit_stats;
	m->console.stats_ctx = m;
	return 0;
}

/* The exit statistics, then how the host backs guest RAM and each disk queue's state (what
 * is waiting, what is in flight), all as snapshots, to f. */
static void report_exit_stats(struct machine *m, FILE *f, bool json)
{
	struct blk_queue_snap queues[MAX_DISKS * VIRTIO_MAX_QUEUES];
	const struct net_dev *nets[MAX_NETS];
	struct report_board board = { .queues = queues, .nets = nets, .nnets = m->nnets,
				      .vsock_hy = m->vsock_hy_on ? &m->vsock_hy : NULL };
		struct stats_snapshot snap;
	struct mem_report mem;

	if (stats__snapshot_vm(&m->vm, &snap)) {
		fprintf(f, "kvmini: exit stats: out of memory\n");
		return;
	}
	if (mem_report__take(&mem, &m->vm, m->blk, m->ndisks, m->balloon_on ? &m->balloon : NULL,
			     false) == 0) {
		board.memory_known = true;
		board.memory = (struct report_memory){ .pages = mem.pages, .size = mem.ram_size,
			.resident = mem.ram_resident, .huge = mem.ram_huge };
		board.places = &mem;
	}
	for (unsigned i = 0; i < m->nnets; i++)
		nets[i] = &m->net[i];
	for (unsigned i = 0; i < m->ndisks; i++)
		board.nqueues += blk__snapshot_queues(&m->blk[i], queues + board.nqueues,
						      MAX_DISKS * VIRTIO_MAX_QUEUES - board.nqueues);
	report__exit_stats(f, &snap, json, &board);
	stats__snapshot_free(&snap);
}

/* vm.exit-stats (the API thread): the same report, as JSON */
static void api_exit_stats(void *machine, FILE *f)
{
	report_exit_stats(machine, f, true);
}

/* the board's power button or reboot key, while the VM runs (not once it is stopping) */
static int press_key(struct machine *m, int (*key)(struct machine *, char *, size_t), char *err,
		     size_t errlen)
{
	if (vm__stopping(&m->vm)) {
		snprintf(err, errlen, "the VM is stopping");
		return -1;
	}
	return key(m, err, errlen);
}

/* vm.power-button */
static int api_power_button(void *ctx, char *err, size_t errlen)
{
	return press_key(ctx, board__power_button, err, errlen);
}

/* vm.reboot */
static int api_reboot_key(void *ctx, char *err, size_t errlen)
{
	return press_key(ctx, board__reboot_key, err, errlen);
}

/* the first SIGTERM: the board's power button (-1: stop at once) */
static int term_power_button(void *ctx)
{
	char err[160];

	return board__power_button(ctx, err, sizeof(err));
}

/* --api-socket: its requests act on this machine from now on */
static void connect_api(struct machine *m, const struct run_config *cfg)
{
	struct api_backend b;

	m->api_ctx = (struct machine_api){
		.vm = &m->vm, .cfg = cfg, .blk = m->blk, .ndisks = m->ndisks,
		.exit_stats = m->exit_stats != EXIT_STATS_OFF ? api_exit_stats : NULL,
		.exit_stats_ctx = m,
		.power_button = api_power_button, .reboot_key = api_reboot_key, .power_ctx = m,
		.balloon = m->balloon_on ? &m->balloon : NULL,
		.net = m->net, .nnets = m->nnets, .rng = m->rng_on ? &m->rng : NULL,
		.vsock = m->vsock_on ? &m->vsock : NULL,
		.vsock_hy = m->vsock_hy_on ? &m->vsock_hy : NULL,
	};
	machine_api__backend(&m->api_ctx, &b);
	api__set_backend(m->api, &b);
}

/* Writes PATH.tmp and renames it over PATH, so PATH always holds one whole snapshot. */
static void write_exit_stats_file(struct machine *m)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", m->exit_stats_path);
	f = fopen(tmp, "we");
	if (!f) {
		fprintf(stderr, "kvmini: warning: --exit-stats: %s: %s\n", tmp, strerror(errno));
		return;
	}
	report_exit_stats(m, f, true);
	if (fclose(f) || rename(tmp, m->exit_stats_path))
		fprintf(stderr, "kvmini: warning: --exit-stats: cannot write %s: %s\n",
			m->exit_stats_path, strerror(errno));
}

void machine__print_exit_stats(void *machine)
{
	struct machine *m = machine;

	if (m->exit_stats == EXIT_STATS_OFF)
		return;
	if (m->exit_stats_path)
		write_exit_stats_file(m);
	else
		report_exit_stats(m, stderr, m->exit_stats == EXIT_STATS_JSON);
}

/* coalesce=auto disks (the default): their window from what a VM exit costs on this machine,
 * measured on a scratch VM (vmm/exit_cost.c; the model: docs/benchmarks.md) */
static void tune_disks(struct machine *m, const struct run_config *cfg)
{
	bool any = false;
	char why[200];

	for (unsigned i = 0; i < m->ndisks; i++)
		any |= m->blk[i].coalesce_auto;
	if (!any)
		return;
	long ns = exit_cost__measure(&m->kvm, why, sizeof(why));
	for (unsigned i = 0; i < m->ndisks; i++)
		blk__set_exit_cost(&m->blk[i], ns);
	long w = blk__coalesce_for(ns);
	const char *kicks = blk__kicks_off(w) ? "asks for no kicks while one is in flight"
					      : "keeps kicks on";
	if (ns < 0)
		fprintf(stderr, "kvmini: warning: %s; virtio-blk assumes %.1f us, hardware's: holds "
			"interrupts of large requests up to %ld us and %s\n", why,
			BLK_ASSUMED_EXIT_NS / 1e3, w / 1000, kicks);
	else if (!cfg->quiet)
		fprintf(stderr, "kvmini: a VM exit costs %.1f us here (median of %d): virtio-blk "
			"holds interrupts of large requests up to %ld us and %s\n", ns / 1e3,
			EXIT_COST_SAMPLES, w / 1000, kicks);
}

/* The PCI host (only when a disk sits on it) and the GSI routing table MSI-X vectors are
 * added to; where its windows are and how the guest learns of them is the board's. */
static int add_pci_host(struct machine *m, char *err, size_t errlen)
{
	if (irq_routes__init(&m->routes, m->vm.fd)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return board__add_pci_host(m, err, errlen);	/* sets pci_on once the host is set up */
}

/* A virtio device on virtio slot i: a function of the PCI host, or a virtio-mmio window */
struct virtio_slot {
	const struct virtio_dev_ops *ops;
	void *priv;
	unsigned nq;
	uint16_t queue_max;
	const char *what;	/* "disk PATH", for messages */
};

static int add_pci_dev(struct machine *m, unsigned i, const struct virtio_slot *d, char *err,
		       size_t errlen)
{
	struct virtio_pci *t = &m->vpci[i];

	int e = virtio_pci__init(t, d->ops, d->priv, d->nq, d->queue_max, &m->vm.mem);
	if (!e)
		m->nvirtio = i + 1;
	if (e || (e = pci_host__add(&m->pci, &t->pci)) < 0) {
		snprintf(err, errlen, "%s: cannot set up its virtio-pci function: %s", d->what,
			 strerror(-e));
		return -1;
	}
	/* INTA for drivers that never enable MSI-X (pci=nomsi), where the board routes it */
	struct irq_line apic, pic;
	board__pci_intx(m, (unsigned)e, &apic, &pic);
	virtio_pci__set_intx(t, apic, pic);
	return virtio_pci__attach_kvm(t, m->vm.fd, &m->routes, err, errlen);
}

int machine__open_disks(struct machine *m, const struct run_config *cfg, int *status,
			char *err, size_t errlen)
{
	char why[400], note[200];
	cpu_set_t cpus;
	unsigned host_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) ? 1 : (unsigned)CPU_COUNT(&cpus);

	*status = 2;
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		struct blk_opts opts = cfg->disks[i], *o = &opts;	/* disk.path still points into cfg */

		o->disk.copy_workers = disk__copy_workers(host_cpus, cfg->cpus, o->queues ? o->queues : 1);
		note[0] = '\0';
		if (blk__init(&m->blk[i], o, why, sizeof(why), note, sizeof(note))) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		m->ndisks = i + 1;
		if (m->blk[i].nq > cfg->cpus) {
			snprintf(err, errlen, "disk %s: queues=%u, but there are only %u vCPUs (at most "
				 "one queue per vCPU)", o->disk.path, m->blk[i].nq, cfg->cpus);
			return -1;
		}
		if (note[0] && !cfg->quiet)
			fprintf(stderr, "kvmini: disk %s: %s\n", o->disk.path, note);
	}
	return 0;
}

/* Puts device d on the next virtio slot (m->nvirtio counts it once its transport exists, so
 * that teardown destroys it) */
static int add_virtio(struct machine *m, const struct virtio_slot *d, char *err, size_t errlen)
{
	unsigned i = m->nvirtio;
	uint64_t base;
	uint32_t gsi;

	if (i >= MAX_VIRTIO) {
		snprintf(err, errlen, "%s: no virtio slot left (at most %d devices)", d->what,
			 MAX_VIRTIO);
		return -1;
	}
	if (m->transport == VIRTIO_TRANSPORT_PCI)
		return add_pci_dev(m, i, d, err, errlen);
	board__mmio_slot(i, &base, &gsi);
	int e = virtio_mmio__init(&m->vmmio[i], d->ops, d->priv, d->nq, d->queue_max, &m->vm.mem,
				  base, gsi, (struct irq_line){ 0 });
	if (!e)
		m->nvirtio = i + 1;
	if (e || bus__register(&m->vm.mmio, base, VIRTIO_MMIO_WINDOW, &virtio_mmio_ops,
			       &m->vmmio[i])) {
		snprintf(err, errlen, "%s: cannot set up its virtio-mmio window", d->what);
		return -1;
	}
	if (virtio_mmio__attach_kvm(&m->vmmio[i], m->vm.fd, err, errlen))
		return -1;
	board__describe_mmio(m, i, base, VIRTIO_MMIO_WINDOW, gsi);
	return 0;
}

/* The devices after the disks, each on the next virtio slot: balloon, network cards, rng */
static int attach_others(struct machine *m, const struct run_config *cfg, char *err,
			 size_t errlen)
{
	if (cfg->balloon.on) {
		if (balloon__init(&m->balloon, &cfg->balloon, &m->vm.mem, err, errlen))
			return -1;
		m->balloon_on = true;
		struct virtio_slot d = { .ops = &balloon_dev_ops, .priv = &m->balloon,
					 .nq = balloon__num_queues(&m->balloon),
					 .queue_max = BALLOON_QUEUE_MAX, .what = "the balloon" };
		if (add_virtio(m, &d, err, errlen))
			return -1;
	}
	for (unsigned i = 0; i < m->nnets; i++) {
		struct virtio_slot d = { .ops = &net_dev_ops, .priv = &m->net[i],
					 .nq = net__num_queues(&m->net[i]),
					 .queue_max = NET_QUEUE_MAX, .what = m->net[i].name };
		if (add_virtio(m, &d, err, errlen))
			return -1;
	}
	if (cfg->rng.on) {
		if (rng__init(&m->rng, &cfg->rng, err, errlen))
			return -1;
		m->rng_on = true;
		struct virtio_slot d = { .ops = &rng_dev_ops, .priv = &m->rng, .nq = 1,
					 .queue_max = RNG_QUEUE_MAX, .what = "the rng" };
		if (add_virtio(m, &d, err, errlen))
			return -1;
	}
	if (m->vsock_on || m->vsock_hy_on) {
		struct virtio_slot d = { .ops = m->vsock_on ? &vsock_dev_ops : &vsock_hy_dev_ops,
					 .priv = m->vsock_on ? (void *)&m->vsock : (void *)&m->vsock_hy,
					 .nq = 3, .queue_max = VSOCK_QUEUE_MAX, .what = "the vsock device" };
		if (add_virtio(m, &d, err, errlen))
			return -1;
	}
	return 0;
}

int machine__attach_disks(struct machine *m, const struct run_config *cfg, char *err,
			  size_t errlen)
{
	m->transport = cfg->transport;
	/* the PCI host bridge (and its ACPI description) only when a device sits on it: a guest
	 * without devices does not pay for probing an empty bus */
	if (cfg->transport == VIRTIO_TRANSPORT_PCI && cli__virtio_count(cfg) &&
	    add_pci_host(m, err, errlen))
		return -1;
	for (unsigned i = 0; i < m->ndisks; i++) {
		char what[PATH_MAX + 8];
		snprintf(what, sizeof(what), "disk %s", cfg->disks[i].disk.path);
		struct virtio_slot d = { .ops = &blk_dev_ops, .priv = &m->blk[i], .nq = m->blk[i].nq,
					 .queue_max = BLK_QUEUE_MAX, .what = what };
		if (add_virtio(m, &d, err, errlen))
			return -1;
	}
	return attach_others(m, cfg, err, errlen);
}

int machine__add_disks(struct machine *m, const struct run_config *cfg, int *status,
		       char *err, size_t errlen)
{
	if (machine__open_disks(m, cfg, status, err, errlen))
		return -1;
	return machine__attach_disks(m, cfg, err, errlen);
}

/* --virtio-mmio-cmdline: virtio_mmio.device= for each disk's window (NULL: none, or no memory) */
static char *virtio_mmio_cmdline(const struct run_config *cfg)
{
	size_t len = 0;
	char *s;

	unsigned n = cli__virtio_count(cfg);

	if (cfg->transport != VIRTIO_TRANSPORT_MMIO || !cfg->virtio_cmdline || !n)
		return NULL;
	s = malloc(n * 64);
	if (!s)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t base;
		uint32_t gsi;
		board__mmio_slot(i, &base, &gsi);
		len += (size_t)snprintf(s + len, 64, "%svirtio_mmio.device=4K@0x%llx:%u",
					len ? " " : "", (unsigned long long)base, gsi);
	}
	return s;
}

/* Every --net's tap and --vsock's vhost device with its CID (or its hybrid socket) (guest RAM is not there yet: the
 * devices take it at attach time) */
static int open_backends(struct machine *m, const struct run_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (net__init(&m->net[i], &cfg->nets[i], &m->vm.mem, err, errlen))
			return -1;
		m->nnets = i + 1;
		if (m->net[i].note[0] && !cfg->quiet)
			fprintf(stderr, "kvmini: net%u (tap %s): %s\n", i, m->net[i].tap.ifname,
				m->net[i].note);
	}
	if (cfg->vsock.on && cfg->vsock.socket[0]) {
		if (vsock_hy__init(&m->vsock_hy, &cfg->vsock, err, errlen))
			return -1;
		m->vsock_hy_on = true;
	} else if (cfg->vsock.on) {
		if (vsock__init(&m->vsock, &cfg->vsock, &m->vm.mem, err, errlen))
			return -1;
		m->vsock_on = true;
	}
	return 0;
}

/* Everything the user named, checked before /dev/kvm is opened, so that a mistake gets its
 * own message on any machine: console, kernel, initrd and command line, disks, the gdb
 * address, the trace file, guest RAM (hugetlb pages reserved), and where the kernel goes. */
static int open_inputs(struct machine *m, const struct run_config *cfg, int *status, char *err,
		       size_t errlen)
{
	*status = 2;
	if (console__open(&m->console, cfg->console, cfg->console_path, err, errlen))
		return -1;
	m->console.on_term = term_power_button;	/* SIGTERM: the guest's power button first */
	m->console.term_ctx = m;
	m->console.term_timeout = cfg->shutdown_timeout;
	m->extra_cmdline = virtio_mmio_cmdline(cfg);
	if (boot__open(&m->boot, cfg, m->extra_cmdline, err, errlen))
		return -1;
	if (machine__open_disks(m, cfg, status, err, errlen) || open_backends(m, cfg, err, errlen))
		return -1;
	if (cfg->gdb && !(m->gdb = gdb__listen(cfg->gdb, cfg->cpus, cfg->gdb_wait, cfg->quiet, err,
						 errlen)))
		return -1;	/* a --gdb address we cannot listen on */
	if (cfg->api_socket && !(m->api = api__listen(cfg->api_socket, err, errlen)))
		return -1;	/* an --api-socket path we may not or cannot use */
	if (cfg->trace && (m->trace_fd = trace__create_file(cfg->trace_opts.path, err, errlen)) < 0)
		return -1;
	*status = 1;	/* the host's memory, not the user's input */
	if (vm__alloc_ram(&m->ram, cfg->memory, cfg->mem_pages, err, errlen))
		return -1;
	*status = 2;
	return boot__plan(m->boot, &m->ram, err, errlen);
}

int machine__create(struct machine *m, const struct run_config *cfg, int *status,
		    char *err, size_t errlen)
{
	m->kvm.fd = -1;
	m->vm.fd = -1;
	m->trace_fd = -1;
	m->ram.smaps_fd = -1;
	if (open_inputs(m, cfg, status, err, errlen))
		return -1;
	*status = 1;
	if (kvm__open(&m->kvm, cfg->kvm_path, err, errlen))
		return -1;
	if (cfg->cpus > (unsigned)m->kvm.max_vcpus) {
		snprintf(err, errlen, "--cpus %u: this KVM allows at most %d vCPUs", cfg->cpus,
			 m->kvm.max_vcpus);
		*status = 2;
		return -1;
	}
	if (!cfg->quiet)
		fprintf(stderr, "kvmini: %s: %s\n", cfg->kvm_path,
			kvm__host_kind_desc(kvm__host_kind(NULL, NULL)));
	tune_disks(m, cfg);
	if (vm__create_on(&m->vm, &m->kvm, &m->ram, cfg->cpus, err, errlen) ||
	    vcpu__create_all(&m->vm, err, errlen))
		return -1;
	if (!cfg->quiet)
		print_memory_backing(cfg);
	m->vm.launch_ns = cfg->launch_ns;
	if (cfg->exit_stats && enable_exit_stats(m, cfg, err, errlen))
		return -1;
	m->vm.strict = cfg->strict;
	m->dump_dtb = cfg->dump_dtb;
	if (machine__add_devices(m, err, errlen) || machine__attach_disks(m, cfg, err, errlen))
		return -1;
	if (m->gdb) {
		gdb__attach(m->gdb, &m->vm);	/* vm->gdb owns it now */
		m->gdb = NULL;
	}
	if (m->api)
		connect_api(m, cfg);
	/* last: the trace's header lists every device on the buses */
	if (cfg->trace) {
		int fd = m->trace_fd;
		m->trace_fd = -1;	/* taken over, also on failure */
		if (trace__open_fd(&m->trace, &cfg->trace_opts, &m->vm, cfg->launch_ns, fd, err,
				   errlen)) {
			*status = 2;
			return -1;
		}
	}
	return 0;
}

int machine__boot(struct machine *m, char *err, size_t errlen)
{
	int ret = board__boot(m, err, errlen);

	boot__close(&m->boot);	/* in guest RAM now: the kernel's mapping is not VMM memory */
	return ret;
}

static void report_unhandled(const struct bus *b)
{
	uint64_t n = __atomic_load_n(&b->unhandled, __ATOMIC_RELAXED);
	if (n)
		fprintf(stderr, "kvmini: %llu %s accesses hit no device (last at 0x%llx)\n",
			(unsigned long long)n, b->name, (unsigned long long)b->last_unhandled_addr);
}

int machine__run(struct machine *m, const struct run_config *cfg)
{
	struct vm *vm = &m->vm;
	char err[256];

	console__raw(&m->console);
	/* every thread enters its seccomp filter as it starts (the trace writer already has);
	 * the main thread last, when it has nothing left to set up */
	if (launcher__start(err, sizeof(err)) == 0 && run__start_vcpus(vm, err, sizeof(err)) == 0 &&
	    (!vm->gdb || gdb__start(vm, err, sizeof(err)) == 0) &&
	    (!m->api || api__start(m->api, err, sizeof(err)) == 0)) {
		seccomp__enter(SECCOMP_KIND_MAIN);
		console__loop(&m->console, m->uart, vm);
	} else {
		fprintf(stderr, "kvmini: error: %s\n", err);
	}
	run__stop_and_join(vm);
	api__stop(m->api);	/* before the reports: nothing reads the VM behind them */
	console__restore();
	trace__close(m->trace, stderr, cfg->quiet, NULL);
	m->trace = NULL;
	if (!cfg->quiet) {
		uint64_t ex = 0, io = 0, mm = 0;
		for (unsigned i = 0; i < vm->ncpus; i++) {
			ex += vm->vcpus[i].exits;
			io += vm->vcpus[i].io_exits;
			mm += vm->vcpus[i].mmio_exits;
		}
		fprintf(stderr, "kvmini: %llu exits to userspace (%llu port I/O, %llu MMIO)\n",
			(unsigned long long)ex, (unsigned long long)io, (unsigned long long)mm);
		uint64_t dropped = m->uart ? serial__out_dropped(m->uart) : 0;
		if (dropped)
			fprintf(stderr, "kvmini: %llu bytes of guest console output dropped (the "
				"output did not drain)\n", (unsigned long long)dropped);
		report_unhandled(&vm->pio);
		report_unhandled(&vm->mmio);
		uint64_t bad = m->pci_on ? __atomic_load_n(&m->pci.bad_accesses, __ATOMIC_RELAXED) : 0;
		if (bad)
			fprintf(stderr, "kvmini: %llu PCI accesses hit no enabled BAR or crossed a "
				"function's config space\n", (unsigned long long)bad);
		for (unsigned i = 0; i < m->ndisks; i++) {
			struct blk_stats sum;
			const struct blk_stats *st = &sum;
			blk__stats(&m->blk[i], &sum);
			fprintf(stderr, "kvmini: disk %s: %llu reads, %llu writes, %llu flushes, "
				"%llu I/O errors, %llu bad requests\n", cfg->disks[i].disk.path,
				(unsigned long long)st->reads, (unsigned long long)st->writes,
				(unsigned long long)st->flushes, (unsigned long long)st->io_errors,
				(unsigned long long)st->bad_requests);
		}
	}
	machine__print_exit_stats(m);
	if (vm->exit_status || !cfg->quiet)
		fprintf(stderr, "\nkvmini: %s\n", vm->stop_msg);
	return vm->exit_status;
}

void machine__destroy(struct machine *m)
{
	trace__close(m->trace, NULL, true, NULL);	/* an error path: the vCPUs never ran */
	m->trace = NULL;
	api__close(m->api);	/* stopped already, unless the VM never ran */
	m->api = NULL;
	for (unsigned i = 0; i < m->nvirtio; i++) {
		/* stops the device's I/O threads first */
		if (m->transport == VIRTIO_TRANSPORT_PCI)
			virtio_pci__destroy(&m->vpci[i]);
		else
			virtio_mmio__destroy(&m->vmmio[i]);
	}
	m->nvirtio = 0;
	for (unsigned i = 0; i < m->ndisks; i++)
		blk__free(&m->blk[i]);
	m->ndisks = 0;
	if (m->balloon_on)
		balloon__free(&m->balloon);
	m->balloon_on = false;
	for (unsigned i = 0; i < m->nnets; i++)
		net__free(&m->net[i]);
	m->nnets = 0;
	if (m->rng_on)
		rng__free(&m->rng);
	m->rng_on = false;
	if (m->vsock_on)
		vsock__free(&m->vsock);
	m->vsock_on = false;
	if (m->vsock_hy_on)
		vsock_hy__free(&m->vsock_hy);
	m->vsock_hy_on = false;
	launcher__stop();	/* after the disks: their resets ran on it */
	if (m->pci_on) {
		pci_host__destroy(&m->pci);
		irq_routes__destroy(&m->routes);
		m->pci_on = false;
	}
	free(m->extra_cmdline);
	m->extra_cmdline = NULL;
	boot__close(&m->boot);
	gdb__free(m->gdb);	/* one never attached to the VM */
	m->gdb = NULL;
	if (m->trace_fd >= 0)
		close(m->trace_fd);
	m->trace_fd = -1;
	gm__free(&m->ram);	/* RAM never handed to a VM */
	gdb__close(&m->vm);	/* after the vCPU threads are gone */
	stats__disable_vm(&m->vm);
	vcpu__destroy_all(&m->vm);
	if (m->vm.fd >= 0)
		vm__destroy(&m->vm);
	serial__free(m->uart);	/* the board's devices: off the buses with the VM */
	m->uart = NULL;
	board__destroy(m);
	console__close(&m->console);
	if (m->kvm.fd >= 0)
		kvm__close(&m->kvm);
}
