/* SPDX-License-Identifier: Apache-2.0 */
/* The API's backend over a running VM: ping, vm.info, counters, exit statistics, pause, resume and shutdown. */
#include "vmm/machine_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/balloon.h"
#include "vmm/net_report.h"
#include "virtio/blk.h"
#include "vmm/arch.h"
#include "vmm/board.h"
#include "vmm/cli.h"
#include "vmm/memory_report.h"
#include "vmm/run.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static json_object *str(const char *s)
{
	return s ? json__string(s, true) : NULL;
}

static json_object *ping(void *ctx)
{
	json_object *o = json__obj(), *f = json__arr();

	(void)ctx;
	json__add(o, "build_version", str(KVMINI_VERSION));
	json__add(o, "version", str(KVMINI_VERSION));
	json__add(o, "pid", json__u64((uint64_t)getpid()));
	json__push(f, str("kvm"));
	json__push(f, str("io_uring"));
	json__push(f, str(arch__name()));
	json__add(o, "features", f);
	return o;
}

static const char *state(struct vm *vm)
{
	return vm__stopping(vm) ? "Shutdown" : run__paused(vm) ? "Paused" : "Running";
}

/* config.payload: kernel, command line, initramfs */
static json_object *payload(const struct run_config *cfg)
{
	json_object *o = json__obj();
	const char *base = cfg->cmdline ? cfg->cmdline : board__default_cmdline();
	size_t n = strlen(base) + (cfg->append ? strlen(cfg->append) + 2 : 1);
	char *line = malloc(n);

	json__add(o, "kernel", str(cfg->kernel));
	if (line) {
		snprintf(line, n, "%s%s%s", base, cfg->append ? " " : "", cfg->append ? cfg->append : "");
		json__add(o, "cmdline", str(line));
		free(line);
	}
	if (cfg->initrd)
		json__add(o, "initramfs", str(cfg->initrd));
	return o;
}

static json_object *disks(const struct machine_api *a)
{
	json_object *arr = json__arr();

	for (unsigned i = 0; a->cfg && i < a->cfg->ndisks && i < a->ndisks; i++) {
		const struct blk_opts *d = &a->cfg->disks[i];
		json_object *o = json__obj();
		char id[16];
		snprintf(id, sizeof(id), "_disk%u", i);
		json__add(o, "id", str(id));
		json__add(o, "path", str(d->disk.path));
		json__add(o, "readonly", json__bool(d->disk.readonly));
		json__add(o, "direct", json__bool(d->disk.cache == DISK_CACHE_NONE));
		json__add(o, "num_queues", json__u64(a->blk[i].nq));
		if (d->serial[0])
			json__add(o, "serial", str(d->serial));
		json__push(arr, o);
	}
	return arr;
}

/* the config block, in Cloud Hypervisor's VmConfig names */
/* Cloud Hypervisor's BalloonConfig, kvmini's statistics flag beside it; null without one */
static json_object *balloon_config(const struct run_config *cfg)
{
	json_object *o;

	if (!cfg->balloon.on)
		return NULL;
	o = json__obj();
	json__add(o, "size", json__u64(cfg->balloon.size));
	json__add(o, "deflate_on_oom", json__bool(cfg->balloon.deflate_on_oom));
	json__add(o, "free_page_reporting", json__bool(cfg->balloon.free_page_reporting));
	json__add(o, "statistics", json__bool(cfg->balloon.stats));
	return o;
}

/* Cloud Hypervisor's RngConfig (src), and the rate limit */
static json_object *rng_config(const struct run_config *cfg)
{
	json_object *o = json__obj();

	json__add(o, "src", str("getrandom"));
	json__add(o, "rate", cfg->rng.rate ? json__u64(cfg->rng.rate) : NULL);
	json__add(o, "burst", cfg->rng.rate ? json__u64(cfg->rng.burst) : NULL);
	return o;
}

static json_object *config(const struct machine_api *a)
{
	const struct run_config *cfg = a->cfg;
	json_object *o = json__obj(), *cpus = json__obj(), *mem = json__obj();

	json__add(cpus, "boot_vcpus", json__u64(a->vm->ncpus));
	json__add(cpus, "max_vcpus", json__u64(a->vm->ncpus));
	json__add(o, "cpus", cpus);
	json__add(mem, "size", json__u64(a->vm->mem.ram_size));
	if (cfg) {
		json__add(mem, "thp", json__bool(cfg->mem_pages == GM_PAGES_THP));
		json__add(mem, "hugepages", json__bool(cfg->mem_pages == GM_PAGES_HUGETLB));
	}
	json__add(o, "memory", mem);
	if (!cfg)
		return o;
	json__add(o, "payload", payload(cfg));
	json__add(o, "disks", disks(a));
	json__add(o, "balloon", balloon_config(cfg));
	json_object *net = json__arr();
	for (unsigned i = 0; i < a->nnets; i++)
		json__push(net, net_report__config(&a->net[i], i));
	json__add(o, "net", net);
	json__add(o, "rng", cfg->rng.on ? rng_config(cfg) : NULL);
	json__add(o, "vsock", a->vsock ? net_report__vsock_config(a->vsock) :
		  a->vsock_hy ? net_report__vsock_hy_config(a->vsock_hy) : NULL);
	json_object *serial = json__obj(), *console = json__obj();
	json__add(serial, "mode", str(cfg->console == CONSOLE_STDIO ? "Tty" :
				      cfg->console == CONSOLE_FILE ? "File" : "Off"));
	if (cfg->console == CONSOLE_FILE)
		json__add(serial, "file", str(cfg->console_path));
	json__add(o, "serial", serial);
	json__add(console, "mode", str("Off"));	/* no virtio-console */
	json__add(o, "console", console);
	return o;
}

