// SPDX-License-Identifier: Apache-2.0
/* iogen: a small O_DIRECT load generator (io_uring, fixed queue depth) for guest and host. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD 256
#define MAX_SAMPLES (1 << 22)

struct opts {
	const char *path;
	bool write, random;
	unsigned bs, qd;
	double seconds, warmup;
	uint64_t span;	/* -S: use only the first SPAN bytes (0: all) */
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: iogen [-w] [-s] [-b BYTES] [-q DEPTH] [-t SECONDS] [-W WARMUP] [-S BYTES] FILE\n"
		"  O_DIRECT I/O through io_uring at a fixed queue depth: random reads by default,\n"
		"  -w writes, -s sequential; -b block size (4096), -q depth 1..%d (1), -t run time (5),\n"
		"  -W warm-up seconds not counted (1), -S use only the first BYTES of FILE (all).\n"
		"  Prints one line of key=value results (ios_all: I/Os including the warm-up).\n", MAX_QD);
	exit(2);
}

static struct opts parse(int argc, char **argv)
{
	struct opts o = { .bs = 4096, .qd = 1, .seconds = 5, .warmup = 1, .random = true };
	int c;
	while ((c = getopt(argc, argv, "wsb:q:t:W:S:")) != -1) {
		switch (c) {
		case 'w': o.write = true; break;
		case 's': o.random = false; break;
		case 'b': o.bs = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': o.qd = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': o.seconds = atof(optarg); break;
		case 'W': o.warmup = atof(optarg); break;
		case 'S': o.span = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind + 1 != argc || o.bs < 512 || o.bs % 512 || o.qd < 1 || o.qd > MAX_QD ||
	    o.seconds <= 0 || o.warmup < 0)
		usage();
	o.path = argv[optind];
	return o;
}

/* Queues the next I/O of slot i: the next sequential or a random block. */
static void queue_io(struct io_uring *ring, const struct opts *o, int fd, void *buf, unsigned i,
		     uint64_t blocks, uint64_t *seq)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t blk = o->random ? next_rand() % blocks : (*seq)++ % blocks;

	if (o->write)
		io_uring_prep_write(sqe, fd, buf, o->bs, blk * o->bs);
	else
		io_uring_prep_read(sqe, fd, buf, o->bs, blk * o->bs);
	io_uring_sqe_set_data64(sqe, i);
}

int main(int argc, char **argv)
{
	struct opts o = parse(argc, argv);
	int fd = open(o.path, (o.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "iogen: %s: %s\n", o.path, strerror(errno));
		return 1;
	}
	uint64_t size = 0;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		ioctl(fd, BLKGETSIZE64, &size);
	else
		size = (uint64_t)st.st_size;
	if (o.span && o.span < size)
		size = o.span;
	uint64_t blocks = size / o.bs;
	if (blocks == 0) {
		fprintf(stderr, "iogen: %s is smaller than one block\n", o.path);
		return 1;
	}
	struct io_uring ring;
	int e = io_uring_queue_init(o.qd, &ring, 0);
	if (e < 0) {
		fprintf(stderr, "iogen: io_uring_queue_init: %s\n", strerror(-e));
		return 1;
	}
	void *buf[MAX_QD];
	uint64_t start[MAX_QD], seq = 0;
	for (unsigned i = 0; i < o.qd; i++) {
		if (posix_memalign(&buf[i], 4096, o.bs))
			return 1;
		memset(buf[i], 0x5a, o.bs);
	}
	uint32_t *lat = malloc(MAX_SAMPLES * sizeof(*lat));
	uint64_t n = 0, all = 0, bytes = 0, errors = 0, lat_sum_ns = 0;
	uint64_t t0 = now_ns(), measure_from = t0 + (uint64_t)(o.warmup * 1e9);
	uint64_t end = measure_from + (uint64_t)(o.seconds * 1e9), measured_start = 0;

	for (unsigned i = 0; i < o.qd; i++) {	/* fill the queue */
		queue_io(&ring, &o, fd, buf[i], i, blocks, &seq);
		start[i] = now_ns();
	}
	io_uring_submit(&ring);
	unsigned inflight = o.qd;
	bool stopping = false;
	while (inflight) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			break;
		unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		uint64_t t = now_ns();
		all++;
		if (res != (int)o.bs)
			errors++;
		if (t >= measure_from && !stopping) {
			if (!measured_start)
				measured_start = t;
			if (n < MAX_SAMPLES)
				lat[n] = (uint32_t)((t - start[i]) / 1000);
			lat_sum_ns += t - start[i];
			n++;
			bytes += o.bs;
		}
		if (t >= end)
			stopping = true;
		if (stopping)
			continue;
		queue_io(&ring, &o, fd, buf[i], i, blocks, &seq);
		start[i] = t;
		io_uring_submit(&ring);
		inflight++;
	}
	double secs = measured_start ? (double)(now_ns() - measured_start) / 1e9 : 0;
	uint64_t kept = n < MAX_SAMPLES ? n : MAX_SAMPLES;
	qsort(lat, kept, sizeof(*lat), cmp_u32);
#define PCT(p) (kept ? lat[(uint64_t)((double)(kept - 1) * (p))] : 0)
	printf("iogen: %s %s bs=%u qd=%u ios=%" PRIu64 " secs=%.2f iops=%.0f mbps=%.1f "
	       "lat_p50_us=%u lat_p99_us=%u lat_p999_us=%u errors=%" PRIu64 " ios_all=%" PRIu64
	       " lat_mean_us=%.1f\n",
	       o.random ? "rand" : "seq", o.write ? "write" : "read", o.bs, o.qd, n, secs,
	       secs > 0 ? (double)n / secs : 0, secs > 0 ? (double)bytes / secs / 1e6 : 0,
	       PCT(0.5), PCT(0.99), PCT(0.999), errors, all, n ? (double)lat_sum_ns / (double)n / 1e3 : 0);
	io_uring_queue_exit(&ring);
	close(fd);
	free(lat);
	return errors ? 1 : 0;
}
