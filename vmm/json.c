/* SPDX-License-Identifier: Apache-2.0 */
/* json-c for the reports: checked allocation, kvmini's string escaping, compact output. */
#include "vmm/json.h"

#include <inttypes.h>
#include <json-c/printbuf.h>

static __thread bool failed;

static json_object *checked(json_object *o)
{
	if (!o)
		failed = true;
	return o;
}

json_object *json__obj(void)
{
	return checked(json_object_new_object());
}

json_object *json__arr(void)
{
	return checked(json_object_new_array());
}

json_object *json__u64(uint64_t v)
{
	return checked(json_object_new_uint64(v));
}

json_object *json__bool(bool v)
{
	return checked(json_object_new_boolean(v));
}

json_object *json__number_text(double v, const char *text)
{
	return checked(json_object_new_double_s(v, text));
}

json_object *json__hex(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%" PRIx64, v);
	return json__string(s, true);
}

static int write_string(json_object *o, struct printbuf *pb, int level, int flags)
{
	const unsigned char *s = (const unsigned char *)json_object_get_string(o);
	bool ascii = json_object_get_userdata(o) != NULL;
	char e[8];

	(void)level;
	(void)flags;
	printbuf_memappend(pb, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			e[0] = '\\';
			e[1] = (char)*s;
			printbuf_memappend(pb, e, 2);
		} else if (*s < 0x20 || (ascii && *s > 0x7e)) {
			snprintf(e, sizeof(e), "\\u%04x", *s);
			printbuf_memappend(pb, e, 6);
		} else {
			printbuf_memappend(pb, (const char *)s, 1);
		}
	}
	printbuf_memappend(pb, "\"", 1);
	return 0;
}

json_object *json__string(const char *s, bool ascii)
{
	json_object *o = checked(json_object_new_string(s));

	if (o)
		json_object_set_serializer(o, write_string, ascii ? (void *)1 : NULL, NULL);
	return o;
}

void json__add(json_object *o, const char *key, json_object *v)
{
	if (!o || json_object_object_add(o, key, v) < 0) {
		failed = true;
		json_object_put(v);
	}
}

void json__push(json_object *a, json_object *v)
{
	if (!a || json_object_array_add(a, v) < 0) {
		failed = true;
		json_object_put(v);
	}
}

int json__emit(FILE *f, const char *sep, json_object *o)
{
	const char *s = o && !failed ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE)
				     : NULL;
	int rc = s ? 0 : -1;

	if (s) {
		fputs(sep, f);
		fputs(s, f);
	}
	failed = false;
	json_object_put(o);
	return rc;
}
