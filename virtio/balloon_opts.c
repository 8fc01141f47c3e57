/* SPDX-License-Identifier: Apache-2.0 */
/* --balloon: size, stats, deflate_on_oom and free_page_reporting (Cloud Hypervisor's keys). */
#include <stdio.h>
#include <string.h>

#include "virtio/balloon.h"
#include "vmm/parse.h"

static int on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false"))
		*out = false;
	else
		return -1;
	return 0;
}

/* one key=value: 0, or -1 with err */
static int item(const char *spec, char *k, struct balloon_opts *o, char *err, size_t errlen)
{
	char *v = strchr(k, '=');
	int r = -1;

	if (!v) {
		snprintf(err, errlen, "--balloon '%s': '%s' is not key=value", spec, k);
		return -1;
	}
	*v++ = '\0';
	if (!strcmp(k, "size"))
		r = parse__size(v, &o->size);
	else if (!strcmp(k, "stats"))
		r = on_off(v, &o->stats);
	else if (!strcmp(k, "deflate_on_oom"))
		r = on_off(v, &o->deflate_on_oom);
	else if (!strcmp(k, "free_page_reporting"))
		r = on_off(v, &o->free_page_reporting);
	else {
		snprintf(err, errlen, "--balloon '%s': unknown key '%s' (size, stats, deflate_on_oom, "
			 "free_page_reporting)", spec, k);
		return -1;
	}
	if (r)
		snprintf(err, errlen, "--balloon '%s': bad value '%s' for %s", spec, v, k);
	return r;
}

int balloon__parse_opts(const char *spec, struct balloon_opts *o, char *err, size_t errlen)
{
	char buf[256], *save = NULL;

	*o = (struct balloon_opts){ .on = true, .stats = true, .deflate_on_oom = true,
				    .free_page_reporting = true };
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--balloon value is too long");
		return -1;
	}
	strcpy(buf, spec);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save))
		if (item(spec, k, o, err, errlen))
			return -1;
	return 0;
}
