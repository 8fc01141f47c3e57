/* SPDX-License-Identifier: Apache-2.0 */
/* How much of a disk's backing the host page cache holds: mincore over a read-only mapping, a window at a time. */
#include "devices/disk/disk.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define CACHE_WINDOW (256ULL << 20)	/* mapped and asked about at once: 64 KiB of vector */

/* Pages of [off, off + len) of fd in the page cache, or -errno. */
static int64_t window_cached(int fd, uint64_t off, size_t len, unsigned char *vec, size_t page)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	int64_t n = 0;

	if (p == MAP_FAILED)
		return -errno;
	if (mincore(p, len, vec)) {
		n = -errno;
	} else {
		for (size_t i = 0; i < (len + page - 1) / page; i++)
			n += vec[i] & 1;
	}
	munmap(p, len);
	return n;
}

int disk__page_cache(const struct disk *d, uint64_t *bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *vec = malloc(CACHE_WINDOW / page);
	uint64_t pages = 0;

	*bytes = 0;
	if (!vec)
		return -ENOMEM;
	for (uint64_t off = 0; off < d->size; off += CACHE_WINDOW) {
		size_t len = (size_t)(d->size - off < CACHE_WINDOW ? d->size - off : CACHE_WINDOW);
		int64_t n = window_cached(d->fd, off, len, vec, page);
		if (n < 0) {
			free(vec);
			return (int)n;
		}
		pages += (uint64_t)n;
	}
	free(vec);
	*bytes = pages * page;
	return 0;
}
