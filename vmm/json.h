/* SPDX-License-Identifier: Apache-2.0 */
/* JSON strings for kvmini's reports. */
#ifndef KVMINI_VMM_JSON_H
#define KVMINI_VMM_JSON_H

#include <stdio.h>

/* s as a JSON string, quoted and escaped. */
void json__string(FILE *f, const char *s);

#endif
