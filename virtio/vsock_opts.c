/* SPDX-License-Identifier: Apache-2.0 */
/* --vsock: the guest's context id (cid=) and, for hybrid vsock, the host end's Unix socket (socket=). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/vsock.h"

int vsock__parse_opts(const char *spec, struct vsock_opts *o, char *err, size_t errlen)
{
	char buf[256], *save = NULL;
	bool cid = false;

	*o = (struct vsock_opts){ .on = true };
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--vsock value is too long");
		return -1;
	}
	strcpy(buf, spec);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		char *v = strchr(k, '='), *end;
		if (v)
			*v++ = '\0';
		if (v && !strcmp(k, "cid")) {
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno || n < VSOCK_CID_MIN ||
			    n > VSOCK_CID_MAX) {
				snprintf(err, errlen, "--vsock '%s': cid must be %u to %u (0-2 are the "
					 "host's)", spec, VSOCK_CID_MIN, VSOCK_CID_MAX);
				return -1;
			}
			o->cid = n;
			cid = true;
		} else if (v && !strcmp(k, "socket")) {
			/* PATH_4294967295 must fit in sun_path as well */
			if (!*v || strlen(v) + 11 >= sizeof(o->socket)) {
				snprintf(err, errlen, "--vsock '%s': socket= needs a path of 1 to %zu "
					 "characters", spec, sizeof(o->socket) - 12);
				return -1;
			}
			strcpy(o->socket, v);
		} else {
			snprintf(err, errlen, "--vsock '%s': unknown key '%s' (cid, socket)", spec, k);
			return -1;
		}
	}
	if (!cid) {
		snprintf(err, errlen, "--vsock '%s': needs cid=N (3 or more)", spec);
		return -1;
	}
	return 0;
}
