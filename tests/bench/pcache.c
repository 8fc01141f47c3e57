// SPDX-License-Identifier: Apache-2.0
/* pcache: how much of a file's or block device's data is in the host page cache (mincore). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (256ull << 20)	/* map and probe this much at a time */

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pcache FILE|BLOCKDEV...\n"
			"  prints PATH resident_kb=N size_kb=N: its pages in the page cache (mincore)\n");
		return 2;
	}
	long page = sysconf(_SC_PAGESIZE);
	int rc = 0;
	for (int a = 1; a < argc; a++) {
		int fd = open(argv[a], O_RDONLY);
		struct stat st;
		uint64_t size = 0, resident = 0;
		if (fd < 0 || fstat(fd, &st) < 0) {
			fprintf(stderr, "pcache: %s: %s\n", argv[a], strerror(errno));
			rc = 1;
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (S_ISBLK(st.st_mode))
			ioctl(fd, BLKGETSIZE64, &size);
		else
			size = (uint64_t)st.st_size;
		unsigned char *vec = malloc(CHUNK / (uint64_t)page);
		for (uint64_t off = 0; vec && off < size; off += CHUNK) {
			size_t len = (size_t)(size - off < CHUNK ? size - off : CHUNK);
			void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
			if (p == MAP_FAILED) {
				fprintf(stderr, "pcache: %s: mmap: %s\n", argv[a], strerror(errno));
				rc = 1;
				break;
			}
			size_t pages = (len + (size_t)page - 1) / (size_t)page;
			if (mincore(p, len, vec) == 0)
				for (size_t i = 0; i < pages; i++)
					resident += vec[i] & 1;
			munmap(p, len);
		}
		free(vec);
		close(fd);
		printf("pcache: %s resident_kb=%" PRIu64 " size_kb=%" PRIu64 "\n", argv[a],
		       resident * (uint64_t)page / 1024, size / 1024);
	}
	return rc;
}
