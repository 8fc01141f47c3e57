/* SPDX-License-Identifier: Apache-2.0 */
/* Puts a Linux guest in RAM: kernel, initrd, command line, ACPI tables, zero page, BSP registers. */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/boot_params.h"
#include "firmware/layout.h"
#include "firmware/mptable.h"
#include "vmm/bzimage.h"
#include "vmm/vcpu.h"
#include "vmm/x86/cpu.h"

/* Opens a file that must be a non-empty regular file; its size in *size. */
static int open_input(const char *what, const char *path, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s '%s': not a regular file", what, path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int read_full(int fd, void *dst, uint64_t len)
{
	uint8_t *p = dst;
	while (len) {
		ssize_t n = read(fd, p, len > (1 << 30) ? (1 << 30) : len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

char *boot__cmdline(const struct run_config *cfg, const char *extra)
{
	const char *parts[3] = { cfg->cmdline ? cfg->cmdline : DEFAULT_CMDLINE, extra, cfg->append };
	size_t len = 1;
	for (int i = 0; i < 3; i++)
		len += parts[i] ? strlen(parts[i]) + 1 : 0;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (*s)
			strcat(s, " ");
		strcat(s, parts[i]);
	}
	return s;
}

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

int boot__open(struct boot_image *bi, const struct run_config *cfg, const char *extra_cmdline,
	       char *err, size_t errlen)
{
	char why[200];

	memset(bi, 0, sizeof(*bi));
	bi->kfd = bi->ifd = -1;
	bi->img = MAP_FAILED;
	bi->kernel_path = cfg->kernel;
	bi->initrd_path = cfg->initrd;
	bi->kfd = open_input("kernel", cfg->kernel, &bi->ksize, err, errlen);
	if (bi->kfd < 0)
		return -1;
	if (bi->ksize == 0) {
		snprintf(err, errlen, "kernel '%s': empty file, not a bzImage", cfg->kernel);
		return -1;
	}
	bi->img = mmap(NULL, bi->ksize, PROT_READ, MAP_PRIVATE, bi->kfd, 0);
	if (bi->img == MAP_FAILED) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, strerror(errno));
		return -1;
	}
	if (bzimage__parse(bi->img, bi->ksize, &bi->bz, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, why);
		return -1;
	}
	if (cfg->initrd) {
		bi->ifd = open_input("initrd", cfg->initrd, &bi->isize, err, errlen);
		if (bi->ifd < 0)
			return -1;
	}
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

	if (bzimage__plan(&bi->bz, gm, bi->isize, &bi->plan, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", bi->kernel_path, why);
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
		snprintf(err, errlen, "kernel '%s': %s", bi->kernel_path, why);
		return -1;
	}
	if (bi->ifd >= 0 && bi->isize) {
		void *dst = gm__ptr(gm, bi->plan.initrd_gpa, bi->isize);
		if (!dst || read_full(bi->ifd, dst, bi->isize)) {
			snprintf(err, errlen, "initrd '%s': read failed", bi->initrd_path);
			return -1;
		}
	}
	if (gm__write(gm, LAYOUT_CMDLINE, bi->cmdline, strlen(bi->cmdline) + 1) ||
	    write_tables(bi, vm, acpi, err, errlen))
		return -1;
	return set_bsp_regs(&vm->vcpus[0], bi->plan.entry_gpa, err, errlen);
}

void boot__close(struct boot_image *bi)
{
	free(bi->cmdline);
	bi->cmdline = NULL;
	if (bi->img && bi->img != MAP_FAILED)
		munmap(bi->img, bi->ksize);
	bi->img = MAP_FAILED;
	if (bi->ifd > 0)
		close(bi->ifd);
	if (bi->kfd > 0)
		close(bi->kfd);
	bi->ifd = bi->kfd = -1;
}

int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen)
{
	struct boot_image bi;
	int ret = -1;

	if (boot__open(&bi, cfg, extra_cmdline, err, errlen) == 0 &&
	    boot__plan(&bi, &vm->mem, err, errlen) == 0)
		ret = boot__load(&bi, vm, acpi, err, errlen);
	boot__close(&bi);
	return ret;
}
