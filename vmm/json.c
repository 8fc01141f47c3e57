/* SPDX-License-Identifier: Apache-2.0 */
/* JSON strings for the reports kvmini writes (exit statistics, the disk queue report). */
#include "vmm/json.h"

void json__string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
