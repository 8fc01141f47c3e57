/* SPDX-License-Identifier: Apache-2.0 */
/* The API's request router: which endpoint a request names, its checks, and the JSON reply from the backend. */
#include "vmm/api_routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_PREFIX "/api/v1/"

enum api_op { OP_PING, OP_INFO, OP_COUNTERS, OP_EXIT_STATS, OP_PAUSE, OP_RESUME,
	      OP_VM_SHUTDOWN, OP_VMM_SHUTDOWN, OP_POWER_BUTTON, OP_REBOOT, OP_MEMORY, OP_RESIZE };

static const struct api_endpoint {
	const char *name;       /* after /api/v1/ */
	const char *method;     /* the one method it takes */
	enum api_op op;
	bool body;              /* takes a JSON body */
} endpoints[] = {
	{ "vmm.ping", "GET", OP_PING, false },
	{ "vm.info", "GET", OP_INFO, false },
	{ "vm.counters", "GET", OP_COUNTERS, false },
	{ "vm.exit-stats", "GET", OP_EXIT_STATS, false },
	{ "vm.memory", "GET", OP_MEMORY, false },
	{ "vm.pause", "PUT", OP_PAUSE, false },
	{ "vm.resume", "PUT", OP_RESUME, false },
	{ "vm.shutdown", "PUT", OP_VM_SHUTDOWN, false },
	{ "vmm.shutdown", "PUT", OP_VMM_SHUTDOWN, false },
	{ "vm.power-button", "PUT", OP_POWER_BUTTON, false },
	{ "vm.reboot", "PUT", OP_REBOOT, false },
	{ "vm.resize", "PUT", OP_RESIZE, true },
};

/* o as one line of JSON (malloc'd; o freed), NULL when out of memory */
static char *to_text(json_object *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		json_object_put(o);
		return NULL;
	}
	int rc = json__emit(f, "", o);
	if (fclose(f) || rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *api_error_body(const char *msg)
{
	json_object *a = json__arr();

	json__push(a, json__string(msg, true));
	return a ? to_text(a) : NULL;
}

/* status with the body ["WHAT: MSG"] */
static struct api_reply fail(unsigned status, const char *what, const char *msg)
{
	char line[320];

	snprintf(line, sizeof(line), "%s%s%s", what ? what : "", what ? ": " : "", msg);
	return (struct api_reply){ .status = status, .body = api_error_body(line) };
}

/* 200 with o, or 500 when it is NULL (out of memory) */
static struct api_reply ok_json(json_object *o, const char *what)
{
	char *s = o ? to_text(o) : NULL;

	if (!s)
		return fail(500, what, "out of memory");
	return (struct api_reply){ .status = 200, .body = s };
}

static struct api_reply exit_stats(const struct api_backend *b, const char *what)
{
	char err[200] = "";
	char *s = b->exit_stats(b->ctx, err, sizeof(err));

	if (s)
		return (struct api_reply){ .status = 200, .body = s };
	return err[0] ? fail(409, what, err) : fail(500, what, "out of memory");
}

/* pause and resume: 204, or 409 with the backend's reason */
static struct api_reply change(int (*fn)(void *, char *, size_t), const struct api_backend *b,
			       const char *what)
{
	char err[200] = "";

	if (!fn)
		return fail(409, what, "this VM cannot do that");
	if (fn(b->ctx, err, sizeof(err)))
		return fail(409, what, err[0] ? err : "not now");
	return (struct api_reply){ .status = 204 };
}

/* vm.resize: {"desired_balloon": BYTES} (Cloud Hypervisor's VmResizeData; kvmini changes the
 * balloon only) */
static struct api_reply resize(const struct api_backend *b, const char *what, const char *body,
			       size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok && body && len ? json_tokener_parse_ex(tok, body, (int)len) : NULL, *v;
	char err[200] = "";
	int r;

	if (o) {	/* nothing but white space may follow the object */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", body[i])) {
				json_object_put(o);
				o = NULL;
				break;
			}
	}
	if (tok)
		json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 1 ||
	    !json_object_object_get_ex(o, "desired_balloon", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		json_object_put(o);
		return fail(400, what, "the body must be {\"desired_balloon\": BYTES} (kvmini resizes "
			    "only the balloon)");
	}
	uint64_t bytes = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	if (!b->resize_balloon)
		return fail(409, what, "this VM cannot do that");
	r = b->resize_balloon(b->ctx, bytes, err, sizeof(err));
	if (r)
		return fail(r == -EINVAL ? 400 : 409, what, err[0] ? err : "not now");
	return (struct api_reply){ .status = 204 };
}

static struct api_reply run_op(const struct api_backend *b, const struct api_endpoint *e,
			       const char *body, size_t body_len)
{
	switch (e->op) {
	case OP_PING:
		return ok_json(b->ping(b->ctx), e->name);
	case OP_INFO:
		return ok_json(b->info(b->ctx), e->name);
	case OP_COUNTERS:
		return ok_json(b->counters(b->ctx), e->name);
	case OP_MEMORY:
		if (!b->memory)
			return fail(409, e->name, "this VM cannot do that");
		return ok_json(b->memory(b->ctx), e->name);
	case OP_EXIT_STATS:
		return exit_stats(b, e->name);
	case OP_PAUSE:
		return change(b->pause, b, e->name);
	case OP_RESUME:
		return change(b->resume, b, e->name);
	case OP_POWER_BUTTON:
		return change(b->power_button, b, e->name);
	case OP_REBOOT:
		return change(b->reboot, b, e->name);
	case OP_RESIZE:
		return resize(b, e->name, body, body_len);
	case OP_VM_SHUTDOWN:
	case OP_VMM_SHUTDOWN:
		b->shutdown(b->ctx, e->op == OP_VMM_SHUTDOWN);
		return (struct api_reply){ .status = 204 };
	}
	return fail(500, e->name, "no such operation");
}

struct api_reply api_route(const struct api_backend *b, const char *method, const char *url,
			   const char *body, size_t body_len, bool body_too_big)
{
	const struct api_endpoint *e = NULL;
	size_t plen = strlen(API_PREFIX);

	if (!method || !url)
		return fail(400, NULL, "bad request");
	if (!strncmp(url, API_PREFIX, plen))
		for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
			if (!strcmp(url + plen, endpoints[i].name))
				e = &endpoints[i];
	if (!e)
		return fail(404, NULL, "no such endpoint (see docs/api.md)");
	if (strcmp(method, e->method)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "use %s, not %.16s", e->method, method);
		struct api_reply r = fail(405, e->name, msg);
		r.allow = e->method;
		return r;
	}
	if (body_too_big) {
		char msg[80];
		snprintf(msg, sizeof(msg), "request body over %d bytes", API_BODY_MAX);
		return fail(413, e->name, msg);
	}
	if (body_len && !e->body)
		return fail(400, e->name, "this endpoint takes no request body");
	return run_op(b, e, body, body_len);
}
