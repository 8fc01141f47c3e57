/* SPDX-License-Identifier: Apache-2.0 */
/* The generic half of booting: the kernel and initrd files, and the guest's command line. */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/board.h"

/* Opens a file that must be a regular file; its size in *size. */
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

int boot__read_initrd(const struct boot_files *f, void *dst)
{
	uint8_t *p = dst;
	uint64_t len = f->isize;

	while (len) {
		ssize_t n = pread(f->ifd, p, len > (1 << 30) ? (1 << 30) : len,
				  (off_t)(f->isize - len));
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
	const char *parts[3] = { cfg->cmdline ? cfg->cmdline : board__default_cmdline(), extra,
				 cfg->append };
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

int boot__open_kernel(struct boot_files *f, const struct run_config *cfg, char *err, size_t errlen)
{
	*f = (struct boot_files){ .kernel_path = cfg->kernel, .initrd_path = cfg->initrd,
				  .kfd = -1, .ifd = -1, .img = MAP_FAILED };
	f->kfd = open_input("kernel", cfg->kernel, &f->ksize, err, errlen);
	if (f->kfd < 0)
		return -1;
	if (f->ksize == 0) {
		snprintf(err, errlen, "kernel '%s': empty file, not a %s", cfg->kernel,
			 board__kernel_format());
		return -1;
	}
	f->img = mmap(NULL, f->ksize, PROT_READ, MAP_PRIVATE, f->kfd, 0);
	if (f->img == MAP_FAILED) {
		snprintf(err, errlen, "kernel '%s': %s", cfg->kernel, strerror(errno));
		return -1;
	}
	return 0;
}

int boot__open_initrd(struct boot_files *f, const struct run_config *cfg, char *err,
		      size_t errlen)
{
	if (cfg->initrd) {
		f->ifd = open_input("initrd", cfg->initrd, &f->isize, err, errlen);
		if (f->ifd < 0)
			return -1;
	}
	return 0;
}

void boot__close_files(struct boot_files *f)
{
	if (f->img && f->img != MAP_FAILED)
		munmap(f->img, f->ksize);
	f->img = MAP_FAILED;
	if (f->ifd > 0)
		close(f->ifd);
	if (f->kfd > 0)
		close(f->kfd);
	f->ifd = f->kfd = -1;
}
