/* SPDX-License-Identifier: Apache-2.0 */
/* A 16550A UART as Linux's 8250 driver sees it: registers, FIFOs, interrupts, host I/O. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"

/* Register offsets (DLAB is LCR bit 7: it turns offsets 0 and 1 into the divisor latch). */
enum {
	UART_RX = 0, UART_TX = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
	UART_NR_REGS = 8,
};

#define UART_IER_RDI     0x01 /* received data available */
#define UART_IER_THRI    0x02 /* transmit holding register empty */
#define UART_IER_RLSI    0x04 /* receiver line status */
#define UART_IER_MSI     0x08 /* modem status */
#define UART_IER_MASK    0x0f

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_CTI     0x0c /* character timeout: data below the trigger level */
#define UART_IIR_ID      0x0f
#define UART_IIR_FIFO    0xc0 /* both bits set: a 16550A with FIFOs enabled */

#define UART_FCR_FE      0x01 /* enable FIFOs */
#define UART_FCR_RFR     0x02 /* clear receive FIFO */
#define UART_FCR_XFR     0x04 /* clear transmit FIFO */
#define UART_FCR_KEEP    0xc9 /* enable, DMA mode and trigger level are remembered */
#define UART_FCR_TRIG(f) (((f) >> 6) & 3)

#define UART_LCR_DLAB    0x80

#define UART_MCR_DTR     0x01
#define UART_MCR_RTS     0x02
#define UART_MCR_OUT1    0x04
#define UART_MCR_OUT2    0x08
#define UART_MCR_LOOP    0x10
#define UART_MCR_MASK    0x1f

#define UART_LSR_DR      0x01
#define UART_LSR_OE      0x02
#define UART_LSR_BI      0x10
#define UART_LSR_THRE    0x20
#define UART_LSR_TEMT    0x40
#define UART_LSR_ERRORS  0x1e /* OE, PE, FE, BI: cleared by reading LSR */

#define UART_MSR_DCTS    0x01
#define UART_MSR_DDSR    0x02
#define UART_MSR_TERI    0x04
#define UART_MSR_DDCD    0x08
#define UART_MSR_DELTAS  0x0f
#define UART_MSR_CTS     0x10
#define UART_MSR_DSR     0x20
#define UART_MSR_RI      0x40
#define UART_MSR_DCD     0x80

#define SERIAL_FIFO_LEN  16   /* what the guest's receive FIFO holds */
#define SERIAL_RXBUF_LEN 1024 /* host-side input waiting to "arrive" at the FIFO */
#define SERIAL_OUT_WAIT_MS 1000 /* longest a stuck out_fd may hold up the guest, once */

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	int out_fd;
	bool out_guard_sigpipe; /* out_fd is a pipe or socket and SIGPIPE is not ignored */
	bool out_stalled;       /* out_fd did not drain in time: drop instead of waiting */
	int out_err;            /* errno of the failed write: output is dropped from then on */
	uint64_t out_dropped;

	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm, msr;
	uint8_t lsr_errors;     /* sticky LSR error bits */
	uint8_t rbr;            /* last byte read, returned again when nothing is there */
	bool thr_ipending;      /* THRE interrupt latched; cleared by an IIR read that reports it */
	bool irq_level;         /* what the interrupt line was last set to */
	bool raised_since_iir;  /* the line rose after the guest last read IIR */

	uint8_t rx[SERIAL_RXBUF_LEN];
	size_t rx_head, rx_count;
};

/* ---- receive buffer ---- */

static size_t serial__fifo_len(const struct serial *s)
{
	return (s->fcr & UART_FCR_FE) ? SERIAL_FIFO_LEN : 1;
}

/* Bytes the guest's FIFO holds: the host buffer beyond that has not "arrived" yet. */
static size_t serial__fifo_count(const struct serial *s)
{
	size_t n = serial__fifo_len(s);

	return s->rx_count < n ? s->rx_count : n;
}

static bool serial__rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count == SERIAL_RXBUF_LEN)
		return false;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RXBUF_LEN] = b;
	s->rx_count++;
	return true;
}

static uint8_t serial__rx_pop(struct serial *s)
{
	uint8_t b = s->rx[s->rx_head];

	s->rx_head = (s->rx_head + 1) % SERIAL_RXBUF_LEN;
	s->rx_count--;
	return b;
}

/* FCR "clear receive FIFO": what has arrived in the FIFO goes; later input stays queued. */
static void serial__rx_clear(struct serial *s)
{
	size_t n = serial__fifo_count(s);

	s->rx_head = (s->rx_head + n) % SERIAL_RXBUF_LEN;
	s->rx_count -= n;
}

