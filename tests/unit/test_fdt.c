/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the arm64 guest's device tree (firmware/arm64/fdt.c), read back with libfdt and checked by dtc. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "firmware/arm64/fdt.h"
#include "firmware/arm64/layout.h"
#include "tests/lib/ck.h"

static uint8_t blob[FDT_MAX_SIZE];

/* the board kvmini builds: 2 vCPUs, 512 MiB, two virtio-mmio disks, the PCI host, an initrd */
static struct fdt_config board(void)
{
	struct fdt_config c = {
		.ram = { A64_RAM, 512ULL << 20 },
		.ncpus = 2,
		.gicd = { A64_GICD, A64_GICD_SIZE }, .gicr = { A64_GICR, 2 * A64_GICR_PER_CPU },
		.its = { A64_GITS, A64_GITS_SIZE },
		.uart = { A64_UART, A64_UART_SIZE }, .uart_spi = A64_SPI_UART,
		.rtc = { A64_RTC, A64_RTC_SIZE }, .rtc_spi = A64_SPI_RTC,
		.gpio = { A64_GPIO, A64_GPIO_SIZE }, .gpio_spi = A64_SPI_GPIO,
		.power_line = A64_GPIO_POWER_LINE, .restart_line = A64_GPIO_RESTART_LINE,
		.n_virtio_mmio = 2,
		.pci_ecam = { A64_PCI_ECAM, A64_PCI_ECAM_SIZE },
		.pci_mmio = { A64_PCI_MMIO, A64_PCI_MMIO_SIZE },
		.pci_slots = 2, .pci_intx_spi = A64_SPI_PCI_INTX,
		.bootargs = "console=ttyS0 earlycon",
		.initrd = { A64_RAM + (256ULL << 20), 4096 },
	};
	for (unsigned i = 0; i < 2; i++)
		c.virtio_mmio[i] = (typeof(c.virtio_mmio[0])){
			{ A64_VIRTIO_MMIO + i * A64_VIRTIO_MMIO_SIZE, A64_VIRTIO_MMIO_SIZE },
			A64_SPI_VIRTIO_MMIO + i };
	return c;
}

/* the same board on a GICv2 host: distributor + CPU interface, the v2m frame for MSIs */
static struct fdt_config board_v2(void)
{
	struct fdt_config c = board();

	c.gic_version = 2;
	c.gicd = (struct fdt_region){ A64_GICD, A64_GICD_V2_SIZE };
	c.gicc = (struct fdt_region){ A64_GICC, A64_GICC_SIZE };
	c.gicr = (struct fdt_region){ 0, 0 };
	c.its = (struct fdt_region){ 0, 0 };
	c.v2m = (struct fdt_region){ A64_GICV2M, A64_GICV2M_SIZE };
	c.v2m_spi = A64_SPI_V2M;
	c.v2m_spis = A64_SPI_V2M_COUNT;
	return c;
}

static const void *prop(const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(blob, path);

	ck_assert_msg(node >= 0, "no node %s: %s", path, fdt_strerror(node));
	const void *p = fdt_getprop(blob, node, name, len);
	ck_assert_msg(p, "%s has no %s", path, name);
	return p;
}

static uint32_t cell(const void *p, unsigned i)
{
	return fdt32_to_cpu(((const fdt32_t *)p)[i]);
}

