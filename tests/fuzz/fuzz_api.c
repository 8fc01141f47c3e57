/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the control socket's input (vmm/api_routes.c: any method, path and body size, over a backend that fails at the fuzzer's choice) and `kvmini ctl`'s reading of any reply (vmm/ctl_cmd.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/api_routes.h"
#include "vmm/ctl_cmd.h"

/*
 * The input: one flags byte (bit 0: the backend's JSON calls return NULL, as out of memory;
 * bit 1: pause and resume refuse; bit 2: exit-stats refuses; bit 3: the body is too big),
 * a 16-bit body length, then method NUL path NUL; what is left is fed to
 * ctl__parse_response as an HTTP reply. Every reply must be a known status, with a body
 * that parses as JSON when there is one, and Allow only on 405.
 */
static uint8_t flags;

static json_object *obj(void *ctx)
{
	(void)ctx;
	return flags & 1 ? NULL : json_object_new_object();
}

static char *exit_stats(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	if (flags & 4) {
		snprintf(err, errlen, "kvmini runs without --exit-stats");
		return NULL;
	}
	return flags & 1 ? NULL : strdup("{\"vcpus\":[]}");
}

static int state_change(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	if (flags & 2) {
		snprintf(err, errlen, "the VM is already paused");
		return -1;
	}
	return 0;
}

/* vm.resize: refused as out of range (flags 2), as without a balloon (flags 4), or done */
static int resize(void *ctx, uint64_t bytes, char *err, size_t errlen)
{
	(void)ctx;
	(void)bytes;
	if (flags & 6)
		snprintf(err, errlen, "refused");
	return flags & 2 ? -EINVAL : flags & 4 ? -ENODEV : 0;
}

static void shutdown_vm(void *ctx, bool vmm)
{
	(void)ctx;
	(void)vmm;
}

static const struct api_backend backend = {
	.ping = obj, .info = obj, .counters = obj, .exit_stats = exit_stats,
	.pause = state_change, .resume = state_change, .shutdown = shutdown_vm,
	.power_button = state_change, .reboot = state_change, .memory = obj,
	.resize_balloon = resize,
};

static void check_reply(const struct api_reply *r)
{
	static const unsigned known[] = { 200, 204, 400, 404, 405, 409, 413, 500 };
	bool ok = false;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ok |= r->status == known[i];
	FUZZ_CHECK(ok);
	FUZZ_CHECK((r->allow != NULL) == (r->status == 405));
	FUZZ_CHECK(r->status != 204 || !r->body);
	if (r->body) {
		json_object *o = json_tokener_parse(r->body);
		FUZZ_CHECK(o);
		json_object_put(o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	char *buf;

	flags = fin__u8(&in);
	size_t body_len = fin__u16(&in);
	if (!(buf = malloc(in.n + 2)))
		return 0;
	memcpy(buf, in.p, in.n);
	buf[in.n] = buf[in.n + 1] = '\0';
	const char *method = buf, *url = buf + strlen(buf) + 1;
	if (url > buf + in.n)
		url = buf + in.n;
	/* the body: what follows the url, at most body_len bytes of it */
	const char *body = url + strlen(url) + (url < buf + in.n);
	size_t avail = (size_t)(buf + in.n - body);
	struct api_reply r = api_route(&backend, method, url, body_len ? body : NULL,
				       body_len < avail ? body_len : avail, flags & 8);
	check_reply(&r);
	free(r.body);

	size_t used = (size_t)(url - buf) + strlen(url) + 1;
	if (used <= in.n) {
		unsigned status;
		const char *body;
		size_t n;
		if (!ctl__parse_response(buf + used, in.n - used, &status, &body, &n))
			FUZZ_CHECK(body >= buf + used && body + n <= buf + in.n);
	}
	free(buf);
	return 0;
}
