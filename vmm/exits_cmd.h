/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini exits`: summarises a --trace-exits file, or exports it as Chrome trace-event JSON. */
#ifndef KVMINI_VMM_EXITS_CMD_H
#define KVMINI_VMM_EXITS_CMD_H

#include <stdio.h>

#include "vmm/trace_file.h"

#define EXITS_TOP      10      /* top talkers shown */
#define EXITS_BUCKETS  20      /* timeline buckets */

/* The text summary: totals, by reason, by vCPU, top talkers, per device, timeline. */
void exits__summary(FILE *f, const struct trace_data *d, const char *name);
/* One Chrome trace-event JSON object: an "X" event per exit, tid = vCPU. 0, or -1 on a write
 * error (errno). */
int exits__chrome(FILE *f, const struct trace_data *d, const char *name);
/* argv[0] is "exits". Returns the exit status (0, 2 bad usage or trace, 1 host error). */
int exits__main(int argc, char **argv);

#endif