/* ---- interrupts ---- */

static bool serial__rx_below_trigger(const struct serial *s)
{
	static const uint8_t trigger[4] = { 1, 4, 8, 14 };

	return serial__fifo_count(s) < trigger[UART_FCR_TRIG(s->fcr)];
}

/* IIR as the guest would read it now: the highest-priority enabled source, plus FIFO bits. */
static uint8_t serial__iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_FE) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RLSI) && s->lsr_errors)
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | (fifo && serial__rx_below_trigger(s) ? UART_IIR_CTI : UART_IIR_RDI);
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTAS))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

/* Drives the line to "some enabled interrupt is pending"; only changes reach irq_line. */
static void serial__update_irq(struct serial *s)
{
	bool level = !(serial__iir(s) & UART_IIR_NO_INT);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (level)
		s->raised_since_iir = true;
	irq_line__set(&s->irq, level);
}

/* ---- modem lines ---- */

/* The modem inputs: in loopback they are MCR's outputs, else a host that is always there. */
static uint8_t serial__modem_lines(const struct serial *s)
{
	uint8_t m = s->mcr, lines = 0;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (m & UART_MCR_RTS)
		lines |= UART_MSR_CTS;
	if (m & UART_MCR_DTR)
		lines |= UART_MSR_DSR;
	if (m & UART_MCR_OUT1)
		lines |= UART_MSR_RI;
	if (m & UART_MCR_OUT2)
		lines |= UART_MSR_DCD;
	return lines;
}

static void serial__update_msr(struct serial *s)
{
	uint8_t old = s->msr, now = serial__modem_lines(s), changed = old ^ now;
	uint8_t deltas = old & UART_MSR_DELTAS;

	if (changed & UART_MSR_CTS)
		deltas |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		deltas |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		deltas |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		deltas |= UART_MSR_DDCD;
	s->msr = now | deltas;
}

/* ---- host output ---- */

/* Waits for out_fd to take a byte: 1 ready, 0 not within ms, -1 broken (no reader, hung up). */
static int serial__out_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r, tries = 0;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR && ++tries < 4);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -1;
	return (p.revents & POLLOUT) ? 1 : 0;
}

/* One write(); a reader vanishing in between must not kill the VMM with SIGPIPE. */
static ssize_t serial__write1(const struct serial *s, uint8_t b)
{
	static const struct timespec no_wait = { 0, 0 };
	sigset_t pipe_set, old;
	ssize_t n;
	int err;

	if (!s->out_guard_sigpipe)
		return write(s->out_fd, &b, 1);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(s->out_fd, &b, 1);
	err = errno;
	if (n < 0 && err == EPIPE)
		sigtimedwait(&pipe_set, NULL, &no_wait); /* swallow the SIGPIPE we caused */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

static void serial__out_drop(struct serial *s, int err)
{
	/* one line however long the guest goes on: the total is printed at exit */
	if (s->out_dropped++ == 0)
		fprintf(stderr, "kvmini: the console output does not drain (%s): guest output is "
			"dropped while it does not\n", err ? strerror(err) : "stalled");
	if (err)
		s->out_err = err;
	else
		s->out_stalled = true;
}

/* Sends one byte to out_fd, never blocking for long: a stuck fd is waited for once, then
 * bytes are dropped until it drains; a broken one is given up for good. */
static void serial__out(struct serial *s, uint8_t b)
{
	int tries = 0;

	if (s->out_fd < 0 || s->out_err)
		return;
	for (;;) {
		int ready = serial__out_wait(s->out_fd, s->out_stalled ? 0 : SERIAL_OUT_WAIT_MS);

		ssize_t n;

		if (ready <= 0) {
			serial__out_drop(s, ready < 0 ? EPIPE : 0);
			return;
		}
		n = serial__write1(s, b);
		if (n == 1) {
			s->out_stalled = false;
			return;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (++tries < 4)
				continue;
			serial__out_drop(s, 0);
			return;
		}
		serial__out_drop(s, n < 0 ? errno : EIO);
		return;
	}
}

/* ---- registers ---- */

/* The byte leaves at once: to out_fd, or back into the receiver in loopback. */
static void serial__transmit(struct serial *s, uint8_t b)
{
	if (!(s->mcr & UART_MCR_LOOP))
		serial__out(s, b);
	else if (s->rx_count >= serial__fifo_len(s) || !serial__rx_push(s, b))
		s->lsr_errors |= UART_LSR_OE;
}

static void serial__write_thr(struct serial *s, uint8_t b)
{
	/* Writing THR clears the THRE interrupt until the byte has gone, which is at once. On a
	 * real UART the line dips here; keep one dip per IIR read so an edge-triggered guest
	 * that did not clear IIR still gets a fresh edge, without two irq updates per byte. */
	s->thr_ipending = false;
	if (!s->raised_since_iir)
		serial__update_irq(s);
	serial__transmit(s, b);
	s->thr_ipending = true;
}

static void serial__write_ier(struct serial *s, uint8_t v)
{
	uint8_t old = s->ier;

	s->ier = v & UART_IER_MASK;
	/* Enabling THRI while THR is empty (always, here) raises THRE at once, even if an IIR
	 * read had cleared it; Linux's THRE and TXEN probes rely on it. */
	if ((old ^ s->ier) & UART_IER_THRI)
		s->thr_ipending = s->ier & UART_IER_THRI;
}

static void serial__write_fcr(struct serial *s, uint8_t v)
{
	if ((v ^ s->fcr) & UART_FCR_FE) /* switching FIFO mode empties both FIFOs */
		v |= UART_FCR_RFR | UART_FCR_XFR;
	if (v & UART_FCR_RFR)
		serial__rx_clear(s);
	/* UART_FCR_XFR: transmission is immediate, the transmit FIFO is always empty. */
	s->fcr = (v & UART_FCR_FE) ? (v & UART_FCR_KEEP) : 0;
}

static void serial__write_reg(struct serial *s, unsigned off, uint8_t v)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_TX:
		if (dlab)
			s->dll = v;
		else
			serial__write_thr(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->dlm = v;
		else
			serial__write_ier(s, v);
		break;
	case UART_FCR:
		serial__write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & UART_MCR_MASK;
		serial__update_msr(s);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	serial__update_irq(s);
}

static uint8_t serial__read_rbr(struct serial *s)
{
	if (s->rx_count)
		s->rbr = serial__rx_pop(s);
	return s->rbr;
}

static uint8_t serial__read_iir(struct serial *s)
{
	uint8_t iir = serial__iir(s);

	if ((iir & UART_IIR_ID) == UART_IIR_THRI)
		s->thr_ipending = false;
	s->raised_since_iir = false;
	return iir;
}

static uint8_t serial__read_lsr(struct serial *s)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | s->lsr_errors;

	if (s->rx_count)
		lsr |= UART_LSR_DR;
	s->lsr_errors = 0;
	return lsr;
}

