/* SPDX-License-Identifier: Apache-2.0 */
/* Puts a Linux guest in RAM on x86: bzImage, initrd, command line, ACPI and MP tables, zero page, BSP registers. */
#include "vmm/x86/boot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "firmware/x86/boot_params.h"
#include "firmware/x86/layout.h"
#include "firmware/x86/mptable.h"
#include "vmm/vcpu.h"
#include "vmm/x86/cpu.h"

static int set_bsp_regs(struct vcpu *v, uint64_t entry, char *err, size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry,
		.rsi = LAYOUT_ZERO_PAGE,	/* boot protocol: %rsi = struct boot_params */
		.rflags = 2,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	x86__longmode_sregs(&sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "setting the boot vCPU's registers: %s", strerror(errno));
	return -1;
}

int boot__open(struct boot_image **out, const struct run_config *cfg, const char *extra_cmdline,
	       char *err, size_t errlen)
{
	struct boot_image *bi = calloc(1, sizeof(*bi));
	char why[200];

	*out = bi;
	if (!bi) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (boot__open_kernel(&bi->f, cfg, err, errlen))
		return -1;
	if (bzimage__parse(bi->f.img, bi->f.ksize, &bi->bz, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, why);
		return -1;
	}
	if (boot__open_initrd(&bi->f, cfg, err, errlen))
		return -1;
	bi->cmdline = boot__cmdline(cfg, extra_cmdline);
	size_t clen = bi->cmdline ? strlen(bi->cmdline) + 1 : 0;
	uint32_t cmax = bi->bz.hdr.cmdline_size ? bi->bz.hdr.cmdline_size : 255;
	if (!bi->cmdline || clen - 1 > cmax || clen > LAYOUT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes; this kernel takes at most %u",
			 clen ? clen - 1 : 0, cmax);
		return -1;
	}
	return 0;
}

int boot__plan(struct boot_image *bi, const struct guest_mem *gm, char *err, size_t errlen)
{
	char why[200];

	if (bzimage__plan(&bi->bz, gm, bi->f.isize, &bi->plan, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", bi->f.kernel_path, why);
		return -1;
	}
	return 0;
}

/* ACPI and MP tables, zero page and page tables, after kernel, initrd and command line. */
static int write_tables(struct boot_image *bi, struct vm *vm, const struct acpi_config *acpi,
			char *err, size_t errlen)
{
	const struct guest_mem *gm = &vm->mem;
	uint64_t rsdp = 0;
	void *acpi_buf = gm__ptr(gm, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	long used = acpi_buf ? acpi__build(acpi, acpi_buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &rsdp) : -1;

	if (used < 0) {
		snprintf(err, errlen, "building ACPI tables failed (%ld)", used);
		return -1;
	}
	void *mp_buf = gm__ptr(gm, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	used = mp_buf ? mptable__build(vm->ncpus, acpi->pci.intx_slots, LAYOUT_LAPIC, LAYOUT_IOAPIC,
					mp_buf, LAYOUT_MPTABLE_SIZE, LAYOUT_MPTABLE) : -1;
	if (used < 0) {
		snprintf(err, errlen, "building the MP table failed (%ld)", used);
		return -1;
	}
	struct boot_params_cfg bp = {
		.hdr = &bi->bz.hdr, .hdr_len = bi->bz.hdr_len,
		.cmdline_gpa = LAYOUT_CMDLINE, .cmdline_size = (uint32_t)strlen(bi->cmdline) + 1,
		.initrd_gpa = bi->plan.initrd_gpa, .initrd_size = bi->plan.initrd_size,
		.rsdp_gpa = rsdp,
		/* Linux uses ECAM only where firmware reserved it (e820 or a PNP0C02 _CRS) */
		.reserved_gpa = acpi->pci.ecam_base,
		.reserved_size = acpi->pci.ecam_base ? ((uint64_t)acpi->pci.bus_end + 1) << 20 : 0,
	};
	if (boot_params__write(gm, LAYOUT_ZERO_PAGE, &bp) || x86__write_boot_tables(gm)) {
		snprintf(err, errlen, "guest memory too small for the boot tables");
		return -1;
	}
	return 0;
}

int boot__load(struct boot_image *bi, struct vm *vm, const struct acpi_config *acpi, char *err,
	       size_t errlen)
{
	const struct guest_mem *gm = &vm->mem;
	char why[200];

	if (bzimage__load(&bi->bz, gm, &bi->plan, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", bi->f.kernel_path, why);
		return -1;
	}
	if (bi->f.ifd >= 0 && bi->f.isize) {
		void *dst = gm__ptr(gm, bi->plan.initrd_gpa, bi->f.isize);
		if (!dst || boot__read_initrd(&bi->f, dst)) {
			snprintf(err, errlen, "initrd '%s': read failed", bi->f.initrd_path);
			return -1;
		}
	}
	if (gm__write(gm, LAYOUT_CMDLINE, bi->cmdline, strlen(bi->cmdline) + 1) ||
	    write_tables(bi, vm, acpi, err, errlen))
		return -1;
	return set_bsp_regs(&vm->vcpus[0], bi->plan.entry_gpa, err, errlen);
}

void boot__close(struct boot_image **bi)
{
	if (!*bi)
		return;
	free((*bi)->cmdline);
	boot__close_files(&(*bi)->f);
	free(*bi);
	*bi = NULL;
}

int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen)
{
	struct boot_image *bi = NULL;
	int ret = -1;

	if (boot__open(&bi, cfg, extra_cmdline, err, errlen) == 0 &&
	    boot__plan(bi, &vm->mem, err, errlen) == 0)
		ret = boot__load(bi, vm, acpi, err, errlen);
	boot__close(&bi);
	return ret;
}
