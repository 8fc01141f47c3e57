/* SPDX-License-Identifier: Apache-2.0 */
/* Check with what it lacks: skips that are reported, tests picked by name, a summary line. */
#include "tests/lib/ck.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char skip_path[64];      /* the forked tests append their skips here */
static bool list_only;
static char **picked;           /* NULL: every test */
static int npicked;
static bool *found;

/* Appends one SKIPPED line (the test's name from fn, part in brackets if any) to skip_path. */
static void record_skip(const char *fn, const char *part, const char *fmt, va_list ap)
{
	char line[600];
	size_t n = strlen(fn);
	int len;

	if (n > 3 && !strcmp(fn + n - 3, "_fn"))	/* START_TEST(name) defines name_fn */
		n -= 3;
	len = snprintf(line, sizeof(line), "SKIPPED %.*s%s%s%s: ", (int)n, fn, part ? "[" : "",
		       part ? part : "", part ? "]" : "");
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	int fd = open(skip_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		fprintf(stderr, "ck: cannot record a skip in %s\n", skip_path);
	if (fd >= 0)
		close(fd);
}

void ck__skip(const char *fn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_skip(fn, NULL, fmt, ap);
	va_end(ap);
}

void ck__skip_part(const char *fn, const char *part, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_skip(fn, part, fmt, ap);
	va_end(ap);
}

void ck__add_test(TCase *tc, const TTest *t, int start, int end)
{
	if (list_only) {
		printf("%s\n", t->name);
		return;
	}
	if (picked) {
		int i = 0;
		while (i < npicked && strcmp(picked[i], t->name))
			i++;
		if (i == npicked)
			return;
		found[i] = true;
	}
	_tcase_add_test(tc, t, 0, 0, start, end);
}

/* Prints the recorded skips; returns how many there were, and in *whole how many were whole
 * tests (not parts of one). */
static int report_skips(int *whole)
{
	FILE *f = fopen(skip_path, "r");
	char line[700];
	int n = 0;

	*whole = 0;
	while (f && fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
		n++;
		char *colon = strchr(line, ':');
		if (colon && (colon == line || colon[-1] != ']'))
			(*whole)++;
	}
	if (f)
		fclose(f);
	return n;
}

int ck__main(int argc, char **argv, const char *title, Suite *(*const *suites)(void), size_t n)
{
	if (argc > 1 && !strcmp(argv[1], "--list")) {
		list_only = true;
		SRunner *sr = srunner_create(NULL);
		for (size_t i = 0; i < n; i++)
			srunner_add_suite(sr, suites[i]());
		srunner_free(sr);
		return 0;
	}
	if (argc > 1) {
		picked = argv + 1;
		npicked = argc - 1;
		found = calloc((size_t)npicked, sizeof(*found));
	}
	snprintf(skip_path, sizeof(skip_path), "/tmp/kvmini-ck-skips.XXXXXX");
	int fd = mkstemp(skip_path);
	if (fd < 0) {
		perror("ck: mkstemp");
		return 1;
	}
	close(fd);
	SRunner *sr = srunner_create(NULL);
	for (size_t i = 0; i < n; i++)
		srunner_add_suite(sr, suites[i]());
	for (int i = 0; i < npicked; i++)
		if (!found[i]) {
			fprintf(stderr, "%s: no test named '%s' (--list shows them)\n", title, picked[i]);
			srunner_free(sr);
			unlink(skip_path);
			return 2;
		}
	srunner_run_all(sr, CK_NORMAL);
	fflush(stdout);
	int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
	int whole, skipped = report_skips(&whole);
	srunner_free(sr);
	unlink(skip_path);
	free(found);
	printf("%s: %d passed, %d failed, %d skipped\n", title, run - failed - whole, failed,
	       skipped);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