static uint8_t serial__read_msr(struct serial *s)
{
	uint8_t msr = s->msr;

	s->msr &= ~UART_MSR_DELTAS;
	return msr;
}

static uint8_t serial__read_reg(struct serial *s, unsigned off)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RX:
		v = dlab ? s->dll : serial__read_rbr(s);
		break;
	case UART_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = serial__read_iir(s);
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = serial__read_lsr(s);
		break;
	case UART_MSR:
		v = serial__read_msr(s);
		break;
	default:
		v = s->scr;
		break;
	}
	serial__update_irq(s);
	return v;
}

/* ---- bus ops ---- */

static void serial__io_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	struct serial *s = opaque;

	if (len != 1 || offset >= UART_NR_REGS) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	*(uint8_t *)data = serial__read_reg(s, (unsigned)offset);
	pthread_mutex_unlock(&s->lock);
}

static void serial__io_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct serial *s = opaque;

	if (len != 1 || offset >= UART_NR_REGS)
		return;
	pthread_mutex_lock(&s->lock);
	serial__write_reg(s, (unsigned)offset, *(const uint8_t *)data);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_dev_ops serial_ops = {
	.name = "serial",
	.read = serial__io_read,
	.write = serial__io_write,
};

/* ---- host side ---- */

size_t serial__rx(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver listens to the transmitter only: input waits. */
	if (!(s->mcr & UART_MCR_LOOP))
		while (done < n && serial__rx_push(s, buf[done]))
			done++;
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return done;
}

/* SIGPIPE can only come from pipes and sockets, and only matters if it is not ignored. */
static bool serial__out_may_sigpipe(int fd)
{
	struct sigaction sa;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return false;
	return sigaction(SIGPIPE, NULL, &sa) < 0 || sa.sa_handler != SIG_IGN;
}

struct serial *serial__new(struct irq_line irq, int out_fd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	s->irq = irq;
	s->out_fd = out_fd;
	s->out_guard_sigpipe = serial__out_may_sigpipe(out_fd);
	s->dll = 0x0c; /* 9600 baud */
	s->lcr = 0x03; /* 8n1 */
	s->msr = serial__modem_lines(s);
	return s;
}

uint64_t serial__out_dropped(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t n = s->out_dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial__free(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
