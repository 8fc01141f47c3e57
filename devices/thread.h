/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's threads: a bounded stack each, and optionally no signals. */
#ifndef KVMINI_DEVICES_THREAD_H
#define KVMINI_DEVICES_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The stack of every kvmini thread unless it asks for less: far more than any of them uses,
 * and too small to hold a 2 MiB transparent huge page, so that an idle thread's stack costs
 * the pages it touched. (glibc's default, 8 MiB, got a 2 MiB huge page per thread where THP
 * is "always": 2 MiB of VMM memory per vCPU.) */
#define THREAD_STACK (512u << 10)

/* pthread_create with a stack of `stack` bytes (THREAD_STACK when 0); with no_signals the
 * thread starts with every signal blocked (it inherits the mask; the caller's is restored).
 * 0 or an errno value. */
int thread__create(pthread_t *t, size_t stack, bool no_signals, void *(*fn)(void *), void *arg);

#endif
