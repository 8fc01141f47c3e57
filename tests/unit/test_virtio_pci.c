/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the virtio-pci transport + virtio-blk end to end, driven like Linux's virtio_pci. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "tests/lib/ck.h"
#include "firmware/x86/layout.h"
#include "virtio/blk.h"
#include "virtio/pci.h"

#define MEM_SIZE  (4u << 20)
#define QSZ       16
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define DISK_SIZE (1u << 20)
#define DEVFN     (1u << 3)

static uint8_t *ram;
static struct guest_mem gm;
static struct pci_host host;
static struct virtio_pci t;
static struct blk_dev blk;
static char path[64];
static int msis;
static uint32_t last_data;
static uint64_t bar;             /* BAR 0 as the test driver programmed it */
static uint32_t off_common, off_notify, off_isr, off_dev, notify_mult, pcicfg;

static void on_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	ck_assert_uint_eq(addr >> 20, 0xfee);
	__atomic_store_n(&last_data, data, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&msis, 1, __ATOMIC_SEQ_CST);
}

static uint32_t cfg_rd(uint32_t reg, uint32_t len)
{
	uint32_t v = 0;
	pci_ecam_ops.read(&host, DEVFN << 12 | reg, &v, len);
	return v;
}

static void cfg_wr(uint32_t reg, uint32_t v, uint32_t len)
{
	pci_ecam_ops.write(&host, DEVFN << 12 | reg, &v, len);
}

static uint64_t mrd(uint64_t off, uint32_t len)
{
	uint64_t v = 0;
	pci_window_ops.read(&host, bar + off - LAYOUT_PCI_MMIO, &v, len);
	return v;
}

static void mwr(uint64_t off, uint64_t v, uint32_t len)
{
	pci_window_ops.write(&host, bar + off - LAYOUT_PCI_MMIO, &v, len);
}

