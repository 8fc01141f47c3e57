/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the API's router and JSON shapes over a fake backend, the ctl client's response parser, --api-socket parsing. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "tests/lib/ck.h"
#include "virtio/balloon.h"
#include "vmm/api_routes.h"
#include "vmm/cli.h"
#include "vmm/ctl_cmd.h"
#include "vmm/machine_api.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* ---- a fake VM behind the real backend (vmm/machine_api.c): no KVM, no socket ---- */

static struct vm fvm;
static struct vcpu fcpu[2];
static struct machine_api fa;
static struct api_backend fb;
static bool stats_on;

static int presses;

static int fake_button(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	if (presses < 0) {
		snprintf(err, errlen, "the fake board refuses");
		return -1;
	}
	presses++;
	return 0;
}

static void fake_stats(void *ctx, FILE *f)
{
	(void)ctx;
	fputs("{\"vcpus\":[]}\n", f);
}

/* vm.pause and vm.resume over a VM whose vCPUs never started: nothing to park */
static void setup(void)
{
	memset(&fvm, 0, sizeof(fvm));
	memset(fcpu, 0, sizeof(fcpu));
	pthread_mutex_init(&fvm.stop_lock, NULL);
	pthread_mutex_init(&fvm.hold.lock, NULL);
	pthread_cond_init(&fvm.hold.run_cond, NULL);
	pthread_cond_init(&fvm.hold.park_cond, NULL);
	fvm.stop_efd = -1;
	fvm.stats_fd = -1;
	fvm.mem.smaps_fd = -1;
	fvm.ncpus = 2;
	fvm.vcpus = fcpu;
	fvm.mem.ram_size = 64 << 20;
	for (unsigned i = 0; i < 2; i++) {
		fcpu[i].vm = &fvm;
		fcpu[i].id = i;
		fcpu[i].tid = 1000 + (pid_t)i;
		fcpu[i].exits = 10 * (i + 1);
		fcpu[i].io_exits = i + 1;
	}
	fa = (struct machine_api){ .vm = &fvm, .exit_stats = stats_on ? fake_stats : NULL };
	machine_api__backend(&fa, &fb);
}

static const char zeros[API_BODY_MAX];	/* a body's bytes, for endpoints that take none */
static const char *json_body;		/* the next request's body instead (expect_json) */

static struct api_reply req(const char *method, const char *url, size_t body, bool big)
{
	if (json_body)
		return api_route(&fb, method, url, json_body, strlen(json_body), big);
	return api_route(&fb, method, url, body ? zeros : NULL, body, big);
}

/* status, Allow and the body's shape: an error is ["ONE LINE"] starting with want (NULL:
 * a success, whose body is parsed and returned) */
static json_object *expect(const char *method, const char *url, size_t body, bool big,
			   unsigned status, const char *allow, const char *want)
{
	struct api_reply r = req(method, url, body, big);
	json_object *o = NULL;

	ck_assert_msg(r.status == status, "%s %s: %u, want %u (%s)", method, url, r.status,
		      status, r.body ? r.body : "no body");
	if (allow)
		ck_assert_str_eq(r.allow ? r.allow : "(none)", allow);
	else
		ck_assert_ptr_null(r.allow);
	if (status == 204) {
		ck_assert_ptr_null(r.body);
		return NULL;
	}
	ck_assert_ptr_nonnull(r.body);
	ck_assert_ptr_null(strchr(r.body, '\n'));
	o = json_tokener_parse(r.body);
	ck_assert_msg(o, "%s %s: not JSON: %s", method, url, r.body);
	if (want) {
		ck_assert(json_object_is_type(o, json_type_array));
		ck_assert_int_eq(json_object_array_length(o), 1);
		const char *m = json_object_get_string(json_object_array_get_idx(o, 0));
		ck_assert_msg(!strncmp(m, want, strlen(want)), "%s %s: '%s', want '%s...'", method,
			      url, m, want);
		json_object_put(o);
		o = NULL;
	}
	free(r.body);
	return o;
}

