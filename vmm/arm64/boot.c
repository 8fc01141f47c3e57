/* SPDX-License-Identifier: Apache-2.0 */
/* Opens, checks and plans an arm64 Linux guest: the Image (unpacked when gzip-compressed), the initrd, the command line. */
#include "vmm/arm64/boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE_MAX 2048	/* COMMAND_LINE_SIZE on arm64 */

static int parse_kernel(struct boot_image *bi, const char *path, char *err, size_t errlen)
{
	const uint8_t *img = bi->f.img;
	size_t len = bi->f.ksize, n;
	char why[200];

	if (a64_image__is_gzip(img, len)) {
		if (a64_image__gunzip(img, len, A64_GUNZIP_MAX, &bi->unpacked, &n, why, sizeof(why))) {
			snprintf(err, errlen, "kernel '%s': %s", path, why);
			return -1;
		}
		img = bi->unpacked;
		len = n;
	}
	if (a64_image__parse(img, len, &bi->im, why, sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", path, why);
		return -1;
	}
	return 0;
}

int boot__open(struct boot_image **out, const struct run_config *cfg, const char *extra_cmdline,
	       char *err, size_t errlen)
{
	struct boot_image *bi = calloc(1, sizeof(*bi));

	*out = bi;
	if (!bi) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (boot__open_kernel(&bi->f, cfg, err, errlen) || parse_kernel(bi, cfg->kernel, err, errlen) ||
	    boot__open_initrd(&bi->f, cfg, err, errlen))
		return -1;
	bi->cmdline = boot__cmdline(cfg, extra_cmdline);
	size_t clen = bi->cmdline ? strlen(bi->cmdline) : 0;
	if (!bi->cmdline || clen >= CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes; an arm64 kernel takes at most %d",
			 clen, CMDLINE_MAX - 1);
		return -1;
	}
	return 0;
}

int boot__plan(struct boot_image *bi, const struct guest_mem *gm, char *err, size_t errlen)
{
	char why[200];

	if (a64_image__plan(&bi->im, gm->r[0].gpa, gm->r[0].size, bi->f.isize, &bi->plan, why,
			    sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", bi->f.kernel_path, why);
		return -1;
	}
	return 0;
}

void boot__close(struct boot_image **bi)
{
	if (!*bi)
		return;
	free((*bi)->cmdline);
	free((*bi)->unpacked);
	boot__close_files(&(*bi)->f);
	free(*bi);
	*bi = NULL;
}
