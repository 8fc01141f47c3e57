/* SPDX-License-Identifier: Apache-2.0 */
/* The x86 board: the PC's platform devices and ports, where disks sit (IOAPIC GSIs, the PCI host's windows), ACPI/MP tables and the bzImage boot. */
#include "vmm/x86/board.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/serial.h"
#include "firmware/x86/layout.h"
#include "vmm/board.h"
#include "vmm/machine.h"
#include "vmm/x86/boot.h"

const char *board__default_cmdline(void)
{
	return "console=ttyS0 reboot=k panic=-1";
}

bool board__has_pci(void)
{
	return true;
}

bool board__has_device_tree(void)
{
	return false;	/* ACPI tables */
}

const char *board__kernel_format(void)
{
	return "bzImage";
}

static void on_reset(void *ctx)
{
	vm__request_stop(ctx, VM_STOP_REBOOT, 0, "guest rebooted");
}

/* The boot-timer port: time since kvmini started, wall clock and the VMM's own CPU time. */
static void report_boot_time(const struct vm *vm, uint32_t value)
{
	struct timespec now, cpu;

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	uint64_t wall = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec - vm->launch_ns;
	fprintf(stderr, "kvmini: boot-timer 0x%x: %.1f ms after launch, %.1f ms of VMM CPU "
		"(vCPU threads included)\n", value, (double)wall / 1e6,
		(double)cpu.tv_sec * 1e3 + (double)cpu.tv_nsec / 1e6);
}

static void on_pm_event(void *ctx, enum pm_event ev, uint32_t value)
{
	struct vm *vm = ctx;

	switch (ev) {
	case PM_POWEROFF:
		vm__request_stop(vm, VM_STOP_POWEROFF, 0, "guest powered off");
		break;
	case PM_PANIC:
		vm__request_stop(vm, VM_STOP_PANIC, 1, "guest kernel panicked (pvpanic 0x%x)", value);
		break;
	case PM_TEST_EXIT:
		vm->test_value = value;
		vm__request_stop(vm, VM_STOP_TEST, 0, "test payload finished with 0x%x", value);
		break;
	case PM_BOOT_TIME:
		report_boot_time(vm, value);
		break;
	}
}

/* The PC's ports on the PIO bus: COM1, i8042, ACPI sleep, pvpanic, POST, boot timer */
static int register_ports(struct machine *m, struct board *b, char *err, size_t errlen)
{
	const struct {
		uint64_t base, len;
		const struct bus_dev_ops *ops;
		void *opaque;
	} ports[] = {
		{ PORT_COM1, 8, &serial_ops, m->uart },
		{ PORT_I8042_DATA, 1, &i8042_data_ops, &b->kbd },
		{ PORT_I8042_CMD, 1, &i8042_cmd_ops, &b->kbd },
		{ PORT_ACPI_SLEEP_CTL, 2, &pm_sleep_ops, &b->pm },
		{ PORT_PVPANIC, 1, &pvpanic_ops, &b->pm },
		{ 0x80, 1, &ignore_ops, NULL },		/* POST / io-delay port */
		{ PORT_BOOT_TIMER, 1, &boot_timer_ops, &b->pm },
	};

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int e = bus__register(&m->vm.pio, ports[i].base, ports[i].len, ports[i].ops,
				      ports[i].opaque);
		if (e) {
			snprintf(err, errlen, "registering %s at port 0x%llx: %s", ports[i].ops->name,
				 (unsigned long long)ports[i].base, strerror(-e));
			return -1;
		}
	}
	return 0;
}

int board__add_devices(struct machine *m, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;
	struct irq_line com1_irq = { .set = vm__set_irq, .ctx = vm, .gsi = IRQ_COM1 };
	struct board *b = calloc(1, sizeof(*b));

	m->board = b;
	m->uart = b ? serial__new(com1_irq, m->console.out_fd) : NULL;
	if (!m->uart) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	i8042__init(&b->kbd, on_reset, vm,
		    (struct irq_line){ .set = vm__set_irq, .ctx = vm, .gsi = IRQ_KBD });
	b->pm = (struct pm_dev){ .event = on_pm_event, .ctx = vm };
	if (register_ports(m, b, err, errlen))
		return -1;

	b->acpi = (struct acpi_config){
		.ncpus = vm->ncpus,
		.lapic_addr = LAYOUT_LAPIC, .ioapic_addr = LAYOUT_IOAPIC,
		.sleep_ctl_port = PORT_ACPI_SLEEP_CTL, .sleep_sts_port = PORT_ACPI_SLEEP_STS,
		.reset_port = PORT_I8042_CMD, .reset_value = 0xfe,
		.com1_port = PORT_COM1, .com1_irq = IRQ_COM1,
		.pvpanic_port = PORT_PVPANIC,
		.kbd_data_port = PORT_I8042_DATA, .kbd_cmd_port = PORT_I8042_CMD, .kbd_irq = IRQ_KBD,
		.ged_gsi = IRQ_GED,
	};
	return 0;
}

