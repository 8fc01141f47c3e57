/* SPDX-License-Identifier: Apache-2.0 */
/* What the board (vmm/machine.c) asks of the architecture's board (vmm/ARCH/board.c): its devices, where disks sit, how the guest is told, the first vCPU state. */
#ifndef KVMINI_VMM_BOARD_H
#define KVMINI_VMM_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/irq.h"

struct machine;

/* The command line a guest gets when the user gives none (x86: console=ttyS0 reboot=k
 * panic=-1), and what the kernel file must be ("bzImage"). */
const char *board__default_cmdline(void);
const char *board__kernel_format(void);

/* Whether the board has a PCI host for virtio-pci (the default transport where it does;
 * virtio-mmio where it does not). */
bool board__has_pci(void);
/* Whether the board describes itself with a device tree (arm64), which --dump-dtb writes. */
bool board__has_device_tree(void);

/* The architecture's platform devices on the VM's buses and its board state (m->board):
 * x86: the UART at COM1, the i8042, ACPI PM/sleep and pvpanic ports, the POST port and the
 * boot timer. 0, or -1 with a one-line reason. */
int board__add_devices(struct machine *m, char *err, size_t errlen);
/* Frees m->board (NULL: nothing). */
void board__destroy(struct machine *m);

/* Where virtio slot i's virtio-mmio window sits and which GSI it raises (i < MAX_VIRTIO). */
void board__mmio_slot(unsigned i, uint64_t *base, uint32_t *gsi);
/* Tells the guest about disk i's window (x86: a LNRO0005 device in the DSDT). */
void board__describe_mmio(struct machine *m, unsigned i, uint64_t base, uint64_t size,
			  uint32_t gsi);
/* The PCI host: its configuration access and windows on the buses, described to the guest
 * (x86: CF8/CFC ports, ECAM, the BAR window, MCFG and the root bridge in the DSDT). 0, or -1
 * with a reason. */
int board__add_pci_host(struct machine *m, char *err, size_t errlen);
/* The INTx lines of the function in PCI slot `slot` (x86: its IOAPIC GSI and the 8259 IRQ of
 * a guest in PIC mode), for drivers that never enable MSI-X. */
void board__pci_intx(struct machine *m, unsigned slot, struct irq_line *apic,
		     struct irq_line *pic);

/* Loads the kernel, initrd and command line m->boot planned into guest RAM, describes the
 * board to the guest (x86: ACPI and MP tables, e820 and the zero page; arm64: the device
 * tree, also written to m->dump_dtb when set) and sets the boot vCPU's first state. 0, or -1
 * with a reason. */
/* Presses the guest's power button, the board's way (arm64: the PL061 line of its gpio-keys
 * node, held 100 ms; x86: the ACPI power button, through the GED). 0, or -1 with err. */
int board__power_button(struct machine *m, char *err, size_t errlen);
/* Asks the guest to reboot with a key, the board's way (x86: Ctrl-Alt-Del on the i8042
 * keyboard; arm64: KEY_RESTART on gpio-keys). 0, or -1 with err (x86: the guest has no
 * keyboard driver). */
int board__reboot_key(struct machine *m, char *err, size_t errlen);
int board__boot(struct machine *m, char *err, size_t errlen);

#endif
