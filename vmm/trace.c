/* SPDX-License-Identifier: Apache-2.0 */
/* --trace-exits recording: lock-free single-producer rings per vCPU, one writer thread, size limit. */
#include "vmm/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/thread.h"
#include "vmm/exit_decode.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define WRITER_PERIOD_MS 20

/* One vCPU's ring: head is advanced by the vCPU (release), tail by the writer (release). */
struct trace_vcpu {
	struct trace *t;
	struct trace_rec *ring;
	_Alignas(64) uint64_t head;
	uint64_t tail_seen;        /* the vCPU's last look at tail: re-read only when it looks full */
	uint64_t dropped_limit, dropped_behind;  /* written by the vCPU only */
	_Alignas(64) uint64_t tail;
};

struct trace {
	char path[TRACE_PATH_MAX];
	int fd, efd;
	pthread_t writer;
	bool writer_started;
	struct trace_filter filter;
	uint64_t launch_ns;
	uint64_t limit;            /* records that fit under max= */
	uint64_t written;          /* writer thread only */
	uint64_t dropped_limit;    /* writer thread only: drained past the limit */
	int full;                  /* atomic: the limit is reached, vCPUs stop recording */
	int stop;                  /* atomic: close requested */
	int write_errno;
	struct vm *vm;
	unsigned n;
	struct trace_vcpu *v;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void bump(uint64_t *p)
{
	__atomic_store_n(p, ld(p) + 1, __ATOMIC_RELAXED);
}

void trace__record(struct vcpu *v, uint64_t t0, uint64_t ns)
{
	struct trace_vcpu *tv = v->trace;
	struct trace *t = tv->t;
	const struct kvm_run *run = v->run;
	struct exit_access a;

	exit__decode(run, v->vm->kvm->run_size, &a);
	struct trace_rec r = {
		.t_ns = t0 - t->launch_ns, .addr = a.addr, .value = a.value,
		.handle_ns = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns, .count = a.count,
		.vcpu = (uint16_t)v->id,
		.reason = run->exit_reason > 0xffff ? 0xffff : (uint16_t)run->exit_reason,
		.bus = a.bus, .size = a.size, .flags = a.flags,
	};
	if ((a.bus == TRACE_BUS_PIO && !bus__find(&v->vm->pio, a.addr, a.size)) ||
	    (a.bus == TRACE_BUS_MMIO && !bus__find(&v->vm->mmio, a.addr, a.size)))
		r.flags |= TRACE_R_UNHANDLED;
	if (!trace__filter_match(&t->filter, &r))
		return;
	if (__atomic_load_n(&t->full, __ATOMIC_RELAXED)) {
		bump(&tv->dropped_limit);
		return;
	}
	uint64_t h = tv->head;
	if (h - tv->tail_seen >= TRACE_RING) {	/* keeps the writer's cache line where it is */
		tv->tail_seen = __atomic_load_n(&tv->tail, __ATOMIC_ACQUIRE);
		if (h - tv->tail_seen >= TRACE_RING) {
			bump(&tv->dropped_behind);
			return;
		}
	}
	tv->ring[h & (TRACE_RING - 1)] = r;
	__atomic_store_n(&tv->head, h + 1, __ATOMIC_RELEASE);
	if (((h + 1) & (TRACE_RING / 4 - 1)) == 0) {	/* every quarter ring: wake the writer */
		uint64_t one = 1;
		if (write(t->efd, &one, sizeof(one)) < 0) {
			/* the writer still wakes on its period */
		}
	}
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves everything in one ring to the file (or, past the limit, counts it dropped). */
static void drain(struct trace *t, struct trace_vcpu *tv)
{
	uint64_t h = __atomic_load_n(&tv->head, __ATOMIC_ACQUIRE), tl = tv->tail;

	while (tl < h) {
		uint64_t idx = tl & (TRACE_RING - 1);
		uint64_t k = h - tl < TRACE_RING - idx ? h - tl : TRACE_RING - idx;
		uint64_t room = t->written < t->limit && !t->write_errno ? t->limit - t->written : 0;
		uint64_t w = k < room ? k : room;
		if (w) {
			int e = write_all(t->fd, &tv->ring[idx], w * sizeof(struct trace_rec));
			if (e) {
				t->write_errno = e;
				w = 0;	/* a partial record may be there: parse stops at it */
			}
			t->written += w;
		}
		t->dropped_limit += k - w;
		if (k > w)
			__atomic_store_n(&t->full, 1, __ATOMIC_RELAXED);
		tl += k;
		__atomic_store_n(&tv->tail, tl, __ATOMIC_RELEASE);
	}
}

static void *writer_thread(void *arg)
{
	struct trace *t = arg;
	sigset_t set;

	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	seccomp__enter(SECCOMP_KIND_TRACE);
	for (;;) {
		bool stop = __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE);
		for (unsigned i = 0; i < t->n; i++)
			drain(t, &t->v[i]);
		if (stop)
			break;
		struct pollfd p = { .fd = t->efd, .events = POLLIN };
		if (poll(&p, 1, WRITER_PERIOD_MS) > 0) {
			uint64_t x;
			if (read(t->efd, &x, sizeof(x)) < 0) {
				/* nonblocking: nothing to clear */
			}
		}
	}
	return NULL;
}

static void trace_free(struct trace *t)
{
	if (!t)
		return;
	for (unsigned i = 0; t->v && i < t->n; i++)
		free(t->v[i].ring);
	free(t->v);
	if (t->fd >= 0)
		close(t->fd);
	if (t->efd >= 0)
		close(t->efd);
	free(t);
}

int trace__create_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		snprintf(err, errlen, "--trace-exits: cannot write %s: %s", path, strerror(errno));
	return fd;
}

