/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile-guest harness: a board with real disks driven by a script the lm_script payload runs. */
#include "tests/kvm/hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "firmware/x86/layout.h"
#include "vmm/run.h"
#include "vmm/vcpu.h"
#include "vmm/x86/board.h"
#include "vmm/x86/cpu.h"

#define PORT_MARK   0x510
#define PORT_DELAY  0x517

/* ---- the progress and delay ports ---- */

static void port_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct hg *h = opaque;
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	if (off != PORT_MARK - PORT_MARK)
		return;
	if (h->nmarks < sizeof(h->marks) / sizeof(h->marks[0]))
		h->marks[h->nmarks++] = v;
	if (h->on_mark)
		h->on_mark(h, v);
}

static void port_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque;
	if (off == PORT_DELAY - PORT_MARK)
		usleep(250);
	memset(data, 0, len);
}

static const struct bus_dev_ops hg_port_ops = { .name = "hg-ports", .read = port_read,
						.write = port_write };

/* ---- the board ---- */

void *hg__ram(const struct hg *h, uint64_t gpa, uint64_t len)
{
	void *p = gm__ptr(&h->m->vm.mem, gpa, len);
	ck_assert_msg(p, "gpa 0x%llx is not RAM", (unsigned long long)gpa);
	return p;
}

static void load_payload(struct hg *h)
{
	char path[512];
	const char *dir = getenv("KVMINI_PAYLOADS");

	snprintf(path, sizeof(path), "%s/lm_script.bin", dir ? dir : "build/tests/kvm/payloads");
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "payload %s: %s", path, strerror(errno));
	size_t n = fread(hg__ram(h, HG_CODE, 4096), 1, 4096, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
}