START_TEST(tree_describes_the_board)
{
	struct fdt_config c = board();
	int len, n = fdt__build(&c, blob, sizeof(blob));

	ck_assert_msg(n > 0, "%s", fdt__strerror(n));
	ck_assert_int_eq(fdt_check_header(blob), 0);
	ck_assert_str_eq(prop("/", "compatible", &len), "linux,dummy-virt");
	ck_assert_str_eq(prop("/chosen", "bootargs", &len), "console=ttyS0 earlycon");
	ck_assert_str_eq(prop("/chosen", "stdout-path", &len), "/serial@9000000");
	ck_assert_uint_eq(fdt64_to_cpu(*(const fdt64_t *)prop("/chosen", "linux,initrd-end", &len)),
			  A64_RAM + (256ULL << 20) + 4096);
	const void *reg = prop("/memory@40000000", "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt64_to_cpu(((const fdt64_t *)reg)[1]), 512ULL << 20);
	ck_assert_str_eq(prop("/cpus/cpu@1", "enable-method", &len), "psci");
	ck_assert_uint_eq(cell(prop("/cpus/cpu@1", "reg", &len), 0), 1);
	ck_assert_str_eq(prop("/psci", "method", &len), "hvc");
	ck_assert_str_eq(prop("/intc@8000000", "compatible", &len), "arm,gic-v3");
	ck_assert_int_eq(fdt_path_offset(blob, "/intc@8000000/msi-controller@8080000") >= 0, 1);
	const void *irq = prop("/virtio_mmio@a001000", "interrupts", &len);
	ck_assert_uint_eq(cell(irq, 1), A64_SPI_VIRTIO_MMIO + 1);
	ck_assert_str_eq(prop("/pcie@3f000000", "compatible", &len), "pci-host-ecam-generic");
	ck_assert_uint_eq(cell(prop("/pcie@3f000000", "bus-range", &len), 1), 15);
	/* slots 1 and 2, four pins each, 10 cells an entry; slot 1 INTA on SPI 3 + (1 + 0) % 4 */
	const void *map = prop("/pcie@3f000000", "interrupt-map", &len);
	ck_assert_int_eq(len, 2 * 4 * 10 * 4);
	ck_assert_uint_eq(cell(map, 0), 1 << 11);
	ck_assert_uint_eq(cell(map, 8), A64_SPI_PCI_INTX + 1);
	ck_assert_uint_eq(cell(prop("/pcie@3f000000", "msi-map", &len), 1),
			  cell(prop("/intc@8000000/msi-controller@8080000", "phandle", &len), 0));
	ck_assert_str_eq(prop("/rtc@9010000", "clock-names", &len), "apb_pclk");
	/* the power button: gpio-keys on the PL061's line 3, KEY_POWER */
	ck_assert_uint_eq(cell(prop("/pl061@9030000", "interrupts", &len), 1), A64_SPI_GPIO);
	const void *gp = prop("/gpio-keys/poweroff", "gpios", &len);
	ck_assert_int_eq(len, 12);
	ck_assert_uint_eq(cell(gp, 0), cell(prop("/pl061@9030000", "phandle", &len), 0));
	ck_assert_uint_eq(cell(gp, 1), A64_GPIO_POWER_LINE);
	ck_assert_uint_eq(cell(prop("/gpio-keys/poweroff", "linux,code", &len), 0), 116);
	/* the reboot key (vm.reboot): line 4, KEY_RESTART */
	gp = prop("/gpio-keys/restart", "gpios", &len);
	ck_assert_uint_eq(cell(gp, 1), A64_GPIO_RESTART_LINE);
	ck_assert_uint_eq(cell(prop("/gpio-keys/restart", "linux,code", &len), 0), 0x198);
}
END_TEST

/* a GICv2: the cortex-a15-gic binding, the v2m frame as the PCI host's msi-parent, PPIs
 * naming their CPUs */
START_TEST(gicv2_tree)
{
	struct fdt_config c = board_v2();
	int len, n = fdt__build(&c, blob, sizeof(blob));

	ck_assert_msg(n > 0, "%s", fdt__strerror(n));
	ck_assert_str_eq(prop("/intc@8000000", "compatible", &len), "arm,cortex-a15-gic");
	const void *reg = prop("/intc@8000000", "reg", &len);
	ck_assert_int_eq(len, 32);
	ck_assert_uint_eq(fdt64_to_cpu(((const fdt64_t *)reg)[1]), A64_GICD_V2_SIZE);
	ck_assert_uint_eq(fdt64_to_cpu(((const fdt64_t *)reg)[2]), A64_GICC);
	ck_assert_ptr_null(fdt_getprop(blob, fdt_path_offset(blob, "/intc@8000000"),
				       "#redistributor-regions", &len));
	const char *v2m = "/intc@8000000/v2m@8020000";
	ck_assert_str_eq(prop(v2m, "compatible", &len), "arm,gic-v2m-frame");
	ck_assert_uint_eq(cell(prop(v2m, "arm,msi-base-spi", &len), 0), 32 + A64_SPI_V2M);
	ck_assert_uint_eq(cell(prop(v2m, "arm,msi-num-spis", &len), 0), A64_SPI_V2M_COUNT);
	ck_assert_uint_eq(cell(prop("/pcie@3f000000", "msi-parent", &len), 0),
			  cell(prop(v2m, "phandle", &len), 0));
	ck_assert_ptr_null(fdt_getprop(blob, fdt_path_offset(blob, "/pcie@3f000000"), "msi-map",
				       &len));
	ck_assert_int_lt(fdt_path_offset(blob, "/intc@8000000/msi-controller@8080000"), 0);
	/* the timer's PPIs go to both vCPUs: mask 0b11 in bits 8-15 of the flags */
	ck_assert_uint_eq(cell(prop("/timer", "interrupts", &len), 2), 4 | (3u << 8));
	c.ncpus = 9;	/* a GICv2 has 8 CPU interfaces */
	ck_assert_int_eq(fdt__build(&c, blob, sizeof(blob)), -FDT_ERR_BADVALUE);
	c = board_v2();
	c.gic_version = 4;
	ck_assert_int_eq(fdt__build(&c, blob, sizeof(blob)), -FDT_ERR_BADVALUE);
}
END_TEST

/* MPIDR affinity as KVM resets it: Aff0 = id % 16, Aff1 = id / 16 */
START_TEST(cpu_ids_follow_kvm_mpidr)
{
	struct fdt_config c = board();

	ck_assert_uint_eq(fdt__mpidr(15), 15);
	ck_assert_uint_eq(fdt__mpidr(16), 0x100);
	ck_assert_uint_eq(fdt__mpidr(33), 0x201);
	c.ncpus = 17;
	c.gicr.size = 17 * A64_GICR_PER_CPU;
	ck_assert_int_gt(fdt__build(&c, blob, sizeof(blob)), 0);
	ck_assert_int_ge(fdt_path_offset(blob, "/cpus/cpu@100"), 0);
}
END_TEST

/* what the board cannot describe is refused, and a small buffer is a clean error */
START_TEST(bad_configs_are_refused)
{
	struct fdt_config c = board();

	c.ncpus = 3;	/* the redistributor region has room for 2 */
	ck_assert_int_eq(fdt__build(&c, blob, sizeof(blob)), -FDT_ERR_BADVALUE);
	c = board();
	c.pci_ecam.size = 4096;
	ck_assert_int_eq(fdt__build(&c, blob, sizeof(blob)), -FDT_ERR_BADVALUE);
	c = board();
	c.power_line = 8;	/* a PL061 has 8 lines */
	ck_assert_int_eq(fdt__build(&c, blob, sizeof(blob)), -FDT_ERR_BADVALUE);
	c = board();
	ck_assert_int_eq(fdt__build(&c, blob, 256), -FDT_ERR_NOSPACE);
	c = board();
	c.pci_ecam.size = 0;	/* no PCI host: no node */
	c.rtc.size = 0;
	ck_assert_int_gt(fdt__build(&c, blob, sizeof(blob)), 0);
	ck_assert_int_lt(fdt_path_offset(blob, "/pcie@3f000000"), 0);
	ck_assert_int_lt(fdt_path_offset(blob, "/rtc@9010000"), 0);
}
END_TEST

/* dtc (Debian's device-tree-compiler) decompiles the tree without a single warning: unit
 * addresses match reg, interrupt-map and ranges have the cells their parents say */
static void dtc_check(const struct fdt_config *c)
{
	char path[] = "/tmp/kvmini-fdt-XXXXXX", cmd[256], out[4096] = "";
	int n = fdt__build(c, blob, sizeof(blob)), fd = mkstemp(path);

	ck_assert_int_gt(n, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, blob, (size_t)n), n);
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	size_t got = fread(out, 1, sizeof(out) - 1, p);
	int status = pclose(p);
	out[got] = '\0';
	unlink(path);
	ck_assert_msg(status == 0 && got == 0, "dtc (status %d, GICv%u):\n%s", status,
		      c->gic_version ? c->gic_version : 3, out);
}

START_TEST(dtc_finds_no_warnings)
{
	struct fdt_config c3 = board(), c2 = board_v2();

	if (system("command -v dtc >/dev/null 2>&1") != 0)
		ck_skip("dtc is not installed (make deps installs device-tree-compiler)");
	dtc_check(&c3);
	dtc_check(&c2);
}
END_TEST

Suite *fdt_suite(void)
{
	Suite *s = suite_create("fdt");
	TCase *tc = tcase_create("arm64-device-tree");
	tcase_add_test(tc, tree_describes_the_board);
	tcase_add_test(tc, gicv2_tree);
	tcase_add_test(tc, cpu_ids_follow_kvm_mpidr);
	tcase_add_test(tc, bad_configs_are_refused);
	tcase_add_test(tc, dtc_finds_no_warnings);
	suite_add_tcase(s, tc);
	return s;
}
