/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the bzImage parser and loader (vmm/bzimage.c) and boot__linux (vmm/boot.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firmware/x86/layout.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/bzimage.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/*
 * The input is the kernel file. bzimage__parse, then bzimage__plan against two RAM sizes
 * (the 16 MiB minimum and 256 MiB), with and without a 4 MiB initrd, checking that a plan it
 * accepts really fits; bzimage__load; and the whole of boot__linux (kernel read from a memfd,
 * command line, ACPI and MP tables, zero page, page tables) on a VM without KVM: a vCPU whose
 * fd is -1, so it ends at KVM_GET_SREGS with EBADF after everything else is in guest RAM.
 */
static struct guest_mem small, big;
static int kfd = -1;
static char kpath[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kfd = memfd_create("fuzz-kernel", 0);
	if (kfd < 0 || gm__alloc(&small, GM_MIN_RAM, GM_PAGES_THP) ||
	    gm__alloc(&big, 256ull << 20, GM_PAGES_THP))
		abort();
	snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
	return 0;
}

static void check_plan(const struct bzimage *bz, const struct guest_mem *gm, uint64_t initrd)
{
	struct boot_plan p;
	char err[256];

	if (bzimage__plan(bz, gm, initrd, &p, err, sizeof(err))) {
		FUZZ_CHECK(err[0]);
		return;
	}
	uint64_t low_end = gm__low_end(gm), init = bz->hdr.init_size;
	FUZZ_CHECK(p.kernel_gpa >= LAYOUT_HIMEM && p.kernel_gpa <= low_end);
	FUZZ_CHECK(init <= low_end - p.kernel_gpa);		/* the kernel's whole init_size */
	FUZZ_CHECK(bz->kernel_size <= init);
	FUZZ_CHECK(p.entry_gpa == p.kernel_gpa + 0x200);
	if (initrd) {
		FUZZ_CHECK(p.initrd_size == initrd);
		FUZZ_CHECK(p.initrd_gpa >= p.kernel_gpa + init);	/* after the kernel */
		FUZZ_CHECK(p.initrd_gpa <= low_end && initrd <= low_end - p.initrd_gpa);
		FUZZ_CHECK(p.initrd_gpa + initrd - 1 <= bz->hdr.initrd_addr_max);
	}
	FUZZ_CHECK(bzimage__load(bz, gm, &p, err, sizeof(err)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage bz;
	char err[256];

	/* exactly `size` bytes of the caller's buffer: ASan sees any read past the end */
	if (bzimage__parse(data, size, &bz, err, sizeof(err)) == 0) {
		FUZZ_CHECK(bz.kernel >= data && bz.kernel + bz.kernel_size == data + size);
		check_plan(&bz, &small, 0);
		check_plan(&bz, &small, 4u << 20);
		check_plan(&bz, &big, 0);
		check_plan(&bz, &big, 4u << 20);
	} else {
		FUZZ_CHECK(err[0]);
	}

	/* the whole loader, from the file */
	if (ftruncate(kfd, 0) || pwrite(kfd, data, size, 0) != (ssize_t)size)
		abort();
	struct vcpu vcpu = { .fd = -1 };
	struct vm vm = { .fd = -1, .irqchip_fd = -1, .msi_fd = -1, .mem = big, .ncpus = 1, .vcpus = &vcpu,
			  .stop_efd = -1 };
	vcpu.vm = &vm;
	struct run_config cfg = { .kernel = kpath, .cpus = 1, .memory = 256ull << 20,
				  .append = size & 1 ? "quiet" : NULL };
	struct acpi_config acpi = {
		.ncpus = 1, .lapic_addr = LAYOUT_LAPIC, .ioapic_addr = LAYOUT_IOAPIC,
		.com1_port = 0x3f8, .com1_irq = 4,
	};
	err[0] = 0;
	FUZZ_CHECK(boot__linux(&vm, &cfg, &acpi, size & 2 ? "virtio_mmio.device=4K@0xd0000000:5" : NULL,
			       err, sizeof(err)) == -1);	/* no KVM: never all the way */
	FUZZ_CHECK(err[0]);
	return 0;
}
