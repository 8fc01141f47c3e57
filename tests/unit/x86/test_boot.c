/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: bzImage header parsing and rejections, placement, zero page and e820, CPUID, host kind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/ck.h"
#include "firmware/x86/boot_params.h"
#include "firmware/x86/e820.h"
#include "firmware/x86/layout.h"
#include "vmm/x86/bzimage.h"
#include "vmm/console.h"
#include "vmm/kvm.h"
#include "vmm/x86/cpu.h"

#define IMG_SIZE (64 * 1024)
static uint8_t img[IMG_SIZE];

/* A minimal well-formed bzImage: 1 setup sector + boot sector, then the "kernel". */
static struct setup_header *make_image(void)
{
	memset(img, 0, sizeof(img));
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);
	h->setup_sects = 1;
	h->boot_flag = 0xaa55;
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;	/* header ends at 0x26c */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64;
	h->syssize = (IMG_SIZE - 1024) / 16;
	h->init_size = 4 << 20;
	h->pref_address = 16 << 20;
	h->kernel_alignment = 2 << 20;
	h->relocatable_kernel = 1;
	h->initrd_addr_max = 0x7fffffff;
	h->cmdline_size = 2047;
	for (size_t i = 1024; i < IMG_SIZE; i++)
		img[i] = (uint8_t)i;
	return h;
}

static void expect_reject(size_t len, const char *needle)
{
	struct bzimage bz;
	char err[200] = "";
	ck_assert_int_eq(bzimage__parse(img, len, &bz, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, needle), "expected '%s' in '%s'", needle, err);
}