static json_object *device_tree(const struct machine_api *a)
{
	json_object *o = json__obj();

	for (unsigned i = 0; i < a->ndisks; i++) {
		json_object *d = json__obj();
		char id[16];
		snprintf(id, sizeof(id), "_disk%u", i);
		json__add(d, "id", str(id));
		json__add(d, "resources", json__arr());
		json__add(d, "children", json__arr());
		json__add(d, "pci_bdf", NULL);
		json__add(o, id, d);
	}
	for (unsigned i = 0; i < a->nnets + (a->rng != NULL); i++) {
		json_object *d = json__obj();
		char id[16];
		if (i < a->nnets)
			snprintf(id, sizeof(id), "_net%u", i);
		else
			snprintf(id, sizeof(id), "_rng0");
		json__add(d, "id", str(id));
		json__add(d, "resources", json__arr());
		json__add(d, "children", json__arr());
		json__add(d, "pci_bdf", NULL);
		json__add(o, id, d);
	}
	return o;
}

static json_object *info(void *ctx)
{
	struct machine_api *a = ctx;
	json_object *o = json__obj(), *v = json__arr();

	json__add(o, "config", config(a));
	json__add(o, "state", str(state(a->vm)));
	/* as Cloud Hypervisor: guest RAM less what the guest holds in the balloon */
	uint64_t actual = 0, target;
	struct balloon_counters c;
	if (a->balloon)
		balloon__state(a->balloon, &target, &actual, &c);
	json__add(o, "memory_actual_size", json__u64(a->vm->mem.ram_size - actual));
	json__add(o, "device_tree", device_tree(a));
	for (unsigned i = 0; i < a->vm->ncpus; i++) {
		json_object *c = json__obj();
		json__add(c, "id", json__u64(i));
		json__add(c, "tid", json__u64((uint64_t)__atomic_load_n(&a->vm->vcpus[i].tid,
									 __ATOMIC_RELAXED)));
		json__push(v, c);
	}
	json__add(o, "vcpus", v);
	return o;
}

static json_object *disk_counters(const struct blk_dev *b)
{
	struct blk_queue_snap q[VIRTIO_MAX_QUEUES];
	unsigned n = blk__snapshot_queues(b, q, VIRTIO_MAX_QUEUES);
	unsigned long long rb = 0, wb = 0, ro = 0, wo = 0, kicks = 0, irqs = 0, infl = 0;
	json_object *o = json__obj();

	for (unsigned i = 0; i < n; i++) {
		rb += q[i].read_bytes;
		wb += q[i].write_bytes;
		ro += q[i].reads;
		wo += q[i].writes;
		kicks += q[i].kicks;
		irqs += q[i].irqs;
		infl += q[i].inflight;
	}
	json__add(o, "read_bytes", json__u64(rb));
	json__add(o, "write_bytes", json__u64(wb));
	json__add(o, "read_ops", json__u64(ro));
	json__add(o, "write_ops", json__u64(wo));
	json__add(o, "kicks", json__u64(kicks));
	json__add(o, "interrupts", json__u64(irqs));
	json__add(o, "in_flight", json__u64(infl));	/* now: taken from the ring, not answered */
	return o;
}

static json_object *counters(void *ctx)
{
	struct machine_api *a = ctx;
	json_object *o = json__obj();
	char id[16];

	for (unsigned i = 0; i < a->ndisks; i++) {
		snprintf(id, sizeof(id), "_disk%u", i);
		json__add(o, id, disk_counters(&a->blk[i]));
	}
	for (unsigned i = 0; i < a->nnets; i++) {
		snprintf(id, sizeof(id), "_net%u", i);
		json__add(o, id, net_report__counters(&a->net[i]));
	}
	if (a->rng)
		json__add(o, "_rng0", net_report__rng_counters(a->rng));
	if (a->vsock)
		json__add(o, "_vsock0", net_report__vsock_counters(a->vsock));
	if (a->vsock_hy)
		json__add(o, "_vsock0", net_report__vsock_hy_counters(a->vsock_hy));
	for (unsigned i = 0; i < a->vm->ncpus; i++) {
		const struct vcpu *v = &a->vm->vcpus[i];
		json_object *c = json__obj();
		json__add(c, "exits", json__u64(ld(&v->exits)));
		json__add(c, "io_exits", json__u64(ld(&v->io_exits)));
		json__add(c, "mmio_exits", json__u64(ld(&v->mmio_exits)));
		snprintf(id, sizeof(id), "_vcpu%u", i);
		json__add(o, id, c);
	}
	return o;
}

