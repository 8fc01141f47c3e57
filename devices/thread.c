/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's threads: a bounded stack each, and optionally no signals. */
#include "devices/thread.h"

#include <signal.h>

int thread__create(pthread_t *t, size_t stack, bool no_signals, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int e = pthread_attr_init(&attr);

	if (e)
		return e;
	e = pthread_attr_setstacksize(&attr, stack ? stack : THREAD_STACK);
	if (!e && no_signals) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
	}
	if (!e)
		e = pthread_create(t, &attr, fn, arg);
	if (no_signals)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return e;
}