START_TEST(routes_and_errors)
{
	setup();
	json_object_put(expect("GET", "/api/v1/vmm.ping", 0, false, 200, NULL, NULL));
	json_object_put(expect("GET", "/api/v1/vm.info", 0, false, 200, NULL, NULL));
	expect("GET", "/api/v1/vm.nothing", 0, false, 404, NULL, "no such endpoint");
	expect("GET", "/", 0, false, 404, NULL, "no such endpoint");
	expect("GET", "/api/v1/", 0, false, 404, NULL, "no such endpoint");
	expect("GET", "/api/v2/vm.info", 0, false, 404, NULL, "no such endpoint");
	expect("GET", "/api/v1/vm.info/", 0, false, 404, NULL, "no such endpoint");
	expect("GET", "/api/v1/vm.pause", 0, false, 405, "PUT", "vm.pause: use PUT, not GET");
	expect("POST", "/api/v1/vm.pause", 0, false, 405, "PUT", "vm.pause: use PUT");
	expect("DELETE", "/api/v1/vm.info", 0, false, 405, "GET", "vm.info: use GET, not DELETE");
	expect("HEAD", "/api/v1/vmm.ping", 0, false, 405, "GET", "vmm.ping: use GET");
	expect("PUT", "/api/v1/vm.counters", 0, false, 405, "GET", "vm.counters: use GET");
	expect("PUT", "/api/v1/vm.pause", 3, false, 400, NULL, "vm.pause: this endpoint takes no");
	expect("PUT", "/api/v1/vm.pause", 0, true, 413, NULL, "vm.pause: request body over 4096");
	expect("GET", "/api/v1/vm.exit-stats", 0, false, 409, NULL,
	       "vm.exit-stats: kvmini runs without --exit-stats");
	/* a hostile method or path is cut and escaped, never echoed raw */
	expect("G\x01\xff\"ET", "/api/v1/vm.info", 0, false, 405, "GET", "vm.info: use GET, not G");
	struct api_reply r = req(NULL, "/x", 0, false);
	ck_assert_uint_eq(r.status, 400);
	free(r.body);
}
END_TEST

START_TEST(pause_resume_states)
{
	setup();
	json_object *o = expect("GET", "/api/v1/vm.info", 0, false, 200, NULL, NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "Running");
	json_object_put(o);
	expect("PUT", "/api/v1/vm.resume", 0, false, 409, NULL, "vm.resume: the VM is not paused");
	expect("PUT", "/api/v1/vm.pause", 0, false, 204, NULL, NULL);
	o = expect("GET", "/api/v1/vm.info", 0, false, 200, NULL, NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "Paused");
	json_object_put(o);
	expect("PUT", "/api/v1/vm.pause", 0, false, 409, NULL, "vm.pause: the VM is already paused");
	expect("PUT", "/api/v1/vm.resume", 0, false, 204, NULL, NULL);
	expect("PUT", "/api/v1/vm.resume", 0, false, 409, NULL, "vm.resume: the VM is not paused");
	fvm.gdb = (struct gdb *)&fvm;	/* --gdb: gdb's to stop and continue */
	expect("PUT", "/api/v1/vm.pause", 0, false, 409, NULL, "vm.pause: not with --gdb");
	fvm.gdb = NULL;
	/* shut down: the stop is requested, later pauses are refused */
	fvm.stop_efd = -1;
	expect("PUT", "/api/v1/vm.shutdown", 0, false, 204, NULL, NULL);
	ck_assert_int_eq(fvm.stop_reason, VM_STOP_USER);
	ck_assert_str_eq(fvm.stop_msg, "shut down through the API (vm.shutdown)");
	expect("PUT", "/api/v1/vm.pause", 0, false, 409, NULL, "vm.pause: the VM is stopping");
	o = expect("GET", "/api/v1/vm.info", 0, false, 200, NULL, NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "Shutdown");
	json_object_put(o);
}
END_TEST

/* vm.power-button: 204 when the board pressed it; 409 with its reason when it has none, or
 * when the VM has no button at all */
START_TEST(power_button)
{
	setup();
	expect("PUT", "/api/v1/vm.power-button", 0, false, 409, NULL,
	       "vm.power-button: this VM has no power button");
	fa.power_button = fake_button;
	presses = 0;
	expect("PUT", "/api/v1/vm.power-button", 0, false, 204, NULL, NULL);
	ck_assert_int_eq(presses, 1);
	expect("GET", "/api/v1/vm.power-button", 0, false, 405, "PUT", "vm.power-button: use PUT");
	presses = -1;
	expect("PUT", "/api/v1/vm.power-button", 0, false, 409, NULL,
	       "vm.power-button: the fake board refuses");
	fb.power_button = NULL;	/* a backend without the operation */
	expect("PUT", "/api/v1/vm.power-button", 0, false, 409, NULL,
	       "vm.power-button: this VM cannot do that");
}
END_TEST

