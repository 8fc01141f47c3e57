/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes as the command line writes them, parsed strictly. */
#ifndef KVMINI_VMM_PARSE_H
#define KVMINI_VMM_PARSE_H

#include <stdint.h>

/* "512M", "4G", "65536K", "1T"; a bare number is MiB. Must be a whole number of 4 KiB pages.
 * 0, or -1 for anything else (empty, negative, garbage, overflow). */
int parse__size(const char *s, uint64_t *out);

#endif
