/* SPDX-License-Identifier: Apache-2.0 */
/* The seccomp allow-lists, one per thread kind: what each kvmini thread may call after setup. */
#include "vmm/seccomp_rules.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

/*
 * Every filter is built from these sets (docs/reliability.md#seccomp lists them in prose).
 * Whatever a set does not name ends the process with "kvmini: seccomp: blocked syscall NAME
 * (NR) in KIND thread" (--seccomp=on) or is logged by the kernel (--seccomp=log).
 *
 * Arguments are checked where it is cheap and means something: ioctl by request number,
 * no executable mappings, clone only for threads, tgkill only inside kvmini, seccomp only
 * to add a filter. File descriptors are not: which numbers a thread uses is decided at run
 * time, and every fd it holds was opened during setup.
 */

/* Every thread: memory (malloc, thread stacks; never executable), locks, time, signals,
 * messages on stderr, leaving, and restoring the terminal from the SIGSYS handler. */
static const struct seccomp_rule common[] = {
	ALLOW(write),                   /* stderr messages, eventfd signals, console output */
	ALLOW(futex),                   /* mutexes, condition variables, pthread_join */
	ALLOW(exit),                    /* a thread returning */
	ALLOW(exit_group),
	ALLOW(rt_sigreturn),            /* the vCPU kick handler returns through it */
	ALLOW(rt_sigprocmask),
	ALLOW(restart_syscall),
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW(sched_yield),
	ALLOW(clock_gettime),           /* CLOCK_PROCESS_CPUTIME_ID is not in the vDSO */
	ALLOW(clock_nanosleep),
	ALLOW(nanosleep),
	ALLOW(getrandom),               /* glibc's malloc and json-c's hash seed (the reports) */
	ALLOW(brk),
	ALLOW1(mmap, ARG_MASKED(2, PROT_EXEC, 0)),
	ALLOW1(mprotect, ARG_MASKED(2, PROT_EXEC, 0)),
	ALLOW(munmap),
	ALLOW(mremap),
	ALLOW(madvise),
	ALLOW(sigaltstack),             /* sanitizer runtimes, as a thread ends */
	ALLOW1(tgkill, ARG_EQ(0, SECCOMP_ARG_PID)),   /* kicks, abort(): our own threads */
	ALLOW2(ioctl, ARG_EQ(0, 0), ARG_EQ(1, TCSETSF)), /* console__restore on stdin */
};

/* The main thread after setup: the console loop (stdin, signalfd, serial input raising
 * COM1's IRQ), exit statistics on SIGUSR1, kicking and joining the other threads, the
 * trace file's final header, and tearing everything down. */
static const struct seccomp_rule main_thread[] = {
	ALLOW(read),                    /* stdin, the signalfd */
	ALLOW(mincore),                 /* exit statistics: each disk's host page cache */
	ALLOW(poll),
	ALLOW(ppoll),
	ALLOW(close),
	ALLOW(signalfd4),               /* the console loop's signalfd */
	ALLOW(pread64),                 /* KVM's binary stats fds, smaps, the trace header */
	ALLOW(pwrite64),                /* the trace header, completed */
	ALLOW(io_uring_enter),          /* closing an io_uring disk waits for what is in flight */
	IOCTL(KVM_IRQ_LINE),            /* serial input raises COM1's interrupt */
	IOCTL(KVM_IOEVENTFD),           /* virtio-pci teardown unhooks its notify ioeventfds */
	IOCTL(TCGETS),                  /* isatty */
	ALLOW_IF(openat, SECCOMP_IF_STATS_FILE),      /* PATH.tmp */
	ALLOW_IF(newfstatat, SECCOMP_IF_STATS_FILE),  /* stdio sizing its buffer */
	ALLOW_IF(fstat, SECCOMP_IF_STATS_FILE),
	ALLOW_IF(rename, SECCOMP_IF_STATS_FILE),      /* PATH.tmp -> PATH */
	ALLOW_IF(unlink, SECCOMP_IF_GDB_UNIX),        /* the gdb socket at the end */
	ALLOW_IF(unlink, SECCOMP_IF_VSOCK_UNIX),      /* hybrid vsock's socket at the end */
	ALLOW_IF(unlinkat, SECCOMP_IF_VSOCK_UNIX),    /* (unlink() on arm64) */
};

