/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher thread: runs device (de)activation for vCPUs, so they need not create threads. */
#include "vmm/launcher.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "devices/thread.h"
#include "vmm/seccomp.h"

/*
 * A virtio device starts its I/O threads (and opens per-queue io_urings) when the driver
 * writes DRIVER_OK, and stops them on a reset: both happen inside a vCPU's MMIO or PIO exit.
 * A seccomp filter is inherited by the threads its thread creates and can only be narrowed,
 * so an I/O thread created by a vCPU could never do more than the vCPU may. Instead the vCPU
 * hands the work to this thread and waits: the vCPU's filter needs no clone, io_uring_setup
 * or disk I/O, and the launcher's is the I/O threads' set plus creating them.
 */

static struct {
	pthread_mutex_t call_lock;      /* one call at a time */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop, pending;
	int (*fn)(void *);
	void *arg;
	int result;
} l = {
	.call_lock = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void *launcher_thread(void *unused)
{
	(void)unused;
	seccomp__enter(SECCOMP_KIND_LAUNCHER);
	pthread_mutex_lock(&l.lock);
	for (;;) {
		while (!l.pending && !l.stop)
			pthread_cond_wait(&l.cond, &l.lock);
		if (l.stop)
			break;
		int (*fn)(void *) = l.fn;
		void *arg = l.arg;
		pthread_mutex_unlock(&l.lock);
		int r = fn(arg);
		pthread_mutex_lock(&l.lock);
		l.result = r;
		l.pending = false;
		pthread_cond_broadcast(&l.cond);
	}
	pthread_mutex_unlock(&l.lock);
	return NULL;
}

int launcher__start(char *err, size_t errlen)
{
	if (l.running)
		return 0;
	l.stop = l.pending = false;
	/* no signals here (nor in the I/O threads it starts, which inherit this mask) */
	int e = thread__create(&l.thread, 0, true, launcher_thread, NULL);
	if (e) {
		snprintf(err, errlen, "cannot start the launcher thread: %s", strerror(e));
		return -1;
	}
	pthread_setname_np(l.thread, "launcher");
	l.running = true;
	return 0;
}

int launcher__call(int (*fn)(void *arg), void *arg)
{
	int r;

	if (l.running && pthread_equal(pthread_self(), l.thread))
		return fn(arg);	/* already here */
	pthread_mutex_lock(&l.call_lock);
	if (!l.running) {
		r = fn(arg);
		pthread_mutex_unlock(&l.call_lock);
		return r;
	}
	pthread_mutex_lock(&l.lock);
	l.fn = fn;
	l.arg = arg;
	l.pending = true;
	pthread_cond_broadcast(&l.cond);
	while (l.pending)
		pthread_cond_wait(&l.cond, &l.lock);
	r = l.result;
	pthread_mutex_unlock(&l.lock);
	pthread_mutex_unlock(&l.call_lock);
	return r;
}

void launcher__stop(void)
{
	if (!l.running)
		return;
	pthread_mutex_lock(&l.lock);
	l.stop = true;
	pthread_cond_broadcast(&l.cond);
	pthread_mutex_unlock(&l.lock);
	pthread_join(l.thread, NULL);
	l.running = false;
}
