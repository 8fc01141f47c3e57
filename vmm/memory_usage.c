/* SPDX-License-Identifier: Apache-2.0 */
/* How the host backs guest RAM: resident and huge-page bytes from /proc/self/smaps, and kvmini's whole resident memory. */
#include "vmm/memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where a walk over smaps is: which range is guest RAM, whether the mapping being read
 * overlaps it, and the sums so far. */
struct smaps_walk {
	uintptr_t lo, hi;       /* guest RAM */
	bool inside;            /* the current mapping overlaps guest RAM */
	struct gm_usage *u;
};

/* One line of smaps: a mapping's header ("start-end perms ...") or "Key:   N kB". */
static void smaps__line(struct smaps_walk *w, const char *line)
{
	uintptr_t start, end;
	char key[32];
	uint64_t kb;

	if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &start, &end) == 2) {	/* no key looks so */
		w->inside = start < w->hi && end > w->lo;
		return;
	}
	if (sscanf(line, "%31[^:]: %" SCNu64 " kB", key, &kb) != 2)
		return;
	if (!strcmp(key, "Rss") || !strcmp(key, "Private_Hugetlb") ||
	    !strcmp(key, "Shared_Hugetlb"))
		w->u->process += kb << 10;	/* (hugetlb pages are not in Rss) */
	if (!w->inside)
		return;
	if (!strcmp(key, "Rss") || !strcmp(key, "Private_Hugetlb") ||
	    !strcmp(key, "Shared_Hugetlb"))
		w->u->resident += kb << 10;
	if (!strcmp(key, "AnonHugePages") || !strcmp(key, "Private_Hugetlb") ||
	    !strcmp(key, "Shared_Hugetlb"))
		w->u->huge += kb << 10;
}

int gm__usage(const struct guest_mem *gm, struct gm_usage *u)
{
	struct smaps_walk w = { .lo = (uintptr_t)gm->mapping,
				.hi = (uintptr_t)gm->mapping + gm->mapping_size, .u = u };
	char buf[8192];
	size_t have = 0;
	off_t off = 0;

	memset(u, 0, sizeof(*u));
	if (gm->smaps_fd < 0 || !gm->mapping)
		return -ENOENT;
	for (;;) {
		/* pread, not read: the same fd serves every report, from offset 0 */
		ssize_t n = pread(gm->smaps_fd, buf + have, sizeof(buf) - 1 - have, off);
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (n == 0)
			break;
		off += n;
		have += (size_t)n;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			smaps__line(&w, line);
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line longer than buf (a long path): not one we read */
		memmove(buf, line, have);
	}
	return 0;
}

long gm__hugetlb_free(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

const char *gm__thp_mode(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char line[128], *a, *b;

	snprintf(buf, len, "unavailable");
	if (!f)
		return buf;
	if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) && (b = strchr(a, ']'))) {
		*b = '\0';
		snprintf(buf, len, "%s", a + 1);
	}
	fclose(f);
	return buf;
}
