/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 board's guest physical address map and interrupt numbers: one place for every fixed address. */
#ifndef KVMINI_FIRMWARE_ARM64_LAYOUT_H
#define KVMINI_FIRMWARE_ARM64_LAYOUT_H

/* Below RAM, as QEMU's virt board and kvmtool place them: the guest finds all of it in the
 * device tree, so nothing here is an ABI. */
#define A64_GICD            0x08000000ULL  /* GICv3 distributor, 64 KiB (GICv2: 4 KiB) */
#define A64_GICD_SIZE       0x00010000ULL
#define A64_GICD_V2_SIZE    0x00001000ULL
#define A64_GICC            0x08010000ULL  /* GICv2 CPU interface, 8 KiB */
#define A64_GICC_SIZE       0x00002000ULL
#define A64_GICV2M          0x08020000ULL  /* GICv2m MSI frame (GICv2 hosts: no ITS) */
#define A64_GICV2M_SIZE     0x00001000ULL
#define A64_GICV2M_SETSPI   (A64_GICV2M + 0x40) /* MSI_SETSPI_NS: where devices write MSIs */
#define A64_GITS            0x08080000ULL  /* GICv3 ITS, 128 KiB */
#define A64_GITS_SIZE       0x00020000ULL
#define A64_GITS_TRANSLATER_FRAME (A64_GITS + 0x10000) /* where devices write MSIs */
#define A64_GICR            0x080a0000ULL  /* redistributors, 128 KiB per vCPU */
#define A64_GICR_PER_CPU    0x00020000ULL
#define A64_UART            0x09000000ULL  /* 16550A, 4 KiB window */
#define A64_UART_SIZE       0x00001000ULL
#define A64_RTC             0x09010000ULL  /* PL031 */
#define A64_RTC_SIZE        0x00001000ULL
#define A64_GPIO            0x09030000ULL  /* PL061: the power button (gpio-keys) */
#define A64_GPIO_SIZE       0x00001000ULL
#define A64_GPIO_POWER_LINE 3
#define A64_GPIO_RESTART_LINE 4
#define A64_VIRTIO_MMIO     0x0a000000ULL  /* virtio-mmio windows, 4 KiB each */
#define A64_VIRTIO_MMIO_SIZE 0x00001000ULL
#define A64_PCI_MMIO        0x10000000ULL  /* PCI BAR window (32-bit) */
#define A64_PCI_MMIO_SIZE   0x2eff0000ULL
#define A64_PCI_ECAM        0x3f000000ULL  /* ECAM, 1 MiB per bus */
#define A64_PCI_ECAM_SIZE   0x01000000ULL  /* room for 16 buses */
#define A64_PCI_ECAM_BUS0   0x00100000ULL  /* what the host decodes: bus 0 */
#define A64_RAM             0x40000000ULL  /* guest RAM from 1 GiB */

/* SPIs (GIC INTID - 32) */
#define A64_SPI_UART        1
#define A64_SPI_RTC         2
#define A64_SPI_PCI_INTX    3              /* 4 lines: INTA..INTD swizzled by slot */
#define A64_SPI_GPIO        7
#define A64_SPI_VIRTIO_MMIO 16             /* + n for window n */
#define A64_SPI_V2M         64             /* GICv2m: 64 SPIs for MSIs from here */
#define A64_SPI_V2M_COUNT   64
#define A64_GICV2_NR_IRQS   256            /* the GICv2's INTIDs: 32 private + 224 SPIs */
#define A64_GICV2_MAX_CPUS  8

/* the architected timer's PPIs (INTID - 16): secure, non-secure physical, virtual, hyp */
#define A64_PPI_TIMER_SEC   13
#define A64_PPI_TIMER_PHYS  14
#define A64_PPI_TIMER_VIRT  11
#define A64_PPI_TIMER_HYP   10

#endif