struct hg *hg__new(unsigned ndisks, uint64_t disk_size, bool pci, const char *spec_extra,
		   const char *const *paths)
{
	char err[512];
	int status, p[2];
	struct hg *h = calloc(1, sizeof(*h));
	struct machine *m = calloc(1, sizeof(*m));

	ck_assert(h && m && ndisks <= MAX_DISKS);
	h->m = m;
	h->cfg = calloc(1, sizeof(*h->cfg));
	ck_assert_ptr_nonnull(h->cfg);
	m->kvm.fd = m->vm.fd = m->trace_fd = -1;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	h->uart_fd = p[0];	/* nobody reads it: the UART must not hang on a full pipe */
	m->console.in_fd = -1;
	m->console.out_fd = p[1];
	ck_assert_msg(kvm__open(&m->kvm, "/dev/kvm", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(vm__create(&m->vm, &m->kvm, HG_RAM, GM_PAGES_THP, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(vcpu__create_all(&m->vm, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(machine__add_devices(m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(bus__register(&m->vm.pio, PORT_MARK, 8, &hg_port_ops, h), 0);
	ck_assert_int_eq(bus__register(&m->vm.pio, PORT_TEST_EXIT, 4, &test_exit_ops, &m->board->pm), 0);

	struct run_config *cfg = h->cfg;
	cfg->cpus = 1;
	cfg->quiet = true;
	cfg->transport = pci ? VIRTIO_TRANSPORT_PCI : VIRTIO_TRANSPORT_MMIO;
	cfg->ndisks = ndisks;
	for (unsigned i = 0; i < ndisks; i++) {
		char spec[512];
		if (paths && paths[i]) {
			snprintf(h->disk_path[i], sizeof(h->disk_path[i]), "%s", paths[i]);
		} else {
			snprintf(h->disk_path[i], sizeof(h->disk_path[i]), "/tmp/kvmini-hostile-XXXXXX");
			int fd = mkstemp(h->disk_path[i]);
			ck_assert_int_ge(fd, 0);
			uint8_t *pat = malloc(disk_size ? disk_size : 1);
			ck_assert_ptr_nonnull(pat);
			for (uint64_t off = 0; off < disk_size; off++)
				pat[off] = hg__pattern(off);
			ck_assert_int_eq(write(fd, pat, disk_size), (ssize_t)disk_size);
			free(pat);
			close(fd);
		}
		snprintf(spec, sizeof(spec), "path=%s%s", h->disk_path[i], spec_extra ? spec_extra : "");
		ck_assert_msg(blk__parse_opts(spec, &cfg->disks[i], err, sizeof(err)) == 0, "%s", err);
	}
	ck_assert_msg(machine__add_disks(m, cfg, &status, err, sizeof(err)) == 0, "%s", err);
	/* kvmini holds them open: gone from /tmp even if an assertion ends the test early */
	for (unsigned i = 0; i < ndisks; i++)
		if (!paths || !paths[i])
			unlink(h->disk_path[i]);

	load_payload(h);
	h->script = hg__ram(h, HG_SCRIPT, HG_RINGS - HG_SCRIPT);
	h->data_next = HG_DATA;
	return h;
}

void hg__free(struct hg *h)
{
	int out = h->m->console.out_fd;

	machine__destroy(h->m);
	close(out);
	close(h->uart_fd);
	free(h->err_text);
	free(h->cfg);
	free(h->m);
	free(h);
}

static void enter_long_mode(struct hg *h)
{
	struct vcpu *v = &h->m->vm.vcpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = HG_CODE, .rflags = 2, .rsp = 0x8000 };

	ck_assert_int_eq(x86__write_boot_tables(&h->m->vm.mem), 0);
	ck_assert_int_eq(ioctl(v->fd, KVM_GET_SREGS, &s), 0);
	x86__longmode_sregs(&s);
	ck_assert_int_eq(ioctl(v->fd, KVM_SET_SREGS, &s), 0);
	ck_assert_int_eq(ioctl(v->fd, KVM_SET_REGS, &r), 0);
}

bool hg__run(struct hg *h, int timeout_ms)
{
	char err[128];
	struct vm *vm = &h->m->vm;

	ck_assert_uint_lt(h->nops, (HG_RINGS - HG_SCRIPT) / sizeof(struct sop));
	hg__op(h, SOP_END, 0, 0, 0, 0, 0);
	enter_long_mode(h);

	FILE *cap = tmpfile();
	ck_assert_ptr_nonnull(cap);
	fflush(stderr);
	int saved = dup(2);
	ck_assert_int_ge(saved, 0);
	dup2(fileno(cap), 2);

	ck_assert_int_eq(run__start_vcpus(vm, err, sizeof(err)), 0);
	struct pollfd p = { .fd = vm->stop_efd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	run__stop_and_join(vm);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long n = (long)lseek(fileno(cap), 0, SEEK_END);
	h->err_text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	ck_assert_ptr_nonnull(h->err_text);
	if (n > 0 && pread(fileno(cap), h->err_text, (size_t)n, 0) != n)
		h->err_text[0] = '\0';
	fclose(cap);
	fprintf(stderr, "---- kvmini's stderr during the run (%u marks, last %u) ----\n%s----\n",
		h->nmarks, h->nmarks ? h->marks[h->nmarks - 1] : 0, h->err_text);
	return r == 1 && vm->stop_reason == VM_STOP_TEST && vm->test_value == 0x600d;
}

unsigned hg__count(const struct hg *h, const char *needle)
{
	unsigned n = 0;
	for (const char *p = h->err_text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

struct blk_stats hg__blk_stats(const struct hg *h, unsigned disk)
{
	struct blk_stats s;
	blk__stats(&h->m->blk[disk], &s);
	return s;
}

uint64_t hg__protocol_errors(const struct hg *h, unsigned disk)
{
	return h->m->transport == VIRTIO_TRANSPORT_PCI ? h->m->vpci[disk].protocol_errors
						       : h->m->vmmio[disk].protocol_errors;
}

/* ---- the script ---- */

unsigned hg__op(struct hg *h, uint32_t op, uint32_t width, uint64_t addr, uint64_t val,
		uint64_t mask, uint64_t out)
{
	ck_assert_uint_lt(h->nops, (HG_RINGS - HG_SCRIPT) / sizeof(struct sop));
	h->script[h->nops] = (struct sop){ op, width, addr, val, mask, out };
	return h->nops++;
}

void hg__store(struct hg *h, uint32_t w, uint64_t addr, uint64_t val)
{
	hg__op(h, SOP_STORE, w, addr, val, 0, 0);
}

unsigned hg__load(struct hg *h, uint32_t w, uint64_t addr)
{
	return hg__op(h, SOP_LOAD, w, addr, 0, 0, 0xdeadbeefdeadbeefULL);
}

unsigned hg__poll(struct hg *h, uint32_t w, uint64_t addr, uint64_t mask, uint64_t val)
{
	return hg__op(h, SOP_POLL, w, addr, val, mask, HG_POLL_MAX);
}

void hg__mark(struct hg *h, uint32_t v)
{
	hg__op(h, SOP_MARK, 4, 0, v, 0, 0);
}

uint64_t hg__out(const struct hg *h, unsigned op)
{
	return h->script[op].out;
}

uint8_t hg__byte(const struct hg *h, uint64_t gpa)
{
	return *(volatile uint8_t *)hg__ram(h, gpa, 1);
}

/* ---- the driver ---- */

static uint32_t cfg32(const struct pci_dev *p, uint32_t off)
{
	return (uint32_t)p->cfg[off] | (uint32_t)p->cfg[off + 1] << 8 |
	       (uint32_t)p->cfg[off + 2] << 16 | (uint32_t)p->cfg[off + 3] << 24;
}

void hg__dev_init(struct hg *h, struct hg_dev *d, unsigned disk)
{
	memset(d, 0, sizeof(*d));
	d->idx = disk;
	d->pci = h->m->transport == VIRTIO_TRANSPORT_PCI;
	if (!d->pci) {
		d->base = LAYOUT_VIRTIO_MMIO + disk * VIRTIO_MMIO_WINDOW;
		return;
	}
	const struct pci_dev *p = &h->m->vpci[disk].pci;
	d->base = cfg32(p, PCI_CFG_BAR0) & ~0xfULL;
	d->ecam = LAYOUT_PCI_ECAM + ((uint64_t)p->slot << 15);
	d->msix_cap = h->m->vpci[disk].msix.cap;
	hg__store(h, 2, d->ecam + PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER);
}

void hg__msix_setup(struct hg *h, struct hg_dev *d, uint64_t addr)
{
	unsigned nvec = h->m->vpci[d->idx].msix.nvec;

	for (unsigned v = 0; v < nvec; v++) {
		uint64_t e = d->base + 0x4000 + 16 * v;
		hg__store(h, 4, e, (uint32_t)addr);
		hg__store(h, 4, e + 4, (uint32_t)(addr >> 32));
		hg__store(h, 4, e + 8, 0x40 + v);
		hg__store(h, 4, e + 12, 0);
	}
	hg__store(h, 2, d->ecam + d->msix_cap + 2, MSIX_CTRL_ENABLE);
}

unsigned hg__status_read(struct hg *h, struct hg_dev *d)
{
	return d->pci ? hg__load(h, 1, d->base + VIRTIO_PCI_COMMON_STATUS)
		      : hg__load(h, 4, d->base + VIRTIO_MMIO_STATUS);
}

void hg__status(struct hg *h, struct hg_dev *d, uint8_t status)
{
	if (d->pci)
		hg__store(h, 1, d->base + VIRTIO_PCI_COMMON_STATUS, status);
	else
		hg__store(h, 4, d->base + VIRTIO_MMIO_STATUS, status);
}

static void features(struct hg *h, struct hg_dev *d, uint64_t f)
{
	for (unsigned sel = 0; sel < 2; sel++) {
		if (d->pci) {
			hg__store(h, 4, d->base + VIRTIO_PCI_COMMON_GFSELECT, sel);
			hg__store(h, 4, d->base + VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> (32 * sel)));
		} else {
			hg__store(h, 4, d->base + VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
			hg__store(h, 4, d->base + VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> (32 * sel)));
		}
	}
}

static uint64_t ring_base(unsigned ring)
{
	return HG_RINGS + (uint64_t)ring * 0x4000;
}

void hg__queue(struct hg *h, struct hg_dev *d, uint16_t qsize, uint64_t desc, uint64_t avail,
	       uint64_t used)
{
	ck_assert_uint_lt(h->next_ring, HG_RING_SETS);
	d->ring = h->next_ring++;
	d->qsize = qsize;
	d->avail = 0;
	d->next_desc = 0;
	uint64_t rb = ring_base(d->ring);
	memset(hg__ram(h, rb, 0x4000), 0, 0x4000);
	desc = desc ? desc : rb;
	avail = avail ? avail : rb + 0x1000;
	used = used ? used : rb + 0x2000;
	if (d->pci) {
		uint64_t b = d->base;
		hg__store(h, 2, b + VIRTIO_PCI_COMMON_Q_SELECT, 0);
		hg__store(h, 2, b + VIRTIO_PCI_COMMON_Q_SIZE, qsize);
		hg__store(h, 2, b + VIRTIO_PCI_COMMON_Q_MSIX, 1);
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc);
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(desc >> 32));
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail);
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(avail >> 32));
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used);
		hg__store(h, 4, b + VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(used >> 32));
		hg__store(h, 2, b + VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	} else {
		uint64_t b = d->base;
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_SEL, 0);
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_NUM, qsize);
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
		hg__store(h, 4, b + VIRTIO_MMIO_QUEUE_READY, 1);
	}
}

void hg__bringup(struct hg *h, struct hg_dev *d, uint64_t f, uint16_t qsize, bool driver_ok)
{
	hg__status(h, d, 0);
	hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	features(h, d, f | (1ULL << VIRTIO_F_VERSION_1));
	hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	if (d->pci)
		hg__store(h, 2, d->base + VIRTIO_PCI_COMMON_MSIX, 0);
	if (qsize)
		hg__queue(h, d, qsize, 0, 0, 0);
	if (driver_ok)
		hg__status(h, d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

void hg__notify(struct hg *h, struct hg_dev *d, uint16_t queue)
{
	if (d->pci)
		hg__store(h, 2, d->base + 0x3000 + 4u * queue, queue);
	else
		hg__store(h, 4, d->base + VIRTIO_MMIO_QUEUE_NOTIFY, queue);
}

unsigned hg__wait_needs_reset(struct hg *h, struct hg_dev *d)
{
	return d->pci ? hg__poll(h, 1, d->base + VIRTIO_PCI_COMMON_STATUS,
				 VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET)
		      : hg__poll(h, 4, d->base + VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_NEEDS_RESET,
				 VIRTIO_CONFIG_S_NEEDS_RESET);
}

unsigned hg__wait_used(struct hg *h, struct hg_dev *d, uint16_t idx)
{
	return hg__poll(h, 2, ring_base(d->ring) + 0x2000 + 2, 0xffff, idx);
}

struct vring_desc *hg__desc(struct hg *h, struct hg_dev *d, unsigned i)
{
	ck_assert_uint_lt(i, 256);
	return hg__ram(h, ring_base(d->ring) + 16ULL * i, 16);
}

uint64_t hg__data(struct hg *h, struct hg_dev *d, uint64_t len)
{
	(void)d;
	uint64_t a = h->data_next;
	h->data_next = (h->data_next + len + 511) & ~511ULL;
	ck_assert_uint_le(h->data_next, HG_DATA + HG_DATA_SIZE);
	memset(hg__ram(h, a, len ? len : 1), 0, len ? len : 1);
	return a;
}

void hg__publish(struct hg *h, struct hg_dev *d, uint16_t head, uint16_t count)
{
	struct vring_avail *a = hg__ram(h, ring_base(d->ring) + 0x1000, 0x1000);

	for (uint16_t i = 0; i < count; i++)
		a->ring[(uint16_t)(d->avail + i) % d->qsize] = (uint16_t)(head + 3 * i);
	d->avail = (uint16_t)(d->avail + count);
	hg__store(h, 2, ring_base(d->ring) + 0x1000 + 2, d->avail);
}

uint64_t hg__blk_req(struct hg *h, struct hg_dev *d, uint32_t type, uint64_t sector,
		     uint64_t data_gpa, uint32_t data_len)
{
	uint64_t hdr = hg__data(h, d, 16), st = hg__data(h, d, 1);
	struct virtio_blk_outhdr *oh = hg__ram(h, hdr, 16);
	unsigned i = d->next_desc;
	bool in = type != VIRTIO_BLK_T_OUT;

	oh->type = type;
	oh->ioprio = 0;
	oh->sector = sector;
	if (!data_gpa && data_len)
		data_gpa = hg__data(h, d, data_len);
	h->last_data = data_gpa;
	*(uint8_t *)hg__ram(h, st, 1) = 0xff;
	*hg__desc(h, d, i) = (struct vring_desc){ hdr, 16, VRING_DESC_F_NEXT, (uint16_t)(i + 1) };
	*hg__desc(h, d, i + 1) = (struct vring_desc){ data_gpa, data_len,
		(uint16_t)(VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0)), (uint16_t)(i + 2) };
	*hg__desc(h, d, i + 2) = (struct vring_desc){ st, 1, VRING_DESC_F_WRITE, 0 };
	d->next_desc = (uint16_t)(i + 3);
	return st;
}

bool hg__matches_disk(const struct hg *h, unsigned disk, uint64_t gpa, uint64_t sector,
		      uint32_t len)
{
	char path[64];
	uint8_t *buf = malloc(len ? len : 1);
	bool same;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", h->m->blk[disk].disk.fd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(buf);
	same = pread(fd, buf, len, (off_t)(sector * 512)) == (ssize_t)len &&
	       !memcmp(buf, hg__ram(h, gpa, len), len);
	close(fd);
	free(buf);
	return same;
}
