/* SPDX-License-Identifier: Apache-2.0 */
/* Guest RAM: maps it in the architecture's regions (gm__layout) and checks every guest-physical access. */
#include "vmm/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

const char *gm__pages_name(enum gm_pages pages)
{
	switch (pages) {
	case GM_PAGES_SMALL: return "4k";
	case GM_PAGES_HUGETLB: return "hugetlb";
	default: return "thp";
	}
}

/* size bytes of anonymous memory starting on a GM_HUGE boundary, so that every 2 MiB of
 * guest-physical RAM is one 2 MiB host range a huge page can back. */
static void *map_aligned(uint64_t size)
{
	const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint8_t *p = mmap(NULL, size + GM_HUGE, PROT_READ | PROT_WRITE, flags, -1, 0);

	if (p == MAP_FAILED)
		return p;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + GM_HUGE - 1) & ~(uintptr_t)(GM_HUGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + size, (size_t)(p + GM_HUGE - a));	/* the rest past the end (never 0) */
	return a;
}

int gm__alloc(struct guest_mem *gm, uint64_t ram_size, enum gm_pages pages)
{
	void *p;

	memset(gm, 0, sizeof(*gm));
	gm->smaps_fd = -1;
	if (ram_size < GM_MIN_RAM || ram_size > GM_MAX_RAM || (ram_size & 0xfff))
		return -EINVAL;
	if (pages == GM_PAGES_HUGETLB) {
		if (ram_size & (GM_HUGE - 1))
			return -EINVAL;
		/* no MAP_NORESERVE: the pool's pages are reserved now (ENOMEM if short), so a
		 * guest touching its RAM later can never meet a SIGBUS */
		p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	} else {
		p = map_aligned(ram_size);
	}
	if (p == MAP_FAILED)
		return -errno;
	if (pages != GM_PAGES_HUGETLB) {
		/* best effort, both: a kernel without THP or KSM says EINVAL and runs on */
		madvise(p, ram_size, pages == GM_PAGES_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		madvise(p, ram_size, MADV_MERGEABLE);	/* KSM may share zero pages */
	}

	gm->n = gm__layout(ram_size, gm->r);
	uint64_t off = 0;
	for (unsigned i = 0; i < gm->n; i++) {
		gm->r[i].host = (uint8_t *)p + off;
		off += gm->r[i].size;
	}
	gm->ram_size = ram_size;
	gm->mapping = p;
	gm->mapping_size = ram_size;
	gm->pages = pages;
	/* opened now: the thread that reports usage later may not open files (seccomp) */
	gm->smaps_fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	return 0;
}

void gm__init_flat(struct guest_mem *gm, void *buf, uint64_t size)
{
	memset(gm, 0, sizeof(*gm));
	gm->smaps_fd = -1;
	gm->r[0] = (struct gm_region){ .gpa = 0, .size = size, .host = buf };
	gm->n = 1;
	gm->ram_size = size;
}

void gm__free(struct guest_mem *gm)
{
	if (gm->mapping) {	/* smaps_fd is only ours with a mapping: a zeroed gm has fd 0 */
		munmap(gm->mapping, gm->mapping_size);
		if (gm->smaps_fd >= 0)
			close(gm->smaps_fd);
	}
	memset(gm, 0, sizeof(*gm));
	gm->smaps_fd = -1;
}

void *gm__ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	if (gpa + len < gpa)
		return NULL;
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			if (len > r->size - (gpa - r->gpa))
				return NULL;	/* runs off the end of this region */
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

int gm__read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len)
{
	const void *p = gm__ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gm__write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gm__ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

uint64_t gm__low_end(const struct guest_mem *gm)
{
	return gm->n && gm->r[0].gpa == 0 ? gm->r[0].size : 0;
}
