/* SPDX-License-Identifier: Apache-2.0 */
/* The API's request router: method + path -> status, JSON body and Allow header, over a backend of callbacks (no sockets). */
#ifndef KVMINI_VMM_API_ROUTES_H
#define KVMINI_VMM_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/json.h"

#define API_BODY_MAX 4096	/* a request body past this is refused with 413 */

/* What the router asks of the VMM. Every callback runs on the API thread; none may block a
 * vCPU for long (pause waits for the vCPUs to park, nothing else waits). The JSON ones
 * return a new object (the router frees it) or NULL when out of memory (500). */
struct api_backend {
	void *ctx;
	json_object *(*ping)(void *ctx);
	json_object *(*info)(void *ctx);
	json_object *(*counters)(void *ctx);
	/* where the VM's memory is (memory_report.h) */
	json_object *(*memory)(void *ctx);
	/* the exit statistics as malloc'd JSON text; NULL with err when there are none to give
	 * (409: kvmini runs without --exit-stats) or on no memory (err empty: 500) */
	char *(*exit_stats)(void *ctx, char *err, size_t errlen);
	/* 0, or -1 with err: the VM is not in a state that allows it (409) */
	int (*pause)(void *ctx, char *err, size_t errlen);
	int (*resume)(void *ctx, char *err, size_t errlen);
	/* presses the guest's power button (the guest decides what to do): 0, or -1 with err
	 * when this board has none or the VM is stopping (409) */
	int (*power_button)(void *ctx, char *err, size_t errlen);
	/* asks the guest to reboot with the board's reboot key (x86: Ctrl-Alt-Del): 0, or -1 with
	 * err when the guest has not enabled that key's device or the VM is stopping (409) */
	int (*reboot)(void *ctx, char *err, size_t errlen);
	/* vm.resize's desired_balloon (bytes): 0, -EINVAL with err for a value out of range (400),
	 * other -errno with err when the VM cannot (409: no balloon) */
	int (*resize_balloon)(void *ctx, uint64_t bytes, char *err, size_t errlen);
	/* asks the VM to stop (vmm: and kvmini with it; both end the process today) */
	void (*shutdown)(void *ctx, bool vmm);
};

struct api_reply {
	unsigned status;        /* HTTP status */
	char *body;             /* malloc'd JSON text (one line), NULL: no body (204) */
	const char *allow;      /* 405: the method the path takes (the Allow header), else NULL */
};

/* The request line and its body: body_len bytes at body (NULL when body_len is 0; not
 * NUL-terminated; body_too_big: more than API_BODY_MAX came or were announced). Never fails:
 * out of memory is a 500 without a body. */
struct api_reply api_route(const struct api_backend *b, const char *method, const char *url,
			   const char *body, size_t body_len, bool body_too_big);
/* An error body: ["MSG"] (JSON, ASCII only), malloc'd; NULL when out of memory. */
char *api_error_body(const char *msg);

#endif
