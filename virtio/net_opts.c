/* SPDX-License-Identifier: Apache-2.0 */
/* --net: tap=NAME or fd=N, and the mac, queues, vhost and mtu keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/net.h"

/* "52:54:00:12:34:56": a unicast address, not all zeroes. 0 or -1. */
static int parse_mac(const char *v, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				       &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[3 * i + 2] != (i == 5 ? '\0' : ':') || v[3 * i] == '+' || v[3 * i] == '-' ||
		    v[3 * i] == ' ')
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	if (mac[0] & 1)
		return -1;	/* multicast */
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? 0 : -1;
}

/* a whole decimal number in [lo, hi] */
static int parse_num(const char *v, long lo, long hi, long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

/* one key=value: 0, or -1 with err */
static int item(const char *spec, char *k, struct net_opts *o, char *err, size_t errlen)
{
	char *v = strchr(k, '=');
	const char *why = NULL;
	long n = 0;

	if (!v) {
		snprintf(err, errlen, "--net '%s': '%s' is not key=value", spec, k);
		return -1;
	}
	*v++ = '\0';
	if (!strcmp(k, "tap")) {
		if (!*v || strlen(v) >= IFNAMSIZ || strchr(v, '/'))
			why = "an interface name of 1 to 15 bytes, no '/'";
		else
			snprintf(o->tap, sizeof(o->tap), "%s", v);
	} else if (!strcmp(k, "fd")) {
		if (parse_num(v, 3, 1 << 20, &n))
			why = "a file descriptor number, 3 or more (0-2 are stdio)";
		o->fd = (int)n;
	} else if (!strcmp(k, "mac")) {
		if (parse_mac(v, o->mac))
			why = "a unicast MAC address like 52:54:00:12:34:56";
		o->mac_set = true;
	} else if (!strcmp(k, "queues")) {
		if (parse_num(v, 1, NET_MAX_PAIRS, &n))
			why = "queue pairs, 1 to 4";
		o->queues = (unsigned)n;
	} else if (!strcmp(k, "vhost")) {
		if (!strcmp(v, "on") || !strcmp(v, "off"))
			o->vhost = !strcmp(v, "on") ? NET_VHOST_ON : NET_VHOST_OFF;
		else
			why = "on or off";
	} else if (!strcmp(k, "mtu")) {
		if (parse_num(v, NET_MTU_MIN, 65535, &n))
			why = "68 to 65535";
		o->mtu = (unsigned)n;
	} else {
		snprintf(err, errlen, "--net '%s': unknown key '%s' (tap, fd, mac, queues, vhost, mtu)",
			 spec, k);
		return -1;
	}
	if (why)
		snprintf(err, errlen, "--net '%s': bad %s '%s': %s", spec, k, v, why);
	return why ? -1 : 0;
}

int net__parse_opts(const char *spec, struct net_opts *o, char *err, size_t errlen)
{
	char buf[256], *save = NULL;

	*o = (struct net_opts){ .on = true, .fd = -1, .queues = 1 };
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--net value is too long");
		return -1;
	}
	strcpy(buf, spec);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save))
		if (item(spec, k, o, err, errlen))
			return -1;
	if (!o->tap[0] == (o->fd < 0)) {
		snprintf(err, errlen, "--net '%s': needs tap=NAME or fd=N (one of them)", spec);
		return -1;
	}
	return 0;
}