/* vm.reboot: the board's reboot key, refused while paused (the guest could not take it) */
START_TEST(reboot_key)
{
	setup();
	expect("PUT", "/api/v1/vm.reboot", 0, false, 409, NULL,
	       "vm.reboot: this VM has no reboot key");
	fa.reboot_key = fake_button;
	presses = 0;
	expect("PUT", "/api/v1/vm.reboot", 0, false, 204, NULL, NULL);
	ck_assert_int_eq(presses, 1);
	expect("GET", "/api/v1/vm.reboot", 0, false, 405, "PUT", "vm.reboot: use PUT");
	expect("PUT", "/api/v1/vm.pause", 0, false, 204, NULL, NULL);
	expect("PUT", "/api/v1/vm.reboot", 0, false, 409, NULL,
	       "vm.reboot: the VM is paused: resume it first");
	ck_assert_int_eq(presses, 1);
	expect("PUT", "/api/v1/vm.resume", 0, false, 204, NULL, NULL);
	presses = -1;
	expect("PUT", "/api/v1/vm.reboot", 0, false, 409, NULL,
	       "vm.reboot: the fake board refuses");
}
END_TEST

/* PUT vm.resize with this body: its status and message */
static void resize(const char *body, unsigned status, const char *want)
{
	json_body = body;
	json_object_put(expect("PUT", "/api/v1/vm.resize", 0, false, status, NULL, want));
	json_body = NULL;
}

/* vm.resize: desired_balloon only, through the balloon's target; bad bodies are 400 */
START_TEST(resize_balloon)
{
	struct balloon_opts o = { .on = true, .stats = true };
	struct balloon bl;
	char err[160];

	setup();
	resize("{\"desired_balloon\":0}", 409, "vm.resize: this VM has no balloon (run kvmini with --balloon)");
	ck_assert_int_eq(balloon__init(&bl, &o, &fvm.mem, err, sizeof(err)), 0);
	fa.balloon = &bl;
	resize("{\"desired_balloon\":33554432}", 204, NULL);
	uint64_t target, actual;
	struct balloon_counters c;
	balloon__state(&bl, &target, &actual, &c);
	ck_assert_uint_eq(target, 32 << 20);
	resize("{\"desired_balloon\":1073741824}", 400, "vm.resize: desired_balloon must be");
	resize("{\"desired_balloon\":100}", 400, "vm.resize: desired_balloon must be");
	resize("{\"desired_balloon\":-1}", 400, "vm.resize: the body must be");
	resize("{\"desired_ram\":1073741824}", 400, "vm.resize: the body must be");
	resize("{\"desired_balloon\":0,\"desired_vcpus\":2}", 400, "vm.resize: the body must be");
	resize("{\"desired_balloon\":\"1G\"}", 400, "vm.resize: the body must be");
	resize("{\"desired_balloon\":", 400, "vm.resize: the body must be");
	resize("[]", 400, "vm.resize: the body must be");
	resize("{\"desired_balloon\":4096}junk", 400, "vm.resize: the body must be");
	resize("{\"desired_balloon\":33554432} \r\n", 204, NULL);	/* white space may follow */
	expect("PUT", "/api/v1/vm.resize", 0, false, 400, NULL, "vm.resize: the body must be");
	expect("GET", "/api/v1/vm.resize", 0, false, 405, "PUT", "vm.resize: use PUT");
	balloon__state(&bl, &target, &actual, &c);
	ck_assert_uint_eq(target, 32 << 20);
	balloon__free(&bl);
}
END_TEST

static json_object *at(json_object *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');

	snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
	json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
	return dot ? at(v, dot + 1) : v;
}

START_TEST(json_shapes)
{
	setup();
	json_object *o = expect("GET", "/api/v1/vmm.ping", 0, false, 200, NULL, NULL);
	ck_assert(json_object_is_type(at(o, "version"), json_type_string));
	ck_assert(json_object_is_type(at(o, "pid"), json_type_int));
	ck_assert(json_object_is_type(at(o, "features"), json_type_array));
	json_object_put(o);

	o = expect("GET", "/api/v1/vm.info", 0, false, 200, NULL, NULL);
	ck_assert_int_eq(json_object_get_int(at(o, "config.cpus.boot_vcpus")), 2);
	ck_assert_int_eq(json_object_get_int64(at(o, "config.memory.size")), 64 << 20);
	ck_assert_int_eq(json_object_get_int64(at(o, "memory_actual_size")), 64 << 20);
	ck_assert(json_object_is_type(at(o, "device_tree"), json_type_object));
	json_object *v = at(o, "vcpus");
	ck_assert_int_eq(json_object_array_length(v), 2);
	ck_assert_int_eq(json_object_get_int(at(json_object_array_get_idx(v, 1), "tid")), 1001);
	json_object_put(o);

	/* an object of objects whose every value is an integer */
	o = expect("GET", "/api/v1/vm.counters", 0, false, 200, NULL, NULL);
	int n = 0;
	json_object_object_foreach(o, dev, vals) {
		(void)dev;
		ck_assert(json_object_is_type(vals, json_type_object));
		json_object_object_foreach(vals, k, x) {
			(void)k;
			ck_assert(json_object_is_type(x, json_type_int));
			n++;
		}
	}
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(json_object_get_int(at(o, "_vcpu1.exits")), 20);
	ck_assert_int_eq(json_object_get_int(at(o, "_vcpu1.io_exits")), 2);
	json_object_put(o);

	stats_on = true;
	setup();
	o = expect("GET", "/api/v1/vm.exit-stats", 0, false, 200, NULL, NULL);
	ck_assert(json_object_is_type(at(o, "vcpus"), json_type_array));
	json_object_put(o);
	stats_on = false;

	/* vm.memory: the four places; this fake VM's RAM and KVM stats are unreadable (null) */
	o = expect("GET", "/api/v1/vm.memory", 0, false, 200, NULL, NULL);
	ck_assert(json_object_object_get_ex(o, "guest_ram", NULL));
	ck_assert(json_object_object_get_ex(o, "kvm", NULL));
	ck_assert(json_object_object_get_ex(at(o, "vmm"), "resident", NULL));
	ck_assert(json_object_is_type(at(o, "disks"), json_type_array));
	json_object_put(o);
	expect("PUT", "/api/v1/vm.memory", 0, false, 405, "GET", "vm.memory: use GET");
}
END_TEST

