/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini ctl`: one request to a running kvmini's --api-socket, its answer as text or raw JSON. */
#include "vmm/ctl_cmd.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "vmm/parse.h"

#define CTL_TIMEOUT_MS 5000	/* what one request may take, in all */

static const struct ctl_verb {
	const char *verb, *method, *path;
	const char *done;	/* what a 204 says */
} verbs[] = {
	{ "ping", "GET", "vmm.ping", NULL },
	{ "info", "GET", "vm.info", NULL },
	{ "pause", "PUT", "vm.pause", "paused" },
	{ "resume", "PUT", "vm.resume", "resumed" },
	{ "shutdown", "PUT", "vm.shutdown", "the VM is shutting down" },
	{ "shutdown-vmm", "PUT", "vmm.shutdown", "kvmini is shutting down" },
	{ "power-button", "PUT", "vm.power-button", "the power button is pressed: the guest decides" },
	{ "reboot", "PUT", "vm.reboot", "the reboot key is pressed (x86: Ctrl-Alt-Del): the guest decides" },
	{ "counters", "GET", "vm.counters", NULL },
	{ "exit-stats", "GET", "vm.exit-stats", NULL },
	{ "memory", "GET", "vm.memory", NULL },
	{ "resize-balloon", "PUT", "vm.resize", "the balloon's target is set: the guest follows" },
};

int ctl__parse_response(const char *buf, size_t len, unsigned *status, const char **body,
			size_t *body_len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	unsigned st;
	char sp;

	if (!end || len < 12 || strncmp(buf, "HTTP/1.", 7) || sscanf(buf + 9, "%3u%c", &st, &sp) != 2 ||
	    sp != ' ' || st < 100 || st > 599)
		return -1;
	const char *b = end + 4;
	size_t n = len - (size_t)(b - buf);
	/* Content-Length among the headers, if there is one */
	for (const char *h = memchr(buf, '\n', (size_t)(end - buf)); h && h < end;
	     h = memchr(h + 1, '\n', (size_t)(end - h))) {
		if (!strncasecmp(h + 1, "Content-Length:", 15)) {
			unsigned long long cl = strtoull(h + 16, NULL, 10);
			if (cl > n)
				return -1;	/* cut short */
			n = (size_t)cl;
		}
	}
	*status = st;
	*body = b;
	*body_len = n;
	return 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* fd within the deadline: all of req out, then everything until EOF in. Returns the reply
 * (malloc'd, NUL-terminated, *len bytes) or NULL with err. */
static char *exchange(int fd, const char *req, size_t *len, char *err, size_t errlen)
{
	long long end = now_ms() + CTL_TIMEOUT_MS;
	size_t cap = 4096, n = 0, sent = 0, rl = strlen(req);
	char *buf = malloc(cap);

	while (buf) {
		int left = (int)(end - now_ms());
		struct pollfd p = { .fd = fd, .events = sent < rl ? POLLOUT : POLLIN };
		if (left <= 0 || poll(&p, 1, left) <= 0) {
			snprintf(err, errlen, "no answer within %d s", CTL_TIMEOUT_MS / 1000);
			break;
		}
		if (sent < rl) {
			ssize_t w = send(fd, req + sent, rl - sent, MSG_NOSIGNAL);
			if (w < 0 && errno != EINTR && errno != EAGAIN) {
				snprintf(err, errlen, "cannot send: %s", strerror(errno));
				break;
			}
			sent += w > 0 ? (size_t)w : 0;
			continue;
		}
		if (n + 1 >= cap) {
			char *nb = cap >= CTL_REPLY_MAX ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				snprintf(err, errlen, "the answer is over %u bytes", CTL_REPLY_MAX);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		if (r < 0 && errno != EINTR && errno != EAGAIN) {
			snprintf(err, errlen, "cannot read the answer: %s", strerror(errno));
			break;
		}
		n += r > 0 ? (size_t)r : 0;
	}
	if (!buf)
		snprintf(err, errlen, "out of memory");
	free(buf);
	return NULL;
}

int ctl__request(const char *sock, const char *method, const char *path, const char *body,
		 char **reply, size_t *len, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[512];

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long (at most 107 bytes)", sock);
		return -1;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "cannot connect to %s: %s (is kvmini running with "
			 "--api-socket %s?)", sock, strerror(errno), sock);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (body)
		snprintf(req, sizeof(req), "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body);
	else
		snprintf(req, sizeof(req), "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n%s\r\n", method, path,
			 strcmp(method, "PUT") ? "" : "Content-Length: 0\r\n");
	*reply = exchange(fd, req, len, err, errlen);
	close(fd);
	return *reply ? 0 : -1;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : "?";
}

static long long jint(json_object *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	json_object *v;

	snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	if (dot)
		return jint(v, dot + 1);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;	/* null: unknown */
}

static void print_ping(json_object *o)
{
	json_object *f;

	printf("kvmini %s, pid %lld, features:", jstr(o, "version"), jint(o, "pid"));
	if (json_object_object_get_ex(o, "features", &f))
		for (size_t i = 0; i < json_object_array_length(f); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(f, i)));
	printf("\n");
}

static void print_info(json_object *o)
{
	json_object *c = NULL, *v, *d;

	json_object_object_get_ex(o, "config", &c);
	printf("state:   %s\n", jstr(o, "state"));
	printf("memory:  %lld MiB\n", jint(o, "memory_actual_size") >> 20);
	if (json_object_object_get_ex(o, "vcpus", &v)) {
		printf("vCPUs:   %zu (thread ids", json_object_array_length(v));
		for (size_t i = 0; i < json_object_array_length(v); i++)
			printf(" %lld", jint(json_object_array_get_idx(v, i), "tid"));
		printf(")\n");
	}
	json_object *p = NULL;
	if (c && json_object_object_get_ex(c, "payload", &p)) {
		printf("kernel:  %s\n", jstr(p, "kernel"));
		printf("cmdline: %s\n", jstr(p, "cmdline"));
	}
	if (c && json_object_object_get_ex(c, "disks", &d))
		for (size_t i = 0; i < json_object_array_length(d); i++) {
			json_object *x = json_object_array_get_idx(d, i), *ro;
			bool r = json_object_object_get_ex(x, "readonly", &ro) &&
				 json_object_get_boolean(ro);
			printf("disk:    %s %s%s, %lld queue(s)\n", jstr(x, "id"), jstr(x, "path"),
			       r ? " (read-only)" : "", jint(x, "num_queues"));
		}
}

/* vm.counters: a line per device, "ID: name=value ..." */
static void print_counters(json_object *o)
{
	json_object_object_foreach(o, dev, vals) {
		printf("%s:", dev);
		if (json_object_is_type(vals, json_type_object)) {
			json_object_object_foreach(vals, k, n)
				printf(" %s=%lld", k, (long long)json_object_get_int64(n));
		}
		printf("\n");
	}
}

static double mib(long long bytes)
{
	return (double)bytes / (1 << 20);
}

/* vm.memory: a line per place */
static void print_memory(json_object *o)
{
	json_object *disks = NULL;

	if (jint(o, "guest_ram.size") >= 0)
		printf("guest RAM: %.1f MiB (%s): %.1f MiB resident on the host (%.1f MiB on huge "
		       "pages), %.1f MiB never touched\n",
		       mib(jint(o, "guest_ram.size")),
		       jstr(json_object_object_get(o, "guest_ram"), "pages"),
		       mib(jint(o, "guest_ram.resident")), mib(jint(o, "guest_ram.huge")),
		       mib(jint(o, "guest_ram.untouched")));
	if (jint(o, "vmm.resident") >= 0)
		printf("kvmini:    %.1f MiB resident outside guest RAM\n", mib(jint(o, "vmm.resident")));
	if (jint(o, "kvm.pages_4k") >= 0)
		printf("KVM:       maps %lld 4K, %lld 2M and %lld 1G pages of guest memory; page tables "
		       "%.1f MiB at least\n", jint(o, "kvm.pages_4k"), jint(o, "kvm.pages_2m"),
		       jint(o, "kvm.pages_1g"), mib(jint(o, "kvm.page_tables_min")));
	if (jint(o, "guest.total") >= 0)
		printf("guest:     %.1f MiB in all: %.1f free, %.1f page cache, %.1f other (its own view, "
		       "%lld ms old)\n", mib(jint(o, "guest.total")), mib(jint(o, "guest.free")),
		       mib(jint(o, "guest.page_cache")), mib(jint(o, "guest.other")),
		       jint(o, "guest.age_ms"));
	if (jint(o, "balloon.target") >= 0)
		printf("balloon:   target %.1f MiB, the guest holds %.1f MiB in it; %.1f MiB of free "
		       "pages reported back\n", mib(jint(o, "balloon.target")),
		       mib(jint(o, "balloon.actual")), mib(jint(o, "balloon.reported_bytes")));
	if (json_object_object_get_ex(o, "disks", &disks))
		for (size_t i = 0; i < json_object_array_length(disks); i++) {
			json_object *d = json_object_array_get_idx(disks, i);
			long long c = jint(d, "page_cache");
			printf("disk %zu:    %s: ", i, jstr(d, "path"));
			if (c < 0)
				printf("host page cache unknown\n");
			else
				printf("%.1f of %.1f MiB in the host page cache (cache=%s)\n", mib(c),
				       mib(jint(d, "size")), jstr(d, "cache"));
		}
}

/* A 2xx reply for a person */
static int print_text(const struct ctl_verb *v, const char *body, size_t n)
{
	if (v->done) {
		printf("%s\n", v->done);
		return 0;
	}
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)n) : NULL;
	if (tok)
		json_tokener_free(tok);
	if (!o) {
		fprintf(stderr, "kvmini: error: the answer is not JSON\n");
		return 1;
	}
	if (!strcmp(v->verb, "ping"))
		print_ping(o);
	else if (!strcmp(v->verb, "info"))
		print_info(o);
	else if (!strcmp(v->verb, "counters"))
		print_counters(o);
	else if (!strcmp(v->verb, "memory"))
		print_memory(o);
	else
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* An error reply: the server's message (["MSG"]) on one line */
static void print_error(unsigned status, const char *body, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)n) : NULL;
	json_object *m = o && json_object_is_type(o, json_type_array) ?
			 json_object_array_get_idx(o, 0) : NULL;

	if (m && json_object_is_type(m, json_type_string))
		fprintf(stderr, "kvmini: error: %s (HTTP %u)\n", json_object_get_string(m), status);
	else
		fprintf(stderr, "kvmini: error: HTTP %u\n", status);
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
}

static int usage(const char *why)
{
	fprintf(stderr, "kvmini: error: %s (usage: kvmini ctl SOCKET VERB [--json]; VERB: ping, "
		"info, pause, resume, power-button, reboot, shutdown, shutdown-vmm, counters, exit-stats, memory, "
		"resize-balloon SIZE)\n", why);
	return 2;
}

/* resize-balloon SIZE: the body vm.resize takes (0, or a size as --memory writes it) */
static int resize_body(const char *arg, char *body, size_t len)
{
	uint64_t bytes = 0;

	if (strcmp(arg, "0") && parse__size(arg, &bytes))
		return -1;
	snprintf(body, len, "{\"desired_balloon\":%llu}", (unsigned long long)bytes);
	return 0;
}

int ctl__main(int argc, char **argv)
{
	const struct ctl_verb *v = NULL;
	bool json = false;
	char err[400], why[128], rbody[96];
	const char *req_body = NULL;
	int next = 3;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kvmini ctl SOCKET VERB [ARG] [--json]\n"
		       "  talks to a running kvmini's --api-socket SOCKET (docs/api.md)\n"
		       "  VERB: ping, info, pause, resume, power-button, reboot, shutdown, shutdown-vmm, counters, "
		       "exit-stats, memory,\n"
		       "        resize-balloon SIZE (the balloon's target: 0, 512M, 1G...)\n"
		       "  --json: the API's JSON as it came, for scripts\n");
		return 0;
	}
	if (argc < 3)
		return usage("a socket and a verb are needed");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[2], verbs[i].verb))
			v = &verbs[i];
	if (!v) {
		snprintf(why, sizeof(why), "unknown verb '%.40s'", argv[2]);
		return usage(why);
	}
	if (!strcmp(v->path, "vm.resize")) {
		if (argc < 4 || resize_body(argv[3], rbody, sizeof(rbody))) {
			snprintf(why, sizeof(why), "resize-balloon needs a SIZE (0, 512M, 1G), got "
				 "'%.40s'", argc < 4 ? "" : argv[3]);
			return usage(why);
		}
		req_body = rbody;
		next = 4;
	}
	if (argc > next + 1 || (argc == next + 1 && strcmp(argv[next], "--json")))
		return usage("unexpected argument");
	json = argc == next + 1;
	char *reply;
	size_t len, n;
	unsigned status;
	const char *body;
	if (ctl__request(argv[1], v->method, v->path, req_body, &reply, &len, err, sizeof(err))) {
		fprintf(stderr, "kvmini: error: %s\n", err);
		return 1;
	}
	int rc = 1;
	if (ctl__parse_response(reply, len, &status, &body, &n))
		fprintf(stderr, "kvmini: error: %s: not an HTTP answer\n", argv[1]);
	else if (status < 200 || status > 299)
		print_error(status, body, n);
	else if (json)
		rc = (n && printf("%.*s\n", (int)n, body) < 0) ? 1 : 0;
	else
		rc = print_text(v, body, n);
	free(reply);
	return rc;
}
