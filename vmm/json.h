/* SPDX-License-Identifier: Apache-2.0 */
/* json-c as kvmini's reports use it: strings escaped as kvmini always wrote them, every allocation checked, one compact line out. */
#ifndef KVMINI_VMM_JSON_H
#define KVMINI_VMM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* New values. A NULL from json-c (out of memory) is remembered, and the next json__emit on
 * this thread reports it instead of writing a tree with holes. */
json_object *json__obj(void);
json_object *json__arr(void);
json_object *json__u64(uint64_t v);
json_object *json__bool(bool v);
/* s as a JSON string, written byte for byte except '"' and '\' (escaped) and control
 * characters (\u00XX); with ascii, every byte above 0x7e is \u00XX too (output that stays
 * valid JSON whatever bytes a file name holds). */
json_object *json__string(const char *s, bool ascii);
/* a number written exactly as text (e.g. "12.345"), v its value */
json_object *json__number_text(double v, const char *text);
/* "0x..." */
json_object *json__hex(uint64_t v);
/* o[key] = v, a[] += v (v may be NULL: JSON null); nothing on a NULL o or a. */
void json__add(json_object *o, const char *key, json_object *v);
void json__push(json_object *a, json_object *v);
/* o compact (no '/' escaping) on f after sep, then frees o. 0, or -1 when something on the
 * way ran out of memory (nothing written). */
int json__emit(FILE *f, const char *sep, json_object *o);

#endif
