/* SPDX-License-Identifier: Apache-2.0 */
/* --rng: on, or the rate limit's rate and burst in bytes. */
#include <stdio.h>
#include <string.h>

#include "virtio/rng.h"

/* A byte count: decimal digits, then K (1024) or M (1048576) or nothing. (vmm/parse.h's
 * parse__size reads a bare number as MiB: not this.) 0, or -1 for anything else: empty, a
 * sign, spaces, another suffix, overflow. */
static int bytes(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p == 'K')
		mult = 1ULL << 10;
	else if (*p == 'M')
		mult = 1ULL << 20;
	if (mult > 1)
		p++;
	if (*p != '\0' || (v && mult > UINT64_MAX / v))
		return -1;
	*out = v * mult;
	return 0;
}

/* one item: "on" or key=value. 0, or -1 with err */
static int item(const char *spec, char *k, struct rng_opts *o, bool *burst_set, char *err,
		size_t errlen)
{
	char *v = strchr(k, '=');

	if (!strcmp(k, "on"))
		return 0;
	if (!v) {
		snprintf(err, errlen, "--rng '%s': '%s' is not key=value (rate=, burst=)", spec, k);
		return -1;
	}
	*v++ = '\0';
	if (!strcmp(k, "rate")) {
		if (bytes(v, &o->rate) == 0 && o->rate > 0)
			return 0;
		snprintf(err, errlen, "--rng '%s': bad value '%s' for rate (bytes per second, at "
			 "least 1, K or M suffix)", spec, v);
	} else if (!strcmp(k, "burst")) {
		*burst_set = true;
		if (bytes(v, &o->burst) == 0 && o->burst >= RNG_MIN_FILL)
			return 0;
		snprintf(err, errlen, "--rng '%s': bad value '%s' for burst (bytes, at least %u, K "
			 "or M suffix)", spec, v, RNG_MIN_FILL);
	} else {
		snprintf(err, errlen, "--rng '%s': unknown key '%s' (rate, burst)", spec, k);
	}
	return -1;
}

int rng__parse_opts(const char *spec, struct rng_opts *o, char *err, size_t errlen)
{
	char buf[256], *save = NULL;
	bool burst_set = false;

	*o = (struct rng_opts){ .on = true };
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--rng value is too long");
		return -1;
	}
	strcpy(buf, spec);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save))
		if (item(spec, k, o, &burst_set, err, errlen))
			return -1;
	if (burst_set && !o->rate) {
		snprintf(err, errlen, "--rng '%s': 'burst' needs 'rate'", spec);
		return -1;
	}
	if (o->rate && !burst_set)
		o->burst = o->rate > RNG_MIN_FILL ? o->rate : RNG_MIN_FILL;
	return 0;
}