/* A vCPU: KVM_RUN and what its exit handlers do. PIO/MMIO devices run here: serial output
 * (write, poll while the console is full, swallowing our own SIGPIPE), interrupt lines
 * (KVM_IRQ_LINE, irqfd writes), MSI-X routes (KVM_SET_GSI_ROUTING), virtio-pci notify
 * ioeventfds following BAR 0, virtio status writes (kick eventfds drained; starting and
 * stopping I/O threads is handed to the launcher), a stop request, the crash dump
 * (registers, address translation for the code bytes) and the gdb hooks (a breakpoint given
 * back): those ioctls are the architecture's (seccomp_arch_vcpu). */
static const struct seccomp_rule vcpu[] = {
	IOCTL(KVM_RUN),
	IOCTL(KVM_IRQ_LINE),
	IOCTL(KVM_SET_GSI_ROUTING),
	IOCTL(KVM_IOEVENTFD),
	ALLOW(read),                    /* draining kick eventfds on a virtio reset */
	ALLOW(poll),                    /* waiting for the console to take output */
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	ALLOW(rt_sigtimedwait),         /* swallowing the SIGPIPE of a vanished console reader */
};

/* A virtio-blk queue's I/O thread: its kick, completion and stop eventfds, and the disk
 * through either engine: preadv/pwritev/fdatasync (sync), io_uring_enter (io_uring),
 * discard and write-zeroes (fallocate on files, BLKDISCARD/BLKZEROOUT on block devices);
 * completions go out as irqfd writes, or as KVM_IRQ_LINE for virtio-pci's INTx. */
static const struct seccomp_rule blk[] = {
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),
	ALLOW(pread64),
	ALLOW(pwrite64),
	ALLOW(preadv),
	ALLOW(pwritev),
	ALLOW(preadv2),
	ALLOW(pwritev2),
	ALLOW(fdatasync),
	ALLOW(fsync),
	ALLOW(fallocate),
	ALLOW(io_uring_enter),
	IOCTL(BLKDISCARD),
	IOCTL(BLKZEROOUT),
	IOCTL(KVM_IRQ_LINE),            /* virtio-pci INTx (a driver without MSI-X) */
};

/* The launcher (vmm/launcher.c) runs device activation and reset for the vCPUs: it opens
 * per-queue I/O contexts (io_uring_setup/register, eventfd), starts I/O threads (clone for
 * threads only; clone3 fails with ENOSYS so glibc falls back to clone, whose flags a filter
 * can see), which name themselves and enter their own filter, and joins and closes them.
 * Its I/O threads inherit this filter, so it holds the I/O thread's set too. */