static void setup(void)
{
	static struct blk_opts o;	/* the device keeps pointing at its path (blk_dev.path) */
	char err[256], note[256], spec[128];

	ram = calloc(1, MEM_SIZE);
	gm__init_flat(&gm, ram, MEM_SIZE);
	snprintf(path, sizeof(path), "/tmp/kvmini-vpci-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	uint8_t *pat = malloc(DISK_SIZE);
	for (unsigned i = 0; i < DISK_SIZE; i++)
		pat[i] = (uint8_t)(i * 7 + (i >> 9));
	ck_assert_int_eq(write(fd, pat, DISK_SIZE), DISK_SIZE);
	free(pat);
	close(fd);
	snprintf(spec, sizeof(spec), "path=%s,engine=sync", path);
	ck_assert_msg(blk__parse_opts(spec, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blk__init(&blk, &o, err, sizeof(err), note, sizeof(note)) == 0, "%s", err);
	pci_host__init(&host, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);
	ck_assert_int_eq(virtio_pci__init(&t, &blk_dev_ops, &blk, 1, BLK_QUEUE_MAX, &gm), 0);
	t.msi_fallback = on_msi;
	ck_assert_int_eq(pci_host__add(&host, &t.pci), 1);
	msis = 0;
}

static void teardown(void)
{
	virtio_pci__destroy(&t);
	pci_host__destroy(&host);
	blk__free(&blk);
	unlink(path);
	free(ram);
}

/* What vp_modern_probe does: enable decoding, walk the vendor capabilities. */
static void probe(void)
{
	ck_assert_uint_eq(cfg_rd(0, 4), 0x10421af4);
	ck_assert_uint_eq(cfg_rd(PCI_CFG_REVISION, 1), 1);
	bar = (cfg_rd(0x10, 4) & ~0xfu) | (uint64_t)cfg_rd(0x14, 4) << 32;
	ck_assert_uint_eq(bar, LAYOUT_PCI_MMIO);
	cfg_wr(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	unsigned found = 0;
	for (uint32_t p = cfg_rd(PCI_CFG_CAP_PTR, 1); p; p = cfg_rd(p + 1, 1)) {
		if (cfg_rd(p, 1) != 0x09)
			continue;
		ck_assert_uint_eq(cfg_rd(p + VIRTIO_PCI_CAP_BAR, 1), 0);
		uint32_t type = cfg_rd(p + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		uint32_t off = cfg_rd(p + VIRTIO_PCI_CAP_OFFSET, 4);
		uint32_t len = cfg_rd(p + VIRTIO_PCI_CAP_LENGTH, 4);
		found |= 1u << type;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			off_common = off;
			ck_assert_uint_ge(len, 0x38);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			off_notify = off;
			notify_mult = cfg_rd(p + 16, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG: off_isr = off; break;
		case VIRTIO_PCI_CAP_PCI_CFG: pcicfg = p; break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			off_dev = off;
			ck_assert_uint_ge(len, sizeof(struct virtio_blk_config) - 8);
			break;
		}
	}
	ck_assert_uint_eq(found, 0x3e);   /* common, notify, ISR, device, PCI config window */
}

#define C(f) (off_common + VIRTIO_PCI_COMMON_##f)

/* vp_modern_find_vqs with one vector per queue plus config (vp_find_vqs_msix), or with
 * use_msix false the INTx fallback (vp_find_vqs_intx: no vectors at all) */
static void driver_init_irq(uint64_t features, bool use_msix)
{
	probe();
	uint32_t msix = t.msix.cap;
	if (use_msix) {
		cfg_wr(msix + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK, 2);
		for (unsigned v = 0; v < 2; v++) {
			mwr(VPCI_MSIX_OFF + 16 * v, 0xfee00000, 4);
			mwr(VPCI_MSIX_OFF + 16 * v + 4, 0, 4);
			mwr(VPCI_MSIX_OFF + 16 * v + 8, 0x40 + v, 4);
			mwr(VPCI_MSIX_OFF + 16 * v + 12, 0, 4);
		}
		cfg_wr(msix + 2, MSIX_CTRL_ENABLE, 2);
	}
	mwr(C(STATUS), 0, 1);
	ck_assert_uint_eq(mrd(C(STATUS), 1), 0);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	mwr(C(DFSELECT), 1, 4);
	ck_assert(mrd(C(DF), 4) & 1);	/* VERSION_1 */
	mwr(C(GFSELECT), 0, 4);
	mwr(C(GF), (uint32_t)features, 4);
	mwr(C(GFSELECT), 1, 4);
	mwr(C(GF), (uint32_t)(features >> 32), 4);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK, 1);
	ck_assert(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_FEATURES_OK);
	if (use_msix) {
		mwr(C(MSIX), 0, 2);
		ck_assert_uint_eq(mrd(C(MSIX), 2), 0);
	}
	ck_assert_uint_eq(mrd(C(NUMQ), 2), 1);
	mwr(C(Q_SELECT), 0, 2);
	ck_assert_uint_eq(mrd(C(Q_SIZE), 2), BLK_QUEUE_MAX);
	ck_assert_uint_eq(mrd(C(Q_ENABLE), 2), 0);
	mwr(C(Q_SIZE), QSZ, 2);
	if (use_msix) {
		mwr(C(Q_MSIX), 1, 2);
		ck_assert_uint_eq(mrd(C(Q_MSIX), 2), 1);
	}
	mwr(C(Q_DESCLO), DESC_GPA, 4);
	mwr(C(Q_DESCHI), 0, 4);
	mwr(C(Q_AVAILLO), AVAIL_GPA, 4);
	mwr(C(Q_AVAILHI), 0, 4);
	mwr(C(Q_USEDLO), USED_GPA, 4);
	mwr(C(Q_USEDHI), 0, 4);
	ck_assert_uint_eq(mrd(C(Q_NOFF), 2), 0);
	mwr(C(Q_ENABLE), 1, 2);
	ck_assert_uint_eq(mrd(C(Q_ENABLE), 2), 1);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	ck_assert_uint_eq(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

static void driver_init(uint64_t features)
{
	driver_init_irq(features, true);
}

#define QBASE(q)  ((q) * 0x3000u)   /* queue q's rings: DESC/AVAIL/USED + QBASE(q) */

/* a read of 512 bytes at sector 1 on queue qi, kicked through the notify region */
static void read_request_q(unsigned qi)
{
	uint8_t *base = ram + QBASE(qi);
	struct vring_desc *d = (struct vring_desc *)(base + DESC_GPA);
	struct virtio_blk_outhdr *h = (void *)(ram + 0x8000);
	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN, .sector = 1 };
	ram[0x8100] = 0xee;
	d[0] = (struct vring_desc){ .addr = 0x8000, .len = sizeof(*h), .flags = VRING_DESC_F_NEXT, .next = 1 };
	d[1] = (struct vring_desc){ .addr = 0x9000, .len = 512, .flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, .next = 2 };
	d[2] = (struct vring_desc){ .addr = 0x8100, .len = 1, .flags = VRING_DESC_F_WRITE };
	struct vring_avail *a = (struct vring_avail *)(base + AVAIL_GPA);
	uint16_t idx = a->idx;
	a->ring[idx % QSZ] = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	a->idx = (uint16_t)(idx + 1);
	mwr(off_notify + notify_mult * qi, qi, 2);	/* iowrite16(queue index) */
	struct vring_used *u = (struct vring_used *)(base + USED_GPA);
	for (int i = 0; i < 5000 && __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != idx + 1; i++)
		usleep(1000);
	ck_assert_uint_eq(u->idx, idx + 1);
	ck_assert_uint_eq(ram[0x8100], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(ram[0x9000 + i], (uint8_t)((512 + i) * 7 + 1));
}

static void read_request(void)
{
	read_request_q(0);
}

START_TEST(linux_sequence_and_msix_completion)
{
	driver_init((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH));
	uint64_t cap = mrd(off_dev, 8);
	ck_assert_uint_eq(cap, DISK_SIZE / 512);
	read_request();
	for (int i = 0; i < 1000 && !__atomic_load_n(&msis, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	ck_assert_int_ge(msis, 1);
	ck_assert_uint_eq(last_data, 0x41);	/* the queue's vector, not the config one */
	/* masked vector: the completion waits in the PBA and comes out on unmask */
	int before = msis;
	mwr(VPCI_MSIX_OFF + 16 + 12, 1, 4);
	read_request();
	usleep(20000);
	ck_assert_int_eq(__atomic_load_n(&msis, __ATOMIC_SEQ_CST), before);
	ck_assert_uint_eq(mrd(VPCI_PBA_OFF, 8) & 2, 2);
	mwr(VPCI_MSIX_OFF + 16 + 12, 0, 4);
	ck_assert_int_eq(__atomic_load_n(&msis, __ATOMIC_SEQ_CST), before + 1);
	ck_assert_uint_eq(mrd(VPCI_PBA_OFF, 8), 0);
	ck_assert_uint_eq(t.protocol_errors, 0);
	/* reset: status reads 0 at once, vectors are forgotten */
	mwr(C(STATUS), 0, 1);
	ck_assert_uint_eq(mrd(C(STATUS), 1), 0);
	ck_assert_uint_eq(mrd(C(MSIX), 2), VPCI_NO_VECTOR);
}
END_TEST

static int intx_level = -1, intx_changes;
static unsigned intx_gsi;

static void on_intx(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	__atomic_store_n(&intx_gsi, gsi, __ATOMIC_SEQ_CST);
	__atomic_store_n(&intx_level, level, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&intx_changes, 1, __ATOMIC_SEQ_CST);
}

static int pic_level = -1;
static bool pic_wired;	/* the test gave the device a PIC line too */

static void on_pic(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	ck_assert_uint_eq(gsi, 11);
	__atomic_store_n(&pic_level, level, __ATOMIC_SEQ_CST);
}

/* Waits for the IOAPIC line, and the PIC line when one is wired: the device sets them one
 * after the other on its I/O thread. */
static void wait_level(int want)
{
	for (int i = 0; i < 1000 && (__atomic_load_n(&intx_level, __ATOMIC_SEQ_CST) != want ||
				     (pic_wired && __atomic_load_n(&pic_level, __ATOMIC_SEQ_CST) != want));
	     i++)
		usleep(1000);
	ck_assert_int_eq(__atomic_load_n(&intx_level, __ATOMIC_SEQ_CST), want);
}

/* a driver that never enables MSI-X (pci=nomsi): the completion raises INTA, the ISR read
 * (read-to-clear) lowers it; the command register's Interrupt Disable holds it low */
START_TEST(intx_without_msix)
{
	virtio_pci__set_intx(&t, (struct irq_line){ .set = on_intx, .gsi = 17 },
			     (struct irq_line){ .set = on_pic, .gsi = 11 });
	pic_wired = true;
	ck_assert_uint_eq(cfg_rd(PCI_CFG_INT_PIN, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_CFG_INT_LINE, 1), 11);	/* the PIC-mode IRQ */
	driver_init_irq((1ULL << VIRTIO_F_VERSION_1), false);
	read_request();
	wait_level(1);
	ck_assert_uint_eq(intx_gsi, 17);
	ck_assert_int_eq(pic_level, 1);			/* the same wire, steered to the 8259 */
	ck_assert_int_eq(msis, 0);
	ck_assert_uint_eq(mrd(off_isr, 1), 1);		/* queue interrupt */
	ck_assert_int_eq(intx_level, 0);		/* lowered by the read */
	ck_assert_int_eq(pic_level, 0);
	ck_assert_uint_eq(mrd(off_isr, 1), 0);
	/* Interrupt Disable: the line stays low while an interrupt is pending, rises on enable */
	cfg_wr(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE, 2);
	read_request();
	usleep(20000);
	ck_assert_int_eq(intx_level, 0);
	cfg_wr(PCI_CFG_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	ck_assert_int_eq(intx_level, 1);
	ck_assert_uint_eq(mrd(off_isr, 1), 1);
	ck_assert_int_eq(intx_level, 0);
	ck_assert_uint_ge(t.intx_irqs, 2);
	ck_assert_uint_eq(t.no_msix_irqs, 0);
	/* enabling MSI-X later: INTx is no longer used */
	cfg_wr(t.msix.cap + 2, MSIX_CTRL_ENABLE, 2);
	int changes = intx_changes;
	read_request();
	usleep(20000);
	ck_assert_int_eq(intx_level, 0);
	ck_assert_int_eq(__atomic_load_n(&intx_changes, __ATOMIC_SEQ_CST), changes);
	ck_assert_uint_eq(t.protocol_errors, 0);
}
END_TEST

START_TEST(bad_vectors_and_queue_sizes)
{
	probe();
	mwr(C(MSIX), 7, 2);	/* only vectors 0 and 1 exist */
	ck_assert_uint_eq(mrd(C(MSIX), 2), VPCI_NO_VECTOR);
	mwr(C(Q_SELECT), 0, 2);
	mwr(C(Q_MSIX), 2, 2);
	ck_assert_uint_eq(mrd(C(Q_MSIX), 2), VPCI_NO_VECTOR);
	mwr(C(Q_SELECT), 5, 2);	/* no such queue */
	ck_assert_uint_eq(mrd(C(Q_SIZE), 2), 0);
	mwr(C(Q_SIZE), 8, 2);
	mwr(C(Q_SELECT), 0, 2);
	mwr(C(Q_SIZE), 3, 2);	/* not a power of two */
	mwr(C(Q_ENABLE), 1, 2);
	ck_assert_uint_eq(mrd(C(Q_ENABLE), 2), 0);
	ck_assert(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_gt(t.protocol_errors, 0);
	/* the legacy-driver path: no VERSION_1, FEATURES_OK does not stick */
	mwr(C(STATUS), 0, 1);
	mwr(C(GF), 0, 4);
	mwr(C(STATUS), VIRTIO_CONFIG_S_FEATURES_OK, 1);
	ck_assert_uint_eq(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
}
END_TEST

/* Every width at every BAR offset, reads and writes of all-ones and zero, with MSI-X never
 * enabled: nothing crashes, nothing is delivered, kvmini counts the driver's mistakes. */
START_TEST(hostile_bar_accesses)
{
	probe();
	static const uint32_t w[] = { 1, 2, 4, 8 };
	for (uint64_t off = 0; off < VPCI_BAR_SIZE; off += (off < 0x100 || (off & 0xfff) < 0x40) ? 1 : 0x3d) {
		for (unsigned i = 0; i < 4; i++) {
			if (off + w[i] > VPCI_BAR_SIZE)
				continue;
			mrd(off, w[i]);
			if ((off == C(STATUS) && w[i] <= 2) || off == C(STATUS) - 1 || off == C(STATUS) - 3)
				continue;	/* a reset storm is tested elsewhere */
			mwr(off, ~0ULL, w[i]);
			mwr(off, 0, w[i]);
		}
	}
	ck_assert_int_eq(msis, 0);
	ck_assert_uint_gt(t.protocol_errors, 0);
	/* the BAR moved away: the old address decodes to nothing */
	uint64_t old = bar;
	cfg_wr(0x10, 0xc0100000, 4);
	uint32_t v = 0;
	pci_window_ops.read(&host, old - LAYOUT_PCI_MMIO, &v, 4);
	ck_assert_uint_eq(v, 0xffffffff);
	bar = 0xc0100000;
	ck_assert_uint_eq(mrd(C(NUMQ), 2), 1);
}
END_TEST

/* VIRTIO_PCI_CAP_PCI_CFG: BAR 0 through config space, and refusals of bad windows */
START_TEST(pci_cfg_window)
{
	probe();
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_BAR, 0, 1);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_OFFSET, off_common + VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	ck_assert_uint_eq(cfg_rd(pcicfg + 16, 2), 1);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_OFFSET, off_common + VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_wr(pcicfg + 16, 0, 2);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_OFFSET, off_common + VIRTIO_PCI_COMMON_Q_SIZE, 4);
	ck_assert_uint_eq(cfg_rd(pcicfg + 16, 2), BLK_QUEUE_MAX);
	uint64_t before = t.protocol_errors;
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_LENGTH, 3, 4);            /* bad length */
	cfg_rd(pcicfg + 16, 4);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_OFFSET, VPCI_BAR_SIZE - 2, 4);  /* past the end */
	cfg_rd(pcicfg + 16, 4);
	cfg_wr(pcicfg + VIRTIO_PCI_CAP_BAR, 3, 1);               /* no BAR 3 */
	cfg_wr(pcicfg + 16, 0xffffffff, 4);
	ck_assert_uint_ge(t.protocol_errors, before + 3);
}
END_TEST

/* queues=2: VIRTIO_BLK_F_MQ, num_queues 2, each queue with its own vector and I/O thread */
START_TEST(two_queues_two_vectors)
{
	static struct blk_opts o;	/* the device keeps pointing at its path (blk_dev.path) */
	char err[256], note[256], spec[128];

	virtio_pci__destroy(&t);
	blk__free(&blk);
	pci_host__destroy(&host);
	snprintf(spec, sizeof(spec), "path=%s,queues=2", path);
	ck_assert_msg(blk__parse_opts(spec, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(blk__init(&blk, &o, err, sizeof(err), note, sizeof(note)) == 0, "%s", err);
	pci_host__init(&host, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);
	ck_assert_int_eq(virtio_pci__init(&t, &blk_dev_ops, &blk, blk.nq, BLK_QUEUE_MAX, &gm), 0);
	t.msi_fallback = on_msi;
	ck_assert_int_eq(pci_host__add(&host, &t.pci), 1);
	probe();
	uint32_t msix = t.msix.cap;
	ck_assert_uint_eq(cfg_rd(msix + 2, 2) & 0x7ff, 2);	/* 3 vectors */
	cfg_wr(msix + 2, MSIX_CTRL_ENABLE, 2);
	for (unsigned v = 0; v < 3; v++) {
		mwr(VPCI_MSIX_OFF + 16 * v, 0xfee00000, 4);
		mwr(VPCI_MSIX_OFF + 16 * v + 8, 0x40 + v, 4);
		mwr(VPCI_MSIX_OFF + 16 * v + 12, 0, 4);
	}
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_MQ);
	mwr(C(DFSELECT), 0, 4);
	ck_assert(mrd(C(DF), 4) & (1u << VIRTIO_BLK_F_MQ));
	ck_assert_uint_eq(mrd(off_dev + offsetof(struct virtio_blk_config, num_queues), 2), 2);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	mwr(C(GFSELECT), 0, 4);
	mwr(C(GF), (uint32_t)f, 4);
	mwr(C(GFSELECT), 1, 4);
	mwr(C(GF), (uint32_t)(f >> 32), 4);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK, 1);
	ck_assert_uint_eq(mrd(C(NUMQ), 2), 2);
	for (unsigned q = 0; q < 2; q++) {
		mwr(C(Q_SELECT), q, 2);
		mwr(C(Q_SIZE), QSZ, 2);
		mwr(C(Q_MSIX), q + 1, 2);
		ck_assert_uint_eq(mrd(C(Q_NOFF), 2), q);
		mwr(C(Q_DESCLO), DESC_GPA + QBASE(q), 4);
		mwr(C(Q_AVAILLO), AVAIL_GPA + QBASE(q), 4);
		mwr(C(Q_USEDLO), USED_GPA + QBASE(q), 4);
		mwr(C(Q_ENABLE), 1, 2);
	}
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	ck_assert_uint_eq(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	read_request_q(1);
	for (int i = 0; i < 1000 && !__atomic_load_n(&msis, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	ck_assert_uint_eq(last_data, 0x42);	/* queue 1's vector */
	read_request_q(0);
	for (int i = 0; i < 1000 && __atomic_load_n(&msis, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(1000);
	ck_assert_uint_eq(last_data, 0x41);
	struct blk_stats st;
	blk__stats(&blk, &st);
	ck_assert_uint_eq(st.reads, 2);
	/* a driver that enables only one of two queues cannot start the device */
	mwr(C(STATUS), 0, 1);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	mwr(C(GFSELECT), 0, 4);
	mwr(C(GF), (uint32_t)f, 4);
	mwr(C(GFSELECT), 1, 4);
	mwr(C(GF), (uint32_t)(f >> 32), 4);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK, 1);
	mwr(C(Q_SELECT), 0, 2);
	mwr(C(Q_SIZE), QSZ, 2);
	mwr(C(Q_ENABLE), 1, 2);
	mwr(C(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
	ck_assert(mrd(C(STATUS), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* bad queue counts are refused up front */
	snprintf(spec, sizeof(spec), "path=%s,queues=9", path);
	ck_assert_int_eq(blk__parse_opts(spec, &o, err, sizeof(err)), -1);
	snprintf(spec, sizeof(spec), "path=%s,queues=0", path);
	ck_assert_int_eq(blk__parse_opts(spec, &o, err, sizeof(err)), -1);
}
END_TEST

Suite *virtio_pci_suite(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("transport");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, linux_sequence_and_msix_completion);
	tcase_add_test(tc, intx_without_msix);
	tcase_add_test(tc, bad_vectors_and_queue_sizes);
	tcase_add_test(tc, hostile_bar_accesses);
	tcase_add_test(tc, pci_cfg_window);
	tcase_add_test(tc, two_queues_two_vectors);
	suite_add_tcase(s, tc);
	return s;
}
