/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher thread: runs device (de)activation for vCPUs, so they need not create threads. */
#ifndef KVMINI_VMM_LAUNCHER_H
#define KVMINI_VMM_LAUNCHER_H

#include <stddef.h>

/* Starts the process's launcher thread (before the other threads enter their seccomp filters;
 * it enters its own). 0, or -1 with a message in err. */
int launcher__start(char *err, size_t errlen);
/* Runs fn(arg) on the launcher thread and returns its result; without a running launcher
 * (unit tests, teardown) on the calling thread. Calls from several threads take turns. */
int launcher__call(int (*fn)(void *arg), void *arg);
/* Stops and joins it; later calls run on the caller. */
void launcher__stop(void);

#endif
