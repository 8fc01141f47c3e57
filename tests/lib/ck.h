/* SPDX-License-Identifier: Apache-2.0 */
/* Check with what it lacks: skips that are reported, tests picked by name, a summary line. */
#ifndef KVMINI_TESTS_LIB_CK_H
#define KVMINI_TESTS_LIB_CK_H

#include <check.h>
#include <stddef.h>

/* Ends the running test as SKIPPED with a reason (printf format). Call it from the test's own
 * body (START_TEST): the name comes from the function. Check alone counts an early return as
 * a pass; this is counted, printed and compared with the expected skips (tests/expected-skips). */
#define ck_skip(...)                                  \
	do {                                          \
		ck__skip(__func__, __VA_ARGS__);      \
		return;                               \
	} while (0)
void ck__skip(const char *fn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records that one part of the running test (named by `part`) could not run here, and goes
 * on: printed and counted as `SKIPPED TEST[PART]: REASON`. fn is the test's __func__ (helpers
 * take it as a parameter). */
#define ck_skip_part(part, ...) ck__skip_part(__func__, (part), __VA_ARGS__)
void ck__skip_part(const char *fn, const char *part, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* tcase_add_test that honours the selection: tests named on the command line (or all) */
#undef tcase_add_test
#define tcase_add_test(tc, tf) ck__add_test((tc), (tf), 0, 1)
#undef tcase_add_loop_test
#define tcase_add_loop_test(tc, tf, s, e) ck__add_test((tc), (tf), (s), (e))
void ck__add_test(TCase *tc, const TTest *t, int start, int end);

/* The test binary's main: `--list` prints every test's name; names on the command line run
 * just those (an unknown name is an error). Prints one `SKIPPED NAME: REASON` line per skip
 * and `TITLE: N passed, N failed, N skipped` last (a test that skipped only some parts counts
 * as passed, and each part as skipped). 0 when nothing failed. */
int ck__main(int argc, char **argv, const char *title, Suite *(*const *suites)(void), size_t n);

#endif
