/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes as the command line writes them (512M, 1GiB, 4096K): one strict parser for every option. */
#include "vmm/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int parse__size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult;

	if (!s || !isdigit((unsigned char)*s))
		return -1;	/* empty, negative, leading space or garbage */
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': mult = 1ULL << 20; break;	/* bare number: MiB, as QEMU's -m */
	case 'K': mult = 1ULL << 10; end++; break;
	case 'M': mult = 1ULL << 20; end++; break;
	case 'G': mult = 1ULL << 30; end++; break;
	case 'T': mult = 1ULL << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end != '\0' || (v && mult > UINT64_MAX / v))
		return -1;
	v *= mult;
	if (v & 0xfff)
		return -1;
	*out = v;
	return 0;
}