int trace__open(struct trace **out, const struct trace_opts *o, struct vm *vm,
		uint64_t launch_ns, char *err, size_t errlen)
{
	return trace__open_fd(out, o, vm, launch_ns, -1, err, errlen);
}

int trace__open_fd(struct trace **out, const struct trace_opts *o, struct vm *vm,
		   uint64_t launch_ns, int fd, char *err, size_t errlen)
{
	struct trace *t = calloc(1, sizeof(*t));
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
	size_t plen;
	void *pro = NULL;

	*out = NULL;
	if (!t) {
		if (fd >= 0)
			close(fd);
		goto oom;
	}
	t->fd = fd;
	t->efd = -1;
	snprintf(t->path, sizeof(t->path), "%s", o->path);
	t->filter = o->filter;
	t->launch_ns = launch_ns && launch_ns <= mono ? launch_ns : mono;
	t->vm = vm;
	t->n = vm->ncpus;
	if (o->filter.vcpu >= 0 && (unsigned)o->filter.vcpu >= vm->ncpus) {
		snprintf(err, errlen, "--trace-exits: vcpu=%d, but the VM has %u vCPU%s",
			 o->filter.vcpu, vm->ncpus, vm->ncpus == 1 ? "" : "s");
		trace_free(t);
		return -1;
	}
	t->v = calloc(t->n ? t->n : 1, sizeof(*t->v));
	if (!t->v)
		goto oom;
	for (unsigned i = 0; i < t->n; i++) {
		t->v[i].t = t;
		if (o->filter.vcpu >= 0 && (unsigned)o->filter.vcpu != i)
			continue;	/* never records: no ring */
		t->v[i].ring = malloc(TRACE_RING * sizeof(struct trace_rec));
		if (!t->v[i].ring)
			goto oom;
	}
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->efd < 0) {
		snprintf(err, errlen, "--trace-exits: eventfd: %s", strerror(errno));
		trace_free(t);
		return -1;
	}
	pro = trace_file__prologue(vm->ncpus, &vm->pio, &vm->mmio, real - (mono - t->launch_ns),
				   &plen);
	if (!pro)
		goto oom;
	t->limit = o->max_bytes > plen ? (o->max_bytes - plen) / sizeof(struct trace_rec) : 0;
	if (t->fd < 0)
		t->fd = open(o->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int e = t->fd < 0 ? errno : write_all(t->fd, pro, plen);
	free(pro);
	if (e) {
		snprintf(err, errlen, "--trace-exits: cannot write %s: %s", o->path, strerror(e));
		trace_free(t);
		return -1;
	}
	e = thread__create(&t->writer, 0, false, writer_thread, t);
	if (e) {
		snprintf(err, errlen, "--trace-exits: cannot start the writer thread: %s", strerror(e));
		trace_free(t);
		return -1;
	}
	t->writer_started = true;
	pthread_setname_np(t->writer, "trace-writer");
	for (unsigned i = 0; i < t->n; i++)
		if (t->v[i].ring)
			vm->vcpus[i].trace = &t->v[i];
	*out = t;
	return 0;
oom:
	snprintf(err, errlen, "--trace-exits: out of memory");
	trace_free(t);
	return -1;
}

int trace__close(struct trace *t, FILE *report, bool only_problems, struct trace_counts *c)
{
	struct trace_counts n = { 0 };
	int r = 0;

	if (!t)
		return 0;
	if (t->writer_started) {
		uint64_t one = 1;
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		if (write(t->efd, &one, sizeof(one)) < 0) {
			/* it wakes on its period anyway */
		}
		pthread_join(t->writer, NULL);
	}
	for (unsigned i = 0; i < t->n; i++) {
		drain(t, &t->v[i]);	/* nothing left after the writer's last pass; cheap */
		n.dropped_limit += ld(&t->v[i].dropped_limit);
		n.dropped_behind += ld(&t->v[i].dropped_behind);
		if (t->vm->vcpus[i].trace == &t->v[i])
			t->vm->vcpus[i].trace = NULL;
	}
	n.written = t->written;
	n.dropped_limit += t->dropped_limit;
	if (!t->write_errno && trace_file__finish(t->fd, n.written,
						  n.dropped_limit + n.dropped_behind))
		t->write_errno = errno ? errno : EIO;
	if (t->write_errno) {
		r = -1;
		if (report)
			fprintf(report, "kvmini: warning: --trace-exits: writing %s failed: %s "
				"(%" PRIu64 " records written before that)\n", t->path,
				strerror(t->write_errno), n.written);
	} else if (report && (!only_problems || n.dropped_limit || n.dropped_behind)) {
		fprintf(report, "kvmini: trace %s: %" PRIu64 " exit records written, %" PRIu64
			" dropped", t->path, n.written, n.dropped_limit + n.dropped_behind);
		if (n.dropped_limit)
			fprintf(report, " (%" PRIu64 " past the size limit)", n.dropped_limit);
		if (n.dropped_behind)
			fprintf(report, " (%" PRIu64 " while the writer was behind)",
				n.dropped_behind);
		fputc('\n', report);
	}
	if (c)
		*c = n;
	trace_free(t);
	return r;
}