/* vm.memory: the four places (memory_report.c); guest RAM unreadable gives its null */
static json_object *memory(void *ctx)
{
	struct machine_api *a = ctx;
	struct mem_report r;

	mem_report__take(&r, a->vm, a->blk, a->ndisks, a->balloon, true);
	return mem_report__json(&r);
}

/* vm.resize: the balloon's new target */
static int resize_balloon(void *ctx, uint64_t bytes, char *err, size_t errlen)
{
	struct machine_api *a = ctx;

	if (!a->balloon) {
		snprintf(err, errlen, "this VM has no balloon (run kvmini with --balloon)");
		return -ENODEV;
	}
	return balloon__set_target(a->balloon, bytes, a->vm->mem.ram_size, err, errlen) ? -EINVAL : 0;
}

static char *exit_stats(void *ctx, char *err, size_t errlen)
{
	struct machine_api *a = ctx;
	char *buf = NULL;
	size_t len = 0;

	if (!a->exit_stats) {
		snprintf(err, errlen, "kvmini runs without --exit-stats");
		return NULL;
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	a->exit_stats(a->exit_stats_ctx, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	while (len && (buf[len - 1] == '\n'))	/* one line */
		buf[--len] = '\0';
	return buf;
}

#define DISK_QUIET_MS 5000	/* how long a pause waits for the disks' requests to land */

static void hold_disks(struct machine_api *a, bool on)
{
	for (unsigned i = 0; i < a->ndisks; i++)
		blk__hold(&a->blk[i], on);
}

/* the vCPUs parked first (no new kicks), then the disk queues held until nothing is in
 * flight: a paused VM does no I/O. Either failing leaves the VM running. */
static int pause_vm(void *ctx, char *err, size_t errlen)
{
	struct machine_api *a = ctx;

	if (run__pause(a->vm, err, errlen))
		return -1;
	hold_disks(a, true);
	for (unsigned waited = 0;; waited++) {
		bool quiet = true;
		for (unsigned i = 0; i < a->ndisks && quiet; i++)
			quiet = blk__quiet(&a->blk[i]);
		if (quiet)
			return 0;
		if (waited >= DISK_QUIET_MS || vm__stopping(a->vm))
			break;
		usleep(1000);
	}
	hold_disks(a, false);
	run__resume(a->vm, err, errlen);
	snprintf(err, errlen, "%s", vm__stopping(a->vm) ? "the VM is stopping" :
		 "the disks did not finish their requests within 5 s; the VM runs on");
	return -1;
}

static int resume_vm(void *ctx, char *err, size_t errlen)
{
	struct machine_api *a = ctx;

	if (!run__paused(a->vm)) {
		snprintf(err, errlen, "the VM is not paused");
		return -1;
	}
	hold_disks(a, false);
	return run__resume(a->vm, err, errlen);
}

static int power_button(void *ctx, char *err, size_t errlen)
{
	struct machine_api *a = ctx;

	if (!a->power_button) {
		snprintf(err, errlen, "this VM has no power button");
		return -1;
	}
	return a->power_button(a->power_ctx, err, errlen);
}

static int reboot_vm(void *ctx, char *err, size_t errlen)
{
	struct machine_api *a = ctx;

	if (!a->reboot_key) {
		snprintf(err, errlen, "this VM has no reboot key");
		return -1;
	}
	if (run__paused(a->vm)) {
		snprintf(err, errlen, "the VM is paused: resume it first");
		return -1;
	}
	return a->reboot_key(a->power_ctx, err, errlen);
}

static void shutdown_vm(void *ctx, bool vmm)
{
	struct machine_api *a = ctx;

	vm__request_stop(a->vm, VM_STOP_USER, 0, "shut down through the API (%s)",
			 vmm ? "vmm.shutdown" : "vm.shutdown");
}

void machine_api__backend(struct machine_api *a, struct api_backend *b)
{
	*b = (struct api_backend){
		.ctx = a, .ping = ping, .info = info, .counters = counters, .memory = memory,
		.exit_stats = exit_stats, .pause = pause_vm, .resume = resume_vm,
		.power_button = power_button, .reboot = reboot_vm, .resize_balloon = resize_balloon,
		.shutdown = shutdown_vm,
	};
}