static const struct seccomp_rule launcher[] = {
	ALLOW1(clone, ARG_MASKED(0, CLONE_THREAD, CLONE_THREAD)),
	{ .nr = SCMP_SYS(clone3), .err = ENOSYS },
	ALLOW(set_robust_list),         /* a new thread's first calls */
	ALLOW(rseq),
	ALLOW(sched_getaffinity),       /* sanitizer runtimes, as a thread starts */
	ALLOW1(prctl, ARG_EQ(0, PR_SET_NAME)),
	ALLOW1(seccomp, ARG_EQ(0, SECCOMP_SET_MODE_FILTER)),  /* an I/O thread adding its own */
	ALLOW(io_uring_setup),
	ALLOW(io_uring_register),
	ALLOW(eventfd2),
	ALLOW(close),
	/* virtio-net: the tap's offloads as the driver negotiated them, its queues attached and
	 * detached; and what its queue pair threads do beyond the blk set (they inherit this) */
	IOCTL(TUNSETOFFLOAD),
	IOCTL(TUNSETQUEUE),
	ALLOW(writev),
	/* hybrid vsock's thread, which inherits this filter: what it does beyond the blk set (its
	 * own list, vsock below, is the same; sockets AF_UNIX only) */
	ALLOW(readv),
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(accept4),
	ALLOW1(socket, ARG_EQ(0, AF_UNIX)),
	ALLOW(connect),
	ALLOW(recvfrom),
	ALLOW(sendto),
	ALLOW(shutdown),
	/* vhost-net: the data path handed to the host kernel at DRIVER_OK, taken back at reset */
	IOCTL(VHOST_SET_OWNER),
	IOCTL(VHOST_RESET_OWNER),
	IOCTL(VHOST_SET_FEATURES),
	IOCTL(VHOST_SET_MEM_TABLE),
	IOCTL(VHOST_SET_VRING_NUM),
	IOCTL(VHOST_SET_VRING_BASE),
	IOCTL(VHOST_SET_VRING_ADDR),
	IOCTL(VHOST_SET_VRING_KICK),
	IOCTL(VHOST_SET_VRING_CALL),
	IOCTL(VHOST_NET_SET_BACKEND),
	IOCTL(VHOST_VSOCK_SET_RUNNING), /* vhost-vsock: started at DRIVER_OK, stopped at reset */
};

/* The --trace-exits writer: its wake-up eventfd and the trace file. */
static const struct seccomp_rule trace_writer[] = {
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
};

/* The gdb stub: one connection at a time on the listening socket, and the vCPUs' state
 * while they are parked (registers, FPU, address translation, guest debug: the
 * architecture's ioctls, seccomp_arch_gdb). */
static const struct seccomp_rule gdb[] = {
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	ALLOW(accept4),
	ALLOW(recvfrom),
	ALLOW(sendto),
	ALLOW(setsockopt),
	ALLOW(close),
};

/* The --api-socket server (vmm/api.c): libmicrohttpd's epoll loop on the listening socket
 * (accepting, reading requests, sending replies with MSG_NOSIGNAL, shutting a connection's
 * write side after a Connection: close reply), its stop eventfd, the exit statistics
 * (KVM's binary stats fds and /proc/self/smaps, read with pread), and at the end closing
 * the connections and removing the socket. Pausing only kicks the vCPUs (tgkill, common). */
static const struct seccomp_rule api[] = {
	ALLOW(read),                    /* the stop eventfd */
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),             /* epoll_wait() where glibc has only epoll_pwait (arm64) */
	ALLOW(epoll_ctl),
	ALLOW(accept4),
	ALLOW(recvfrom),
	ALLOW(sendto),
	ALLOW(sendmsg),                 /* headers and body in one call */
	ALLOW(shutdown),
	ALLOW(close),
	ALLOW(pread64),                 /* vm.exit-stats, vm.memory */
	ALLOW(mincore),                 /* vm.memory: each disk's host page cache */
	IOCTL(KVM_IRQ_LINE),            /* vm.power-button: the board's GPIO line (arm64) */
	ALLOW(unlink),                  /* the socket, at the end */
	ALLOW(unlinkat),
	/* glibc shrinking this thread's malloc arena reads /proc/sys/vm/overcommit_memory
	 * once; refused, it just does not shrink (it opens nothing else) */
	{ .nr = SCMP_SYS(openat), .err = EACCES },
};

/* The virtio-balloon thread (virtio/balloon.c): its kicks, the stop and statistics eventfds,
 * interrupts (an irqfd write; virtio-pci INTx through KVM_IRQ_LINE), and giving pages back
 * (madvise, in common). */
static const struct seccomp_rule balloon[] = {
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	IOCTL(KVM_IRQ_LINE),
};

