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
#include "vmm/x86.h"

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

int boot__linux(struct vm *vm, const struct run_config *cfg, const struct acpi_config *acpi,
		const char *extra_cmdline, char *err, size_t errlen)
{
	const struct guest_mem *gm = &vm->mem;
	char why[200];
	uint64_t ksize, isize = 0;
	int ifd = -1, ret = -1;
	uint8_t *img = MAP_FAILED;
	char *cmdline = NULL;
	struct bzimage bz;
	struct boot_plan plan;

	int kfd = open_input("kernel", cfg->kernel, &ksize, err, errlen);
	if (kfd < 0)
		return -1;
	if (ksize == 0) {
		snprintf(err, errlen, "kernel '%s': empty file, not a bzImage", cfg->kernel);
		goto out;
	}
	img = mmap(NULL, ksize, PROT_READ, MAP_PRIVATE, kfd, 0);
	if (img == MAP_FAILED) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, strerror(errno));
		goto out;
	}
	if (bzimage__parse(img, ksize, &bz, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, why);
		goto out;
	}
	if (cfg->initrd) {
		ifd = open_input("initrd", cfg->initrd, &isize, err, errlen);
		if (ifd < 0)
			goto out;
	}
	if (bzimage__plan(&bz, gm, isize, &plan, why, sizeof(why)) ||
	    bzimage__load(&bz, gm, &plan, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, why);
		goto out;
	}
	if (ifd >= 0 && isize) {
		void *dst = gm__ptr(gm, plan.initrd_gpa, isize);
		if (!dst || read_full(ifd, dst, isize)) {
			snprintf(err, errlen, "initrd '%s': read failed", cfg->initrd);
			goto out;
		}
	}

	cmdline = boot__cmdline(cfg, extra_cmdline);
	size_t clen = cmdline ? strlen(cmdline) + 1 : 0;
	uint32_t cmax = bz.hdr.cmdline_size ? bz.hdr.cmdline_size : 255;
	if (!cmdline || clen - 1 > cmax || clen > LAYOUT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes; this kernel takes at most %u",
			 clen ? clen - 1 : 0, cmax);
		goto out;
	}
	gm__write(gm, LAYOUT_CMDLINE, cmdline, clen);

	uint64_t rsdp = 0;
	void *acpi_buf = gm__ptr(gm, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	long used = acpi_buf ? acpi__build(acpi, acpi_buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &rsdp) : -1;
	if (used < 0) {
		snprintf(err, errlen, "building ACPI tables failed (%ld)", used);
		goto out;
	}
	void *mp_buf = gm__ptr(gm, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	used = mp_buf ? mptable__build(vm->ncpus, acpi->pci.intx_slots, LAYOUT_LAPIC, LAYOUT_IOAPIC, mp_buf,
					LAYOUT_MPTABLE_SIZE, LAYOUT_MPTABLE) : -1;
	if (used < 0) {
		snprintf(err, errlen, "building the MP table failed (%ld)", used);
		goto out;
	}
	struct boot_params_cfg bp = {
		.hdr = &bz.hdr, .hdr_len = bz.hdr_len,
		.cmdline_gpa = LAYOUT_CMDLINE, .cmdline_size = (uint32_t)clen,
		.initrd_gpa = plan.initrd_gpa, .initrd_size = plan.initrd_size,
		.rsdp_gpa = rsdp,
		/* Linux uses ECAM only where firmware reserved it (e820 or a PNP0C02 _CRS) */
		.reserved_gpa = acpi->pci.ecam_base,
		.reserved_size = acpi->pci.ecam_base ? ((uint64_t)acpi->pci.bus_end + 1) << 20 : 0,
	};
	if (boot_params__write(gm, LAYOUT_ZERO_PAGE, &bp) || x86__write_boot_tables(gm)) {
		snprintf(err, errlen, "guest memory too small for the boot tables");
		goto out;
	}
	ret = set_bsp_regs(&vm->vcpus[0], plan.entry_gpa, err, errlen);
out:
	free(cmdline);
	if (img != MAP_FAILED)
		munmap(img, ksize);
	if (ifd >= 0)
		close(ifd);
	close(kfd);
	return ret;
}
