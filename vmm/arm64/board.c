/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 board (QEMU virt's map): a 16550 UART and a PL031 clock on MMIO, virtio-mmio windows on SPIs, the Image loaded with a libfdt device tree, the boot vCPU entering with x0 = the DTB. */
#include "vmm/arm64/board.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "devices/serial.h"
#include "firmware/arm64/layout.h"
#include "vmm/arm64/boot.h"
#include "vmm/board.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

#define CORE(r) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(r))

const char *board__default_cmdline(void)
{
	return "console=ttyS0 earlycon panic=-1";
}

bool board__has_pci(void)
{
	return true;
}

bool board__has_device_tree(void)
{
	return true;
}

const char *board__kernel_format(void)
{
	return "Image";
}

int board__add_devices(struct machine *m, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;
	struct irq_line uart_irq = { .set = vm__set_irq, .ctx = vm, .gsi = A64_SPI_UART };
	struct board *b = calloc(1, sizeof(*b));

	m->board = b;
	m->uart = b ? serial__new(uart_irq, m->console.out_fd) : NULL;
	if (!m->uart) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pl031__init(&b->rtc);
	pl061__init(&b->gpio, (struct irq_line){ .set = vm__set_irq, .ctx = vm,
						 .gsi = A64_SPI_GPIO });
	if (bus__register(&vm->mmio, A64_UART, A64_UART_SIZE, &serial_ops, m->uart) ||
	    bus__register(&vm->mmio, A64_RTC, PL031_SIZE, &pl031_ops, &b->rtc) ||
	    bus__register(&vm->mmio, A64_GPIO, PL061_SIZE, &pl061_ops, &b->gpio)) {
		snprintf(err, errlen, "registering the UART, the RTC and the GPIO");
		return -1;
	}
	b->fdt = (struct fdt_config){
		.ncpus = vm->ncpus,
		.gic_version = vm->irqchip_version,
		.gicd = { A64_GICD, vm->irqchip_version == 2 ? A64_GICD_V2_SIZE : A64_GICD_SIZE },
		.gicr = { A64_GICR, vm->ncpus * A64_GICR_PER_CPU },
		.gicc = { A64_GICC, A64_GICC_SIZE },
		.uart = { A64_UART, A64_UART_SIZE }, .uart_spi = A64_SPI_UART,
		.rtc = { A64_RTC, A64_RTC_SIZE }, .rtc_spi = A64_SPI_RTC,
		.gpio = { A64_GPIO, A64_GPIO_SIZE }, .gpio_spi = A64_SPI_GPIO,
		.power_line = A64_GPIO_POWER_LINE, .restart_line = A64_GPIO_RESTART_LINE,
	};
	return 0;
}

void board__destroy(struct machine *m)
{
	free(m->board);
	m->board = NULL;
}

void board__mmio_slot(unsigned i, uint64_t *base, uint32_t *gsi)
{
	*base = A64_VIRTIO_MMIO + i * A64_VIRTIO_MMIO_SIZE;
	*gsi = A64_SPI_VIRTIO_MMIO + i;
}

void board__describe_mmio(struct machine *m, unsigned i, uint64_t base, uint64_t size,
			  uint32_t gsi)
{
	struct fdt_config *c = &m->board->fdt;

	if (i >= FDT_MAX_VIRTIO_MMIO)
		return;
	c->virtio_mmio[i].r = (struct fdt_region){ base, size };
	c->virtio_mmio[i].spi = gsi;
	if (i + 1 > c->n_virtio_mmio)
		c->n_virtio_mmio = i + 1;
}

/* a GICv2 has no ITS: MSIs go to the v2m frame, which turns them into SPIs (the routes of
 * vmm/arm64/irq_routes.c do the same in KVM for virtio-pci's vectors) */
static int add_v2m(struct machine *m, char *err, size_t errlen)
{
	struct board *b = m->board;
	struct irq_line spi = { .set = vm__set_irq, .ctx = &m->vm };

	gicv2m__init(&b->v2m, A64_SPI_V2M, A64_SPI_V2M_COUNT, spi);
	if (bus__register(&m->vm.mmio, A64_GICV2M, A64_GICV2M_SIZE, &gicv2m_ops, &b->v2m)) {
		snprintf(err, errlen, "registering the GICv2m frame");
		return -1;
	}
	b->fdt.v2m = (struct fdt_region){ A64_GICV2M, A64_GICV2M_SIZE };
	b->fdt.v2m_spi = A64_SPI_V2M;
	b->fdt.v2m_spis = A64_SPI_V2M_COUNT;
	msix__set_doorbell(A64_GICV2M_SETSPI, 4);
	return 0;
}

/* the ECAM window (bus 0) and the BAR window on the MMIO bus, in the device tree as a
 * pci-host-ecam-generic with its INTx map and, where the ITS is there, its msi-map */
int board__add_pci_host(struct machine *m, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;
	struct fdt_config *c = &m->board->fdt;

	pci_host__init(&m->pci, A64_PCI_MMIO, A64_PCI_MMIO_SIZE);
	m->pci_on = true;
	if (bus__register(&vm->mmio, A64_PCI_ECAM, A64_PCI_ECAM_BUS0, &pci_ecam_ops, &m->pci) ||
	    bus__register(&vm->mmio, A64_PCI_MMIO, A64_PCI_MMIO_SIZE, &pci_window_ops, &m->pci)) {
		snprintf(err, errlen, "cannot register the PCI host's windows");
		return -1;
	}
	c->pci_ecam = (struct fdt_region){ A64_PCI_ECAM, A64_PCI_ECAM_BUS0 };
	c->pci_mmio = (struct fdt_region){ A64_PCI_MMIO, A64_PCI_MMIO_SIZE };
	c->pci_intx_spi = A64_SPI_PCI_INTX;
	if (vm->msi_fd >= 0) {
		c->its = (struct fdt_region){ A64_GITS, A64_GITS_SIZE };
		msix__set_doorbell(A64_GITS_TRANSLATER_FRAME, 0x10000);	/* GITS_TRANSLATER */
	}
	return vm->irqchip_version == 2 ? add_v2m(m, err, errlen) : 0;
}

void board__pci_intx(struct machine *m, unsigned slot, struct irq_line *apic,
		     struct irq_line *pic)
{
	*apic = (struct irq_line){ .set = vm__set_irq, .ctx = &m->vm,
				   .gsi = A64_SPI_PCI_INTX + slot % 4 };	/* INTA, swizzled */
	*pic = (struct irq_line){ 0 };
	if (slot > m->board->fdt.pci_slots)
		m->board->fdt.pci_slots = slot;
}

static int set_reg(int fd, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(fd, KVM_SET_ONE_REG, &r);
}

/* --dump-dtb: the tree as the guest gets it */
static int dump_dtb(const char *path, const void *dtb, size_t n, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, dtb, n) != (ssize_t)n || close(fd)) {
		snprintf(err, errlen, "--dump-dtb %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* kernel and initrd where the plan put them, then the device tree that names them */
static int load(struct machine *m, struct boot_image *bi, char *err, size_t errlen)
{
	const struct guest_mem *gm = &m->vm.mem;
	struct fdt_config *c = &m->board->fdt;

	if (gm__write(gm, bi->plan.kernel_gpa, bi->im.data, bi->im.len)) {
		snprintf(err, errlen, "kernel '%s': does not fit in guest RAM", bi->f.kernel_path);
		return -1;
	}
	if (bi->f.isize) {
		void *dst = gm__ptr(gm, bi->plan.initrd_gpa, bi->f.isize);
		if (!dst || boot__read_initrd(&bi->f, dst)) {
			snprintf(err, errlen, "initrd '%s': read failed", bi->f.initrd_path);
			return -1;
		}
		c->initrd = (struct fdt_region){ bi->plan.initrd_gpa, bi->f.isize };
	}
	c->ram = (struct fdt_region){ gm->r[0].gpa, gm->r[0].size };
	c->bootargs = bi->cmdline;
	void *dtb = gm__ptr(gm, bi->plan.dtb_gpa, A64_DTB_SLOT);
	int n = dtb ? fdt__build(c, dtb, A64_DTB_SLOT) : -1;
	if (n < 0) {
		snprintf(err, errlen, "building the device tree: %s", fdt__strerror(n));
		return -1;
	}
	return m->dump_dtb ? dump_dtb(m->dump_dtb, dtb, (size_t)n, err, errlen) : 0;
}

int board__boot(struct machine *m, char *err, size_t errlen)
{
	struct boot_image *bi = m->boot;
	int fd = m->vm.vcpus[0].fd;

	if (load(m, bi, err, errlen))
		return -1;
	/* booting.rst: x0 = the DTB, x1-x3 = 0, MMU and caches off, at EL1 (KVM's reset state) */
	if (set_reg(fd, CORE(regs.pc), bi->plan.kernel_gpa) ||
	    set_reg(fd, CORE(regs.regs[0]), bi->plan.dtb_gpa) || set_reg(fd, CORE(regs.regs[1]), 0) ||
	    set_reg(fd, CORE(regs.regs[2]), 0) || set_reg(fd, CORE(regs.regs[3]), 0)) {
		snprintf(err, errlen, "setting the boot vCPU's registers failed");
		return -1;
	}
	return 0;
}

/* the gpio-keys button: pressed for 100 ms (gpio-keys reads the line after its debounce, so a
 * shorter pulse could be missed), then released; the guest's input layer gets KEY_POWER */
static void press(struct machine *m, unsigned line)
{
	pl061__set_input(&m->board->gpio, line, true);
	usleep(100000);
	pl061__set_input(&m->board->gpio, line, false);
}

int board__power_button(struct machine *m, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	press(m, A64_GPIO_POWER_LINE);
	return 0;
}

/* KEY_RESTART: the kernel leaves it to userspace (systemd-logind reboots; the default guest's
 * init too) */
int board__reboot_key(struct machine *m, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	press(m, A64_GPIO_RESTART_LINE);
	return 0;
}