START_TEST(bzimage_good)
{
	struct bzimage bz;
	char err[200];

	make_image();
	ck_assert_msg(bzimage__parse(img, IMG_SIZE, &bz, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(bz.setup_size, 1024);
	ck_assert_uint_eq(bz.kernel_size, IMG_SIZE - 1024);
	ck_assert_uint_eq(bz.hdr_len, 0x26c - 0x1f1);
	ck_assert_uint_eq(bz.hdr.version, 0x020f);
}
END_TEST

START_TEST(bzimage_rejections)
{
	struct setup_header *h;

	make_image();
	expect_reject(0, "empty");
	expect_reject(100, "too short");
	h = make_image(); img[0x1fe] = 0; expect_reject(IMG_SIZE, "boot signature");
	h = make_image(); h->header = 0x12345678; expect_reject(IMG_SIZE, "HdrS");
	h = make_image(); h->version = 0x0204; expect_reject(IMG_SIZE, "too old");
	h = make_image(); h->loadflags = 0; expect_reject(IMG_SIZE, "zImage");
	h = make_image(); h->xloadflags = 0; expect_reject(IMG_SIZE, "64-bit");
	h = make_image(); expect_reject(IMG_SIZE / 2, "truncated");	/* syssize says more */
	h = make_image(); h->setup_sects = 200; expect_reject(IMG_SIZE, "truncated");
	h = make_image(); h->init_size = 100; expect_reject(IMG_SIZE, "init_size");
	/* ELF files (a vmlinux, a program, another architecture's kernel) are named as such */
	make_image(); memcpy(img, "\177ELF\2\1\1", 7); img[18] = 183; img[19] = 0;
	expect_reject(IMG_SIZE, "an ELF file for aarch64, not a bzImage");
	make_image(); memcpy(img, "\177ELF\2\1\1", 7); img[18] = 62; img[19] = 0;
	expect_reject(IMG_SIZE, "an ELF file for x86-64, not a bzImage");
	make_image(); memcpy(img, "\177ELF\1\2\1", 7); img[18] = 0; img[19] = 20;
	expect_reject(IMG_SIZE, "an ELF file for powerpc");
	make_image(); memcpy(img, "\177ELF", 4); expect_reject(19, "too short");
	(void)h;
	/* a file that ends inside its setup header (found by tests/fuzz/fuzz_bzimage): refused
	 * without reading past its end (the copy is exactly that long, for ASan) */
	make_image();
	uint8_t *cut = malloc(0x260);
	ck_assert_ptr_nonnull(cut);
	memcpy(cut, img, 0x260);
	struct bzimage cbz;
	char cerr[200] = "";
	ck_assert_int_eq(bzimage__parse(cut, 0x260, &cbz, cerr, sizeof(cerr)), -1);
	ck_assert_msg(strstr(cerr, "setup header ends at 0x26c"), "%s", cerr);
	free(cut);
	/* random bytes never parse */
	srand(1);
	for (int t = 0; t < 200; t++) {
		for (size_t i = 0; i < 4096; i++)
			img[i] = (uint8_t)rand();
		struct bzimage bz;
		char err[200];
		ck_assert_int_eq(bzimage__parse(img, 4096, &bz, err, sizeof(err)), -1);
	}
}
END_TEST

START_TEST(bzimage_plan_and_initrd)
{
	static uint8_t ram[64 << 20];
	struct guest_mem gm;
	struct bzimage bz;
	struct boot_plan p;
	char err[200];

	make_image();
	ck_assert_int_eq(bzimage__parse(img, IMG_SIZE, &bz, err, sizeof(err)), 0);
	gm__init_flat(&gm, ram, sizeof(ram));
	ck_assert_msg(bzimage__plan(&bz, &gm, 8 << 20, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(p.kernel_gpa, 16 << 20);
	ck_assert_uint_eq(p.entry_gpa, (16 << 20) + 0x200);
	ck_assert_uint_eq(p.initrd_gpa, (64 - 8) << 20);
	ck_assert_uint_eq(p.initrd_gpa & 0xfff, 0);
	ck_assert_uint_ge(p.initrd_gpa, p.kernel_gpa + bz.hdr.init_size);
	ck_assert_int_eq(bzimage__load(&bz, &gm, &p, err, sizeof(err)), 0);
	ck_assert_mem_eq(ram + p.kernel_gpa, img + 1024, IMG_SIZE - 1024);

	/* an initrd too big for RAM, and one that would overlap the kernel */
	ck_assert_int_eq(bzimage__plan(&bz, &gm, 128 << 20, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "initrd"));
	ck_assert_int_eq(bzimage__plan(&bz, &gm, 45 << 20, &p, err, sizeof(err)), -1);
	/* initrd_addr_max is honoured */
	bz.hdr.initrd_addr_max = (32 << 20) - 1;
	ck_assert_int_eq(bzimage__plan(&bz, &gm, 1 << 20, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.initrd_gpa + p.initrd_size, 32 << 20);
	/* too little RAM for the kernel itself */
	gm__init_flat(&gm, ram, 4 << 20);
	ck_assert_int_eq(bzimage__plan(&bz, &gm, 0, &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too small"));
	/* pref_address + init_size wrapping past 2^64 is no fit (found by tests/fuzz/fuzz_bzimage's
	 * plan check: it used to be planned at pref_address); relocatable, it is moved to 1 MiB */
	gm__init_flat(&gm, ram, sizeof(ram));
	bz.hdr.relocatable_kernel = 0;
	bz.hdr.pref_address = 0xffffffffffe00000ULL;
	ck_assert_int_eq(bzimage__plan(&bz, &gm, 0, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "past the guest RAM"), "%s", err);
	bz.hdr.relocatable_kernel = 1;
	ck_assert_msg(bzimage__plan(&bz, &gm, 0, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(p.kernel_gpa, 2 << 20);	/* 1 MiB aligned up to kernel_alignment */
}
END_TEST

START_TEST(e820_layouts)
{
	struct guest_mem gm;
	struct boot_e820_entry e[16];

	ck_assert_int_eq(gm__alloc(&gm, 512ULL << 20, GM_PAGES_THP), 0);
	unsigned n = e820__build(&gm, e, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert(e[0].addr == 0 && e[0].size == LAYOUT_EBDA && e[0].type == E820_TYPE_RAM);
	ck_assert(e[1].addr == LAYOUT_EBDA && e[1].type == E820_TYPE_RESERVED);
	ck_assert(e[2].addr == LAYOUT_ACPI && e[2].addr + e[2].size == LAYOUT_HIMEM &&
		  e[2].type == E820_TYPE_RESERVED);
	ck_assert(e[3].addr == LAYOUT_HIMEM && e[3].addr + e[3].size == 512ULL << 20);
	gm__free(&gm);

	ck_assert_int_eq(gm__alloc(&gm, 6ULL << 30, GM_PAGES_THP), 0);
	n = e820__build(&gm, e, 16);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(e[3].addr + e[3].size, LAYOUT_MMIO_HOLE);
	ck_assert(e[4].addr == 4ULL << 30 && e[4].size == 3ULL << 30 && e[4].type == E820_TYPE_RAM);
	/* entries never overlap, never touch the hole, and RAM adds up */
	uint64_t ram = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i)
			ck_assert_uint_le(e[i - 1].addr + e[i - 1].size, e[i].addr);
		ck_assert(e[i].addr + e[i].size <= LAYOUT_MMIO_HOLE || e[i].addr >= 4ULL << 30);
		if (e[i].type == E820_TYPE_RAM)
			ram += e[i].size;
	}
	ck_assert_uint_eq(ram, (6ULL << 30) - (LAYOUT_HIMEM - LAYOUT_EBDA));
	ck_assert_uint_eq(e820__build(&gm, e, 2), 2);	/* never more than asked */
	gm__free(&gm);
}
END_TEST

START_TEST(zero_page_fields)
{
	static uint8_t ram[32 << 20];
	struct guest_mem gm;
	struct bzimage bz;
	char err[200];

	make_image();
	ck_assert_int_eq(bzimage__parse(img, IMG_SIZE, &bz, err, sizeof(err)), 0);
	gm__init_flat(&gm, ram, sizeof(ram));
	memset(ram + LAYOUT_ZERO_PAGE, 0xcc, 4096);
	struct boot_params_cfg c = {
		.hdr = &bz.hdr, .hdr_len = bz.hdr_len, .cmdline_gpa = LAYOUT_CMDLINE,
		.cmdline_size = 10, .initrd_gpa = 0x1234000, .initrd_size = 0x5000, .rsdp_gpa = 0xe0000,
	};
	ck_assert_int_eq(boot_params__write(&gm, LAYOUT_ZERO_PAGE, &c), 0);
	struct boot_params *bp = (struct boot_params *)(ram + LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, 0x1234000);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 0x5000);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, 0xe0000);
	ck_assert_uint_eq(bp->e820_entries, 4);
	ck_assert_uint_eq(bp->screen_info.orig_x, 0);	/* everything else is zero */
	/* a zero page outside RAM fails cleanly */
	ck_assert_int_ne(boot_params__write(&gm, sizeof(ram) - 100, &c), 0);
}
END_TEST

static struct kvm_cpuid2 *fake_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));
	uint32_t fn[] = { 1, 4, 0xb, 0xb, 0xb, 0x80000008, 0x8000001e, 0x1f };
	uint32_t idx[] = { 0, 0, 0, 1, 2, 0, 0, 0 };
	c->nent = 8;
	for (int i = 0; i < 8; i++) {
		c->entries[i].function = fn[i];
		c->entries[i].index = idx[i];
		c->entries[i].ebx = 0xffffffff;
		c->entries[i].eax = 0xffffffff;
	}
	return c;
}

START_TEST(cpuid_topology)
{
	struct kvm_cpuid2 *c = fake_cpuid();

	x86__cpuid_patch(c, 5, 8);
	ck_assert_uint_eq(c->entries[0].ebx >> 24, 5);		/* initial APIC ID */
	ck_assert_uint_eq((c->entries[0].ebx >> 16) & 0xff, 8);
	ck_assert(c->entries[0].edx & (1u << 28));
	ck_assert(c->entries[0].ecx & (1u << 31));
	ck_assert_uint_eq(c->entries[1].eax >> 26, 7);		/* cores - 1 */
	ck_assert_uint_eq(c->entries[2].edx, 5);		/* x2APIC ID */
	ck_assert_uint_eq(c->entries[2].ebx, 1);
	ck_assert_uint_eq(c->entries[3].eax, 3);		/* log2(8) */
	ck_assert_uint_eq(c->entries[3].ebx, 8);
	ck_assert_uint_eq((c->entries[3].ecx >> 8) & 0xff, 2);	/* core level */
	ck_assert_uint_eq((c->entries[4].ecx >> 8) & 0xff, 0);	/* invalid level ends it */
	ck_assert_uint_eq(c->entries[5].ecx & 0xff, 7);
	ck_assert_uint_eq((c->entries[5].ecx >> 12) & 0xf, 3);
	ck_assert_uint_eq(c->entries[6].eax, 5);
	free(c);
	c = fake_cpuid();
	x86__cpuid_patch(c, 0, 1);
	ck_assert(!(c->entries[0].edx & (1u << 28)));
	ck_assert_uint_eq(c->entries[3].eax, 0);
	free(c);
}
END_TEST

START_TEST(host_kind_detection)
{
	char dir[] = "/tmp/kvmini-hostXXXXXX";
	char path[128], pvm[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cpuinfo", dir);
	snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "processor\t: 0\nflags\t\t: fpu vme svm lm\n");
	fclose(f);
	ck_assert_int_eq(kvm__host_kind(pvm, path), KVM_HOST_HW_SVM);
	f = fopen(path, "w");
	fprintf(f, "flags\t\t: fpu vmx lm\n");
	fclose(f);
	ck_assert_int_eq(kvm__host_kind(pvm, path), KVM_HOST_HW_VMX);
	f = fopen(path, "w");
	fprintf(f, "flags\t\t: fpu svmx vmxx lm\n");	/* substrings do not count */
	fclose(f);
	ck_assert_int_eq(kvm__host_kind(pvm, path), KVM_HOST_UNKNOWN);
	ck_assert_int_eq(mkdir(pvm, 0700), 0);
	ck_assert_int_eq(kvm__host_kind(pvm, path), KVM_HOST_PVM);
	ck_assert_ptr_nonnull(strstr(kvm__host_kind_desc(KVM_HOST_PVM), "nested"));
	rmdir(pvm);
	unlink(path);
	rmdir(dir);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The three situations of `kvmini host` and the one-line reason kvmini gives for each kind of
 * missing /dev/kvm, from a fake device node, module directory and cpuinfo. */
START_TEST(host_situations)
{
	char dir[] = "/tmp/kvmini-sitXXXXXX", dev[128], mods[128], cpu[128], pvm[160], amd[160];
	struct kvm_host h;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dev, sizeof(dev), "%s/kvm", dir);
	snprintf(mods, sizeof(mods), "%s/module", dir);
	snprintf(cpu, sizeof(cpu), "%s/cpuinfo", dir);
	snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", mods);
	snprintf(amd, sizeof(amd), "%s/kvm_amd", mods);
	ck_assert_int_eq(mkdir(mods, 0700), 0);
	struct kvm_host_paths p = { .dev = dev, .modules = mods, .cpuinfo = cpu };

	/* no device, a CPU with AMD-V: load the module, or use the nested harness */
	write_file(cpu, "flags\t\t: fpu svm lm\n");
	kvm__probe_host(&p, &h);
	ck_assert_int_eq(h.sit, KVM_SIT_NONE);
	ck_assert_int_eq(h.dev_errno, ENOENT);
	ck_assert_str_eq(kvm__situation_name(h.sit), "none");
	ck_assert_msg(strstr(h.line, "does not exist") && strstr(h.line, "modprobe kvm_amd") &&
		      strstr(h.line, "make demo"), "%s", h.line);
	ck_assert_ptr_null(strchr(h.line, '\n'));
	/* no device and no vmx/svm: enable it in the firmware */
	write_file(cpu, "flags\t\t: fpu lm\n");
	kvm__probe_host(&p, &h);
	ck_assert_msg(strstr(h.line, "firmware") && strstr(h.line, "nested L1"), "%s", h.line);
	/* a kernel whose kvm_pvm did not bind (the 2026-12 build machines) */
	ck_assert_int_eq(mkdir(pvm, 0700), 0);
	kvm__probe_host(&p, &h);
	ck_assert_msg(strstr(h.line, "kvm_pvm") && strstr(h.line, "did not bind") &&
		      strstr(h.line, "nested L1"), "%s", h.line);
	/* a device: paravirtual under kvm_pvm, hardware with svm and no kvm_pvm */
	write_file(dev, "");
	kvm__probe_host(&p, &h);
	ck_assert_int_eq(h.sit, KVM_SIT_PARAVIRT);
	ck_assert_int_eq(h.kind, KVM_HOST_PVM);
	ck_assert_str_eq(kvm__situation_name(h.sit), "paravirtual");
	rmdir(pvm);
	kvm__probe_host(&p, &h);
	ck_assert_int_eq(h.sit, KVM_SIT_PARAVIRT);	/* no vmx/svm flag: emulated */
	write_file(cpu, "flags\t\t: fpu vmx lm\n");
	ck_assert_int_eq(mkdir(amd, 0700), 0);
	kvm__probe_host(&p, &h);
	ck_assert_int_eq(h.sit, KVM_SIT_HARDWARE);
	ck_assert_int_eq(h.kind, KVM_HOST_HW_VMX);
	ck_assert_msg(strstr(h.line, "Intel VT-x"), "%s", h.line);
	ck_assert_str_eq(kvm__situation_name(h.sit), "hardware");
	/* the reasons for other open errors */
	char err[480];
	kvm__open_error(dev, EACCES, &p, err, sizeof(err));
	ck_assert_msg(strstr(err, "usermod -aG kvm"), "%s", err);
	kvm__open_error(dev, ENXIO, &p, err, sizeof(err));
	ck_assert_msg(strstr(err, "modprobe kvm_intel"), "%s", err);
	kvm__open_error(dev, EIO, &p, err, sizeof(err));
	ck_assert_msg(strstr(err, "cannot open") && strstr(err, "docs/nested.md"), "%s", err);
	rmdir(amd);
	rmdir(mods);
	unlink(dev);
	unlink(cpu);
	rmdir(dir);
}
END_TEST

START_TEST(console_escape)
{
	struct console c = { .tty = true };
	uint8_t out[16];
	bool quit = false;

	size_t n = console__filter(&c, (const uint8_t *)"ab\x01\x01" "c", 5, out, &quit);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(out, "ab\x01" "c", 4);
	n = console__filter(&c, (const uint8_t *)"\x01", 1, out, &quit);	/* split escape */
	ck_assert_uint_eq(n, 0);
	n = console__filter(&c, (const uint8_t *)"z", 1, out, &quit);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, "\x01z", 2);
	ck_assert(!quit);
	n = console__filter(&c, (const uint8_t *)"q\x01xrest", 7, out, &quit);
	ck_assert(quit);
	ck_assert_uint_eq(n, 1);
	struct console p = { .tty = false };	/* a pipe is passed through */
	quit = false;
	n = console__filter(&p, (const uint8_t *)"\x01x", 2, out, &quit);
	ck_assert(!quit);
	ck_assert_uint_eq(n, 2);
}
END_TEST

Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *tc = tcase_create("x86");
	tcase_add_test(tc, bzimage_good);
	tcase_add_test(tc, bzimage_rejections);
	tcase_add_test(tc, bzimage_plan_and_initrd);
	tcase_add_test(tc, e820_layouts);
	tcase_add_test(tc, zero_page_fields);
	tcase_add_test(tc, cpuid_topology);
	tcase_add_test(tc, host_kind_detection);
	tcase_add_test(tc, host_situations);
	tcase_add_test(tc, console_escape);
	suite_add_tcase(s, tc);
	return s;
}
