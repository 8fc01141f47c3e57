/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 guest's device tree with libfdt's sequential writer: memory, CPUs and PSCI, GICv3 and ITS or GICv2 and v2m, timer, UART, RTC, the PL061 with a gpio-keys power button, virtio-mmio, the ECAM PCI host, /chosen. */
#include "firmware/arm64/fdt.h"

#include <stdbool.h>
#include <stdio.h>
#include <libfdt.h>

#define PH_GIC   1
#define PH_ITS   2
#define PH_CLK   3
#define PH_V2M   4
#define PH_GPIO  5
#define KEY_POWER 116	/* linux/input-event-codes.h */
#define KEY_RESTART 0x198

/* interrupt specifier cells (bindings/interrupt-controller/arm,gic-v3.yaml) */
#define GIC_SPI  0
#define GIC_PPI  1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH  4

/* Every libfdt call returns 0 or a negative error: the first error ends the build. */
#define TRY(call) do { int e_ = (call); if (e_ < 0) return e_; } while (0)

uint32_t fdt__mpidr(unsigned id)
{
	return ((id >> 4) & 0xff) << 8 | (id & 0xf);
}

const char *fdt__strerror(int err)
{
	return fdt_strerror(err);
}

/* reg = <base size> with #address-cells = #size-cells = 2 */
static int prop_reg(void *fdt, const struct fdt_region *r)
{
	fdt64_t v[2] = { cpu_to_fdt64(r->base), cpu_to_fdt64(r->size) };

	return fdt_property(fdt, "reg", v, sizeof(v));
}

static int prop_cells(void *fdt, const char *name, const uint32_t *c, unsigned n)
{
	fdt32_t v[32];

	for (unsigned i = 0; i < n && i < 32; i++)
		v[i] = cpu_to_fdt32(c[i]);
	return fdt_property(fdt, name, v, (int)(n * sizeof(fdt32_t)));
}

/* a node NAME@BASE */
static int begin_at(void *fdt, const char *name, uint64_t base)
{
	char n[64];

	snprintf(n, sizeof(n), "%s@%llx", name, (unsigned long long)base);
	return fdt_begin_node(fdt, n);
}

static int add_cpus(void *fdt, const struct fdt_config *c)
{
	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < c->ncpus; i++) {
		TRY(begin_at(fdt, "cpu", fdt__mpidr(i)));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u32(fdt, "reg", fdt__mpidr(i)));
		TRY(fdt_end_node(fdt));
	}
	TRY(fdt_end_node(fdt));
	TRY(fdt_begin_node(fdt, "psci"));
	static const char psci[] = "arm,psci-1.0\0arm,psci-0.2";
	TRY(fdt_property(fdt, "compatible", psci, sizeof(psci)));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	return fdt_end_node(fdt);
}

static int add_its(void *fdt, const struct fdt_config *c)
{
	TRY(begin_at(fdt, "msi-controller", c->its.base));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
	TRY(fdt_property(fdt, "msi-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#msi-cells", 1));
	TRY(prop_reg(fdt, &c->its));
	TRY(fdt_property_u32(fdt, "phandle", PH_ITS));
	return fdt_end_node(fdt);
}

