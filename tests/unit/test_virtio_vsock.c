/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: --vsock parsing, and what kvmini says when the host has no vhost-vsock (the device itself runs in the nested L1's vsock case). */
#include <string.h>
#include <unistd.h>

#include "tests/lib/ck.h"
#include "virtio/vsock.h"

START_TEST(vsock_options)
{
	static const struct { const char *spec, *want; } bad[] = {
		{ "", "needs cid=N" },
		{ "cid=2", "cid must be 3 to 4294967294" },
		{ "cid=0", "cid must be 3" },
		{ "cid=4294967295", "cid must be 3" },
		{ "cid=-5", "cid must be 3" },
		{ "cid=7x", "cid must be 3" },
		{ "cid=", "cid must be 3" },
		{ "cid=7,socket=", "socket= needs a path of 1 to 96 characters" },
		{ "cid=7,socket=/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "socket= needs a path of 1 to 96" },
		{ "cid=7,port=5", "unknown key 'port'" },
		{ "seven", "unknown key 'seven'" },
	};
	struct vsock_opts o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(vsock__parse_opts(bad[i].spec, &o, err, sizeof(err)) == -1, "%s",
			      bad[i].spec);
		ck_assert_msg(strstr(err, bad[i].want), "%s: %s", bad[i].spec, err);
	}
	ck_assert_int_eq(vsock__parse_opts("cid=3", &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.cid, 3);
	ck_assert_int_eq(vsock__parse_opts("cid=4294967294", &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.cid, 4294967294ULL);
	ck_assert(o.on);
	ck_assert_str_eq(o.socket, "");
	ck_assert_int_eq(vsock__parse_opts("cid=5,socket=/run/v.sock", &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.socket, "/run/v.sock");
}
END_TEST

/* no /dev/vhost-vsock here: one line that says what to load; with one, the CID is claimed and
 * a second claim of it is refused */
START_TEST(vsock_init_host)
{
	struct vsock_opts o = { .on = true, .cid = 4000000123u };
	struct vsock_dev d, d2;
	struct guest_mem gm = { 0 };
	char err[256];

	if (access("/dev/vhost-vsock", F_OK)) {
		ck_assert_int_eq(vsock__init(&d, &o, &gm, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "/dev/vhost-vsock") && strstr(err, "modprobe vhost_vsock"),
			      "%s", err);
		return;
	}
	if (vsock__init(&d, &o, &gm, err, sizeof(err)))
		ck_skip("/dev/vhost-vsock is there but cannot be used: %s", err);
	ck_assert_int_eq(vsock__init(&d2, &o, &gm, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "in use by another VM"), "%s", err);
	vsock__free(&d);
}
END_TEST

Suite *virtio_vsock_suite(void)
{
	Suite *s = suite_create("virtio-vsock");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, vsock_options);
	tcase_add_test(tc, vsock_init_host);
	suite_add_tcase(s, tc);
	return s;
}