/* The virtio-rng thread (virtio/rng.c): its kick and stop eventfds, waiting out the rate
 * limit (poll with a timeout), the bytes themselves (getrandom, in common) and interrupts. */
static const struct seccomp_rule rng[] = {
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	IOCTL(KVM_IRQ_LINE),
};

/* A virtio-net queue pair's thread (virtio/net_io.c): its kicks and stop eventfd, the tap
 * queue (read a frame, writev a frame), interrupts; pair 0's thread also serves the control
 * queue, whose VQ_PAIRS_SET attaches and detaches tap queues. */
static const struct seccomp_rule net[] = {
	ALLOW(read),
	ALLOW(writev),
	IOCTL(TUNSETQUEUE),
	ALLOW(poll),
	ALLOW(ppoll),                   /* poll() where glibc has only ppoll (arm64) */
	IOCTL(KVM_IRQ_LINE),
};

/* The hybrid virtio-vsock thread (virtio/vsock_hy*.c): one epoll set over its kicks, its
 * stop eventfd, the listening socket and each connection's; accepting host connections,
 * connecting guest ones to PATH_<port> (AF_UNIX only), bytes both ways (send with
 * MSG_NOSIGNAL), half-closing and closing them; interrupts. */
static const struct seccomp_rule vsock[] = {
	ALLOW(read),                    /* eventfds */
	ALLOW(readv),                   /* host bytes straight into the guest's buffers */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),             /* epoll_wait() where glibc has only epoll_pwait (arm64) */
	ALLOW(epoll_ctl),
	ALLOW(accept4),
	ALLOW1(socket, ARG_EQ(0, AF_UNIX)),
	ALLOW(connect),
	ALLOW(recvfrom),                /* the CONNECT line (MSG_PEEK) */
	ALLOW(sendto),
	ALLOW(shutdown),
	ALLOW(close),
	IOCTL(KVM_IRQ_LINE),
};

static const struct seccomp_ruleset set_common = SET("common", common);
static const struct seccomp_ruleset set_main = SET("main", main_thread);
static const struct seccomp_ruleset set_vcpu = SET("vcpu", vcpu);
static const struct seccomp_ruleset set_blk = SET("blk", blk);
static const struct seccomp_ruleset set_launcher = SET("launcher", launcher);
static const struct seccomp_ruleset set_trace = SET("trace", trace_writer);
static const struct seccomp_ruleset set_gdb = SET("gdb", gdb);
static const struct seccomp_ruleset set_api = SET("api", api);
static const struct seccomp_ruleset set_balloon = SET("balloon", balloon);
static const struct seccomp_ruleset set_rng = SET("rng", rng);
static const struct seccomp_ruleset set_net = SET("net", net);
static const struct seccomp_ruleset set_vsock = SET("vsock", vsock);

const struct seccomp_ruleset *const seccomp_kind_sets[SECCOMP_KIND_COUNT][SECCOMP_MAX_SETS] = {
	[SECCOMP_KIND_MAIN]     = { &set_common, &set_main },
	[SECCOMP_KIND_VCPU]     = { &set_common, &set_vcpu, &seccomp_arch_vcpu },
	[SECCOMP_KIND_BLK]      = { &set_common, &set_blk },
	[SECCOMP_KIND_LAUNCHER] = { &set_common, &set_blk, &set_launcher },
	[SECCOMP_KIND_TRACE]    = { &set_common, &set_trace },
	[SECCOMP_KIND_GDB]      = { &set_common, &set_gdb, &seccomp_arch_gdb },
	[SECCOMP_KIND_API]      = { &set_common, &set_api },
	[SECCOMP_KIND_BALLOON]  = { &set_common, &set_balloon },
	[SECCOMP_KIND_RNG]      = { &set_common, &set_rng },
	[SECCOMP_KIND_NET]      = { &set_common, &set_net },
	[SECCOMP_KIND_VSOCK]    = { &set_common, &set_vsock },
};