/* bindings/interrupt-controller/arm,gic.yaml and arm,gic-v2m-frame (msi-base-spi is an INTID) */
static int add_v2m(void *fdt, const struct fdt_config *c)
{
	TRY(begin_at(fdt, "v2m", c->v2m.base));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v2m-frame"));
	TRY(fdt_property(fdt, "msi-controller", NULL, 0));
	TRY(prop_reg(fdt, &c->v2m));
	TRY(fdt_property_u32(fdt, "arm,msi-base-spi", 32 + c->v2m_spi));
	TRY(fdt_property_u32(fdt, "arm,msi-num-spis", c->v2m_spis));
	TRY(fdt_property_u32(fdt, "phandle", PH_V2M));
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct fdt_config *c)
{
	const bool v2 = c->gic_version == 2;
	const struct fdt_region *second = v2 ? &c->gicc : &c->gicr;
	fdt64_t reg[4] = { cpu_to_fdt64(c->gicd.base), cpu_to_fdt64(c->gicd.size),
			   cpu_to_fdt64(second->base), cpu_to_fdt64(second->size) };

	TRY(begin_at(fdt, "intc", c->gicd.base));
	TRY(fdt_property_string(fdt, "compatible", v2 ? "arm,cortex-a15-gic" : "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	if (!v2)
		TRY(fdt_property_u32(fdt, "#redistributor-regions", 1));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	TRY(fdt_property_u32(fdt, "phandle", PH_GIC));
	if (!v2 && c->its.size)
		TRY(add_its(fdt, c));
	if (v2 && c->v2m.size)
		TRY(add_v2m(fdt, c));
	return fdt_end_node(fdt);
}

/* a GICv2's PPI specifiers also name the CPUs they go to (bits 8-15 of the flags) */
static int add_timer(void *fdt, const struct fdt_config *c)
{
	const uint32_t f = IRQ_LEVEL_HIGH |
			   (c->gic_version == 2 ? ((1u << c->ncpus) - 1) << 8 : 0);
	const uint32_t irqs[] = {
		GIC_PPI, 13, f, GIC_PPI, 14, f, GIC_PPI, 11, f, GIC_PPI, 10, f,
	};

	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(prop_cells(fdt, "interrupts", irqs, 12));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

/* the UART, the RTC and the fixed clock the PL031 (a primecell) names */
static int add_uart_rtc(void *fdt, const struct fdt_config *c)
{
	const uint32_t uirq[] = { GIC_SPI, c->uart_spi, IRQ_LEVEL_HIGH };
	const uint32_t rirq[] = { GIC_SPI, c->rtc_spi, IRQ_LEVEL_HIGH };

	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", 24000000));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", PH_CLK));
	TRY(fdt_end_node(fdt));
	TRY(begin_at(fdt, "serial", c->uart.base));
	TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	TRY(prop_reg(fdt, &c->uart));
	TRY(prop_cells(fdt, "interrupts", uirq, 3));
	TRY(fdt_property_u32(fdt, "clock-frequency", 1843200));
	TRY(fdt_end_node(fdt));
	if (!c->rtc.size)
		return 0;
	TRY(begin_at(fdt, "rtc", c->rtc.base));
	static const char rtc[] = "arm,pl031\0arm,primecell";
	TRY(fdt_property(fdt, "compatible", rtc, sizeof(rtc)));
	TRY(prop_reg(fdt, &c->rtc));
	TRY(prop_cells(fdt, "interrupts", rirq, 3));
	TRY(fdt_property_u32(fdt, "clocks", PH_CLK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	return fdt_end_node(fdt);
}

/* one gpio-keys button on a line of the PL061 */
static int add_key(void *fdt, const char *node, const char *label, uint32_t code, unsigned line)
{
	const uint32_t gpios[] = { PH_GPIO, line, 0 };

	TRY(fdt_begin_node(fdt, node));
	TRY(fdt_property_string(fdt, "label", label));
	TRY(fdt_property_u32(fdt, "linux,code", code));
	TRY(prop_cells(fdt, "gpios", gpios, 3));
	return fdt_end_node(fdt);
}

/* the PL061 and, on its lines power_line and restart_line, gpio-keys buttons KEY_POWER and
 * KEY_RESTART: how an arm64 guest without ACPI learns of a power-button press (as on QEMU's
 * virt board) or of a reboot request (systemd-logind's HandleRebootKey) */
static int add_gpio_keys(void *fdt, const struct fdt_config *c)
{
	const uint32_t irq[] = { GIC_SPI, c->gpio_spi, IRQ_LEVEL_HIGH };
	TRY(begin_at(fdt, "pl061", c->gpio.base));
	static const char compat[] = "arm,pl061\0arm,primecell";
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(prop_reg(fdt, &c->gpio));
	TRY(prop_cells(fdt, "interrupts", irq, 3));
	TRY(fdt_property(fdt, "gpio-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#gpio-cells", 2));
	TRY(fdt_property_u32(fdt, "clocks", PH_CLK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	TRY(fdt_property_u32(fdt, "phandle", PH_GPIO));
	TRY(fdt_end_node(fdt));
	TRY(fdt_begin_node(fdt, "gpio-keys"));
	TRY(fdt_property_string(fdt, "compatible", "gpio-keys"));
	TRY(add_key(fdt, "poweroff", "GPIO Key Poweroff", KEY_POWER, c->power_line));
	TRY(add_key(fdt, "restart", "GPIO Key Restart", KEY_RESTART, c->restart_line));
	return fdt_end_node(fdt);
}

static int add_virtio_mmio(void *fdt, const struct fdt_config *c)
{
	for (unsigned i = 0; i < c->n_virtio_mmio && i < FDT_MAX_VIRTIO_MMIO; i++) {
		const uint32_t irq[] = { GIC_SPI, c->virtio_mmio[i].spi, IRQ_EDGE_RISING };
		TRY(begin_at(fdt, "virtio_mmio", c->virtio_mmio[i].r.base));
		TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
		TRY(prop_reg(fdt, &c->virtio_mmio[i].r));
		TRY(prop_cells(fdt, "interrupts", irq, 3));
		TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

/* INTx of slot S pin P (0 = INTA) -> SPI base + (S + P) % 4, the swizzle a bridge applies */
static int add_pci_intx(void *fdt, const struct fdt_config *c)
{
	uint32_t map[4 * 32 * 10], n = 0;
	const uint32_t mask[] = { 0xf800, 0, 0, 7 };	/* the device number and the pin */

	for (unsigned slot = 1; slot <= c->pci_slots && slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			const uint32_t e[10] = { slot << 11, 0, 0, pin + 1, PH_GIC, 0, 0, GIC_SPI,
						 c->pci_intx_spi + (slot + pin) % 4, IRQ_LEVEL_HIGH };
			for (unsigned k = 0; k < 10; k++)
				map[n++] = e[k];
		}
	}
	TRY(prop_cells(fdt, "interrupt-map-mask", mask, 4));
	fdt32_t v[sizeof(map) / sizeof(map[0])];
	for (unsigned i = 0; i < n; i++)
		v[i] = cpu_to_fdt32(map[i]);
	return fdt_property(fdt, "interrupt-map", v, (int)(n * sizeof(fdt32_t)));
}

static int add_pci(void *fdt, const struct fdt_config *c)
{
	const uint64_t m = c->pci_mmio.base, ms = c->pci_mmio.size;
	/* 32-bit non-prefetchable memory: PCI address = CPU address */
	const uint32_t ranges[] = { 0x02000000, (uint32_t)(m >> 32), (uint32_t)m,
				    (uint32_t)(m >> 32), (uint32_t)m, (uint32_t)(ms >> 32), (uint32_t)ms };
	const uint32_t bus_range[] = { 0, (uint32_t)(c->pci_ecam.size >> 20) - 1 };
	const uint32_t msi_map[] = { 0, PH_ITS, 0, 0x10000 };

	TRY(begin_at(fdt, "pcie", c->pci_ecam.base));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
	TRY(prop_cells(fdt, "bus-range", bus_range, 2));
	TRY(prop_reg(fdt, &c->pci_ecam));
	TRY(prop_cells(fdt, "ranges", ranges, 7));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	if (c->gic_version != 2 && c->its.size)
		TRY(prop_cells(fdt, "msi-map", msi_map, 4));
	if (c->gic_version == 2 && c->v2m.size)
		TRY(fdt_property_u32(fdt, "msi-parent", PH_V2M));
	TRY(add_pci_intx(fdt, c));
	return fdt_end_node(fdt);
}

static int add_chosen_memory(void *fdt, const struct fdt_config *c)
{
	char stdout_path[64];

	snprintf(stdout_path, sizeof(stdout_path), "/serial@%llx", (unsigned long long)c->uart.base);
	TRY(fdt_begin_node(fdt, "chosen"));
	if (c->bootargs)
		TRY(fdt_property_string(fdt, "bootargs", c->bootargs));
	TRY(fdt_property_string(fdt, "stdout-path", stdout_path));
	if (c->initrd.size) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", c->initrd.base));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", c->initrd.base + c->initrd.size));
	}
	TRY(fdt_end_node(fdt));
	TRY(begin_at(fdt, "memory", c->ram.base));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_reg(fdt, &c->ram));
	return fdt_end_node(fdt);
}

static int build_tree(void *fdt, const struct fdt_config *c)
{
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(fdt, "model", "kvmini"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", PH_GIC));
	TRY(add_chosen_memory(fdt, c));
	TRY(add_cpus(fdt, c));
	TRY(add_gic(fdt, c));
	TRY(add_timer(fdt, c));
	TRY(add_uart_rtc(fdt, c));
	if (c->gpio.size)
		TRY(add_gpio_keys(fdt, c));
	TRY(add_virtio_mmio(fdt, c));
	if (c->pci_ecam.size)
		TRY(add_pci(fdt, c));
	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int fdt__build(const struct fdt_config *c, void *buf, size_t size)
{
	if (size > FDT_MAX_SIZE)
		size = FDT_MAX_SIZE;
	const bool v2 = c->gic_version == 2;

	if (!c->ncpus || (v2 ? c->ncpus > 8 : c->ncpus * 0x20000ULL > c->gicr.size) ||
	    (c->gic_version && c->gic_version != 2 && c->gic_version != 3) || !c->ram.size ||
	    c->n_virtio_mmio > FDT_MAX_VIRTIO_MMIO || c->pci_slots > 31 ||
	    (c->gpio.size && c->power_line > 7) ||
	    (c->pci_ecam.size && (c->pci_ecam.size < (1 << 20) || c->pci_ecam.size > (256u << 20))))
		return -FDT_ERR_BADVALUE;
	int e = fdt_create(buf, (int)size);
	if (e < 0)
		return e;
	e = build_tree(buf, c);
	if (e < 0)
		return e;
	return (int)fdt_totalsize(buf);
}