START_TEST(error_body_is_ascii_json)
{
	char *s = api_error_body("a \"quoted\" \\ line\nwith \xc3\xa9");

	ck_assert_ptr_nonnull(s);
	for (const char *p = s; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f, "byte 0x%02x",
			      (unsigned char)*p);
	json_object *o = json_tokener_parse(s);
	ck_assert_ptr_nonnull(o);
	/* bytes past 0x7e come back as the code points of their values (json__string) */
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(o, 0)),
			 "a \"quoted\" \\ line\nwith \xc3\x83\xc2\xa9");
	json_object_put(o);
	free(s);
}
END_TEST

START_TEST(ctl_response_parser)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "Content-Length: 2\r\n\r\n{}";
	static const char nobody[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
	static const char toeof[] = "HTTP/1.0 409 Conflict\r\n\r\n[\"x\"]";
	unsigned st;
	const char *b;
	size_t n;

	ck_assert_int_eq(ctl__parse_response(ok, strlen(ok), &st, &b, &n), 0);
	ck_assert_uint_eq(st, 200);
	ck_assert_uint_eq(n, 2);
	ck_assert(!memcmp(b, "{}", 2));
	ck_assert_int_eq(ctl__parse_response(nobody, strlen(nobody), &st, &b, &n), 0);
	ck_assert_uint_eq(st, 204);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ctl__parse_response(toeof, strlen(toeof), &st, &b, &n), 0);
	ck_assert_uint_eq(st, 409);
	ck_assert_uint_eq(n, 5);
	/* not HTTP, cut short, a bad status */
	ck_assert_int_eq(ctl__parse_response("SSH-2.0\r\n\r\n", 11, &st, &b, &n), -1);
	ck_assert_int_eq(ctl__parse_response(ok, strlen(ok) - 1, &st, &b, &n), -1);
	ck_assert_int_eq(ctl__parse_response("HTTP/1.1 200 OK\r\n", 17, &st, &b, &n), -1);
	ck_assert_int_eq(ctl__parse_response("HTTP/1.1 2000 OK\r\n\r\n", 20, &st, &b, &n), -1);
	ck_assert_int_eq(ctl__parse_response("HTTP/1.1 099 OK\r\n\r\n", 19, &st, &b, &n), -1);
}
END_TEST

START_TEST(cli_api_socket)
{
	struct run_config cfg;
	char err[256], longp[200];

	ck_assert_int_eq(cli__parse_run(3, (char *[]){ "run", "--api-socket", "/tmp/a.sock", NULL },
					&cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.api_socket, "/tmp/a.sock");
	ck_assert_int_eq(cli__parse_run(2, (char *[]){ "run", "--api-socket=", NULL }, &cfg, err,
					sizeof(err)), -1);
	ck_assert_str_eq(err, "--api-socket '': needs a path");
	memset(longp, 'a', 108);
	longp[108] = '\0';
	ck_assert_int_eq(cli__parse_run(3, (char *[]){ "run", "--api-socket", longp, NULL }, &cfg,
					err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "path too long (at most 107 bytes)"));
}
END_TEST

Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");
	tcase_add_test(tc, routes_and_errors);
	tcase_add_test(tc, pause_resume_states);
	tcase_add_test(tc, power_button);
	tcase_add_test(tc, reboot_key);
	tcase_add_test(tc, resize_balloon);
	tcase_add_test(tc, json_shapes);
	tcase_add_test(tc, error_body_is_ascii_json);
	tcase_add_test(tc, ctl_response_parser);
	tcase_add_test(tc, cli_api_socket);
	suite_add_tcase(s, tc);
	return s;
}