void board__destroy(struct machine *m)
{
	if (m->board)
		i8042__destroy(&m->board->kbd);
	free(m->board);
	m->board = NULL;
}

/* GSIs for virtio-mmio devices: the IOAPIC pins above the ISA range first, then free ISA ones */
static const uint32_t virtio_gsis[MAX_VIRTIO] = { 16, 17, 18, 19, 20, 21, 22, 23,
						 5, 6, 7, 9, 10, 11, 12, 13 };

void board__mmio_slot(unsigned i, uint64_t *base, uint32_t *gsi)
{
	*base = LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_MMIO_SIZE;
	*gsi = virtio_gsis[i % MAX_VIRTIO];
}

void board__describe_mmio(struct machine *m, unsigned i, uint64_t base, uint64_t size,
			  uint32_t gsi)
{
	struct acpi_config *acpi = &m->board->acpi;

	acpi->virtio_mmio[i] = (struct acpi_virtio_mmio){ .base = base, .size = size, .irq = gsi };
	if (i + 1 > acpi->n_virtio_mmio)
		acpi->n_virtio_mmio = i + 1;
}

/* CF8/CFC ports, the ECAM window and the BAR window, then MCFG and the root bridge in ACPI */
int board__add_pci_host(struct machine *m, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;

	pci_host__init(&m->pci, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);
	m->pci_on = true;
	msix__set_doorbell(LAYOUT_LAPIC, 1 << 20);	/* MSIs go to the LAPICs' window */
	if (bus__register(&vm->pio, PORT_PCI_CF8, PCI_CF8_LEN, &pci_cf8_ops, &m->pci) ||
	    bus__register(&vm->mmio, LAYOUT_PCI_ECAM, LAYOUT_PCI_ECAM_SIZE, &pci_ecam_ops, &m->pci) ||
	    bus__register(&vm->mmio, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE, &pci_window_ops,
			  &m->pci)) {
		snprintf(err, errlen, "cannot register the PCI host's ports and windows");
		return -1;
	}
	m->board->acpi.pci = (struct acpi_pci){
		.ecam_base = LAYOUT_PCI_ECAM, .bus_end = 0,
		.mmio_base = (uint32_t)LAYOUT_PCI_MMIO, .mmio_size = (uint32_t)LAYOUT_PCI_MMIO_SIZE,
		.io_base = PORT_PCI_IO_WINDOW, .io_size = (uint16_t)(0x10000 - PORT_PCI_IO_WINDOW),
		.cf8_port = PORT_PCI_CF8,
	};
	return 0;
}

/* INTA..INTD wired like an ICH's PIRQ lines: routed by the DSDT's _PRT and the MP table */
void board__pci_intx(struct machine *m, unsigned slot, struct irq_line *apic,
		     struct irq_line *pic)
{
	*apic = (struct irq_line){ .set = vm__set_irq, .ctx = &m->vm,
				   .gsi = layout__pci_intx_gsi(slot, 0) };
	*pic = (struct irq_line){ .set = vm__set_irq, .ctx = &m->vm,
				  .gsi = layout__pci_intx_pic_irq(slot, 0) };
	if (slot > m->board->acpi.pci.intx_slots)
		m->board->acpi.pci.intx_slots = slot;
}

int board__boot(struct machine *m, char *err, size_t errlen)
{
	return boot__load(m->boot, &m->vm, &m->board->acpi, err, errlen);
}

/* The ACPI power button: an edge on the GED's GSI runs its _EVT, which notifies PNP0C0C; the
 * guest's button driver reports KEY_POWER (systemd-logind powers off, as does the default
 * guest's init) */
int board__power_button(struct machine *m, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vm__set_irq(&m->vm, IRQ_GED, 1);
	vm__set_irq(&m->vm, IRQ_GED, 0);
	return 0;
}

/* Ctrl-Alt-Del on the i8042 keyboard, as Firecracker's SendCtrlAltDel: Linux reboots, or
 * tells init (systemd: ctrlaltdel.target) when kernel.ctrl-alt-del is 0 */
int board__reboot_key(struct machine *m, char *err, size_t errlen)
{
	return i8042__ctrl_alt_del(&m->board->kbd, err, errlen);
}
