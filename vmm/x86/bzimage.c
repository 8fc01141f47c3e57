/* SPDX-License-Identifier: Apache-2.0 */
/* bzImage parsing and loading by the Linux x86 boot protocol (Documentation/arch/x86/boot.rst). */
#include "vmm/x86/bzimage.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "firmware/x86/layout.h"

#define SETUP_HDR_OFFSET 0x1f1
#define HDRS_MAGIC       0x53726448u   /* "HdrS" */

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* the architecture an ELF header names (e_machine, little or big endian), for the error */
static const char *elf_machine(const uint8_t *img)
{
	unsigned m = img[5] == 2 ? (unsigned)img[18] << 8 | img[19] : (unsigned)img[19] << 8 | img[18];
	switch (m) {
	case 3: return "i386";
	case 62: return "x86-64";
	case 40: return "arm";
	case 183: return "aarch64";
	case 243: return "riscv";
	case 8: return "mips";
	case 20: case 21: return "powerpc";
	case 22: return "s390";
	default: return "an unknown machine";
	}
}

int bzimage__parse(const uint8_t *img, size_t len, struct bzimage *bz, char *err, size_t errlen)
{
	memset(bz, 0, sizeof(*bz));
	if (len == 0)
		return fail(err, errlen, "empty file, not a bzImage");
	if (len >= 20 && memcmp(img, "\177ELF", 4) == 0)
		return fail(err, errlen, "an ELF file for %s, not a bzImage (kvmini boots x86 bzImage "
			    "kernels: arch/x86/boot/bzImage or /boot/vmlinuz-*)",
			    elf_machine(img));
	if (len < 0x250)
		return fail(err, errlen, "too short for a bzImage (%zu bytes)", len);
	if (img[0x1fe] != 0x55 || img[0x1ff] != 0xaa)
		return fail(err, errlen, "not a bzImage (no 0xAA55 boot signature)");

	/* The header ends where the jump at 0x200 lands: 0x202 + its 8-bit displacement. */
	size_t hdr_end = 0x202 + img[0x201];
	size_t hdr_len = hdr_end - SETUP_HDR_OFFSET;
	if (hdr_len > sizeof(bz->hdr))
		hdr_len = sizeof(bz->hdr);
	/* len >= 0x250 does not cover a whole header (up to 0x26c): never read past the file */
	if (SETUP_HDR_OFFSET + hdr_len > len)
		return fail(err, errlen, "truncated bzImage: the setup header ends at %#zx, past "
			    "the end of the file (%zu bytes)", SETUP_HDR_OFFSET + hdr_len, len);
	memcpy(&bz->hdr, img + SETUP_HDR_OFFSET, hdr_len);
	bz->hdr_len = hdr_len;

	const struct setup_header *h = &bz->hdr;
	if (h->header != HDRS_MAGIC)
		return fail(err, errlen, "not a bzImage (no HdrS setup header)");
	if (h->version < BZ_MIN_PROTOCOL)
		return fail(err, errlen, "boot protocol %u.%02u is too old (need 2.12 or later)",
			    h->version >> 8, h->version & 0xff);
	if (!(h->loadflags & LOADED_HIGH))
		return fail(err, errlen, "a zImage (loads low), not a bzImage");
	if (!(h->xloadflags & XLF_KERNEL_64))
		return fail(err, errlen, "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
	if (hdr_len < offsetof(struct setup_header, init_size) + sizeof(h->init_size))
		return fail(err, errlen, "setup header too short (%zu bytes)", hdr_len);

	unsigned sects = h->setup_sects ? h->setup_sects : 4;
	bz->setup_size = (size_t)(sects + 1) * 512;
	if (bz->setup_size >= len)
		return fail(err, errlen, "truncated bzImage: setup (%zu bytes) fills the whole file",
			    bz->setup_size);
	bz->kernel = img + bz->setup_size;
	bz->kernel_size = len - bz->setup_size;
	if ((uint64_t)h->syssize * 16 > bz->kernel_size)
		return fail(err, errlen, "truncated bzImage: kernel is %zu bytes, header says %llu",
			    bz->kernel_size, (unsigned long long)h->syssize * 16);
	if (h->init_size < bz->kernel_size)
		return fail(err, errlen, "bad bzImage: init_size %u smaller than the kernel",
			    h->init_size);
	return 0;
}

/* [start, start + len) lies below end, without wrapping (start comes from the file) */
static bool fits_below(uint64_t start, uint64_t len, uint64_t end)
{
	return start <= end && len <= end - start;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a ? (v + a - 1) / a * a : v;
}

int bzimage__plan(const struct bzimage *bz, const struct guest_mem *gm, uint64_t initrd_size,
		  struct boot_plan *plan, char *err, size_t errlen)
{
	const struct setup_header *h = &bz->hdr;
	uint64_t low_end = gm__low_end(gm);
	uint64_t kaddr = h->pref_address ? h->pref_address : LAYOUT_HIMEM;

	memset(plan, 0, sizeof(*plan));
	if (kaddr < LAYOUT_HIMEM)
		kaddr = LAYOUT_HIMEM;
	if (h->relocatable_kernel && !fits_below(kaddr, h->init_size, low_end))
		kaddr = align_up(LAYOUT_HIMEM, h->kernel_alignment);
	if (!fits_below(kaddr, h->init_size, low_end)) {
		uint64_t need = kaddr + h->init_size + initrd_size;
		if (need < kaddr || need > LAYOUT_MMIO_HOLE)	/* no --memory will do */
			return fail(err, errlen, "this kernel asks to be loaded at 0x%llx (%u bytes), "
				    "past the guest RAM below the 3 GiB hole", (unsigned long long)kaddr,
				    h->init_size);
		return fail(err, errlen,
			    "guest memory too small for this kernel: it needs at least %llu MiB",
			    (unsigned long long)((need + (1 << 20) - 1) >> 20));
	}
	uint64_t kend = kaddr + h->init_size;
	plan->kernel_gpa = kaddr;
	plan->entry_gpa = kaddr + 0x200;

	if (initrd_size) {
		uint64_t top = low_end;
		if ((uint64_t)h->initrd_addr_max + 1 < top)
			top = (uint64_t)h->initrd_addr_max + 1;
		if (initrd_size > top || ((top - initrd_size) & ~0xfffULL) < align_up(kend, 4096))
			return fail(err, errlen,
				    "initrd (%llu MiB) does not fit in guest RAM below %llu MiB "
				    "beside the kernel: raise --memory",
				    (unsigned long long)(initrd_size >> 20),
				    (unsigned long long)(top >> 20));
		plan->initrd_gpa = (top - initrd_size) & ~0xfffULL;
		plan->initrd_size = initrd_size;
	}
	return 0;
}

int bzimage__load(const struct bzimage *bz, const struct guest_mem *gm,
		  const struct boot_plan *plan, char *err, size_t errlen)
{
	if (gm__write(gm, plan->kernel_gpa, bz->kernel, bz->kernel_size))
		return fail(err, errlen, "kernel does not fit at 0x%llx",
			    (unsigned long long)plan->kernel_gpa);
	return 0;
}
