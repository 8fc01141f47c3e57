/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the 16550A UART: registers, FIFOs, interrupts, loopback, host I/O, locking. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/ck.h"
#include "devices/serial.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

/* A fake interrupt line: the current level and every change the UART made. */
struct fake_irq {
	int level, raises, lowers, calls;
};

static struct fake_irq firq;
static struct serial *s;
static int pfd[2]; /* out_fd is pfd[1]; the test reads pfd[0], non-blocking */

static void fake_irq_set(void *ctx, unsigned gsi, int level)
{
	struct fake_irq *f = ctx;

	ck_assert_uint_eq(gsi, 4);
	f->calls++;
	if (level && !f->level)
		f->raises++;
	if (!level && f->level)
		f->lowers++;
	f->level = level;
}

static void setup(void)
{
	memset(&firq, 0, sizeof(firq));
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
	s = serial__new((struct irq_line){ .set = fake_irq_set, .ctx = &firq, .gsi = 4 }, pfd[1]);
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	serial__free(s);
	if (pfd[0] >= 0)
		close(pfd[0]);
	close(pfd[1]);
}

static uint8_t rd(unsigned off)
{
	uint8_t v = 0;

	serial_ops.read(s, off, &v, 1);
	return v;
}

static void wr(unsigned off, uint8_t v)
{
	serial_ops.write(s, off, &v, 1);
}

/* Everything the UART has written to out_fd so far. */
static size_t drain_out(uint8_t *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(pfd[0], buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

static size_t rx_str(const char *str)
{
	return serial__rx(s, (const uint8_t *)str, strlen(str));
}

START_TEST(test_idle_registers)
{
	ck_assert_uint_eq(rd(LSR), 0x60); /* THRE | TEMT, no data */
	ck_assert_uint_eq(rd(IIR), 0x01); /* no interrupt, FIFOs off */
	ck_assert_uint_eq(rd(IER), 0x00);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xb0); /* DCD | DSR | CTS */
	ck_assert_int_eq(firq.level, 0);
	ck_assert_int_eq(firq.calls, 0);
}
END_TEST

START_TEST(test_dlab_switching)
{
	wr(IER, 0x05);
	wr(LCR, 0x83);
	wr(DLL, 0x01);
	wr(DLM, 0x02);
	ck_assert_uint_eq(rd(DLL), 0x01);
	ck_assert_uint_eq(rd(DLM), 0x02);
	ck_assert_uint_eq(rd(LCR), 0x83);
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(IER), 0x05); /* the divisor writes did not touch IER */
	wr(IER, 0xff);
	ck_assert_uint_eq(rd(IER), 0x0f); /* a 16550A has four IER bits */
	wr(IER, 0x00);
	wr(THR, 'x');
	wr(LCR, 0x83);
	ck_assert_uint_eq(rd(DLL), 0x01); /* and THR writes did not touch DLL */
	ck_assert_uint_eq(rd(DLM), 0x02);
	uint8_t out[4];
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 'x');
}
END_TEST

START_TEST(test_scratch)
{
	wr(SCR, 0xa5);
	ck_assert_uint_eq(rd(SCR), 0xa5);
	wr(SCR, 0x5a);
	ck_assert_uint_eq(rd(SCR), 0x5a);
}
END_TEST

START_TEST(test_lcr_mcr_readback)
{
	wr(LCR, 0x1b);
	ck_assert_uint_eq(rd(LCR), 0x1b);
	wr(MCR, 0x0b);
	ck_assert_uint_eq(rd(MCR), 0x0b);
	wr(MCR, 0xef);
	ck_assert_uint_eq(rd(MCR), 0x0f); /* bits 5-7 do not exist on a 16550A */
	wr(LSR, 0x00);                    /* read-only */
	ck_assert_uint_eq(rd(LSR), 0x60);
}
END_TEST

START_TEST(test_fifo_bits)
{
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(FCR, 0x01);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	wr(FCR, 0x00);
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(FCR, 0x21); /* 64-byte FIFO bit of a 16750: not here */
	ck_assert_uint_eq(rd(IIR), 0xc1);
}
END_TEST

START_TEST(test_tx_in_order)
{
	uint8_t out[8192];
	size_t i;

	for (i = 0; i < 5000; i++)
		wr(THR, (uint8_t)(i * 7 + 3));
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 5000);
	for (i = 0; i < 5000; i++)
		ck_assert_uint_eq(out[i], (uint8_t)(i * 7 + 3));
	ck_assert_uint_eq(rd(LSR), 0x60);
}
END_TEST

START_TEST(test_rx_in_order)
{
	ck_assert_uint_eq(rx_str("abc"), 3);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(RBR), 'a');
	ck_assert_uint_eq(rd(RBR), 'b');
	ck_assert_uint_eq(rd(LSR) & 0x01, 0x01);
	ck_assert_uint_eq(rd(RBR), 'c');
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_int_eq(firq.calls, 0); /* IER is 0: no interrupt */
}
END_TEST

START_TEST(test_rx_interrupt)
{
	wr(IER, 0x01);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(rx_str("hi"), 2);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(RBR), 'h');
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(RBR), 'i');
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_uint_eq(rx_str("!"), 1);
	ck_assert_int_eq(firq.level, 1);
	wr(IER, 0x00); /* disabling the source lowers the line */
	ck_assert_int_eq(firq.level, 0);
	ck_assert_int_eq(firq.raises, 2);
}
END_TEST

START_TEST(test_rx_trigger_level)
{
	uint8_t buf[32];

	memset(buf, 'z', sizeof(buf));
	wr(FCR, 0xc1); /* FIFO on, trigger at 14 */
	wr(IER, 0x01);
	ck_assert_uint_eq(serial__rx(s, buf, 3), 3);
	ck_assert_uint_eq(rd(IIR), 0xcc); /* below the trigger: character timeout */
	ck_assert_uint_eq(serial__rx(s, buf, 20), 20);
	ck_assert_uint_eq(rd(IIR), 0xc4);
	ck_assert_int_eq(firq.level, 1);
}
END_TEST

START_TEST(test_fcr_clear_rx)
{
	uint8_t buf[40], i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i;
	wr(FCR, 0x01);
	ck_assert_uint_eq(serial__rx(s, buf, sizeof(buf)), sizeof(buf));
	wr(FCR, 0x03); /* clears what is in the 16-byte FIFO; later input is still on its way */
	ck_assert_uint_eq(rd(RBR), 16);
	wr(FCR, 0x07);
	ck_assert_uint_eq(rd(RBR), 33);
	wr(FCR, 0x00); /* leaving FIFO mode clears the FIFO (here: 6 bytes) */
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(IIR), 0x01);
}
END_TEST

START_TEST(test_thre_interrupt)
{
	uint8_t out[4];

	ck_assert_int_eq(firq.level, 0);
	wr(IER, 0x02);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_assert_int_eq(firq.level, 0); /* reading IIR that reports THRE clears it */
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(THR, 'a');
	ck_assert_int_eq(firq.level, 1); /* the byte left: THRE again */
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_assert_int_eq(firq.level, 0);
	/* Linux's THRE test: re-enabling THRI re-arms the interrupt after an IIR read. */
	wr(IER, 0x00);
	wr(IER, 0x02);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	wr(IER, 0x00);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 1);
}
END_TEST

START_TEST(test_thr_write_gives_fresh_edge)
{
	/* IIR reports RX, so THRE stays latched and the line stays high through the RX read;
	 * the next THR write must still produce a rising edge (edge-triggered guests). */
	wr(IER, 0x03);
	ck_assert_uint_eq(rx_str("q"), 1);
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(RBR), 'q');
	ck_assert_int_eq(firq.level, 1);
	int raises = firq.raises;
	wr(THR, '1');
	ck_assert_int_eq(firq.level, 1);
	ck_assert_int_eq(firq.raises, raises + 1);
	int calls = firq.calls;
	wr(THR, '2'); /* one edge per IIR read is enough: no more line traffic */
	wr(THR, '3');
	ck_assert_int_eq(firq.calls, calls);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_assert_int_eq(firq.level, 0);
}
END_TEST

START_TEST(test_iir_priority)
{
	wr(IER, 0x0f);
	ck_assert_uint_eq(rd(IIR), 0x02); /* THRE */
	wr(MCR, 0x10);                    /* loopback: the modem lines drop, MSR deltas */
	ck_assert_uint_eq(rd(IIR), 0x00); /* modem status */
	rd(MSR);
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(THR, 'x');                     /* loops back: RX data, and THRE again */
	ck_assert_uint_eq(rd(IIR), 0x04);
	wr(THR, 'y');                     /* FIFOs off: a second byte overruns */
	ck_assert_uint_eq(rd(IIR), 0x06); /* receiver line status first */
	ck_assert_uint_eq(rd(LSR), 0x63); /* OE | DR | THRE | TEMT; reading clears OE */
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(RBR), 'x');
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_int_eq(firq.level, 0);
}
END_TEST

START_TEST(test_loopback)
{
	uint8_t out[4], i;

	wr(MCR, 0x1a); /* loop | OUT2 | RTS: Linux's autoconfig test */
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0x15); /* loop | OUT1 | DTR */
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x60);
	wr(FCR, 0x01);
	wr(THR, 'L');
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 0); /* nothing reaches out_fd */
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(RBR), 'L');
	ck_assert_uint_eq(rx_str("host"), 0); /* host input waits while looped back */
	for (i = 0; i < 17; i++)
		wr(THR, i);
	ck_assert_uint_eq(rd(LSR), 0x63); /* the 17th byte overran the 16-byte FIFO */
	ck_assert_uint_eq(rd(LSR), 0x61);
	for (i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(RBR), i);
	wr(MCR, 0x0b);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xb0);
	ck_assert_uint_eq(rx_str("host"), 4);
	wr(THR, 'o');
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 'o');
}
END_TEST

START_TEST(test_msr_deltas)
{
	wr(MCR, 0x10); /* loopback, all outputs off: CTS, DSR and DCD drop */
	ck_assert_uint_eq(rd(MSR), 0x0b);
	ck_assert_uint_eq(rd(MSR), 0x00);
	wr(MCR, 0x14); /* OUT1 -> RI rises */
	ck_assert_uint_eq(rd(MSR), 0x40);
	wr(MCR, 0x10); /* RI falls: trailing edge */
	ck_assert_uint_eq(rd(MSR), 0x04);
}
END_TEST

START_TEST(test_rx_buffer_full)
{
	static uint8_t big[2000];

	memset(big, 'b', sizeof(big));
	size_t took = serial__rx(s, big, sizeof(big));
	ck_assert_uint_lt(took, sizeof(big));
	ck_assert_uint_ge(took, 1024);
	ck_assert_uint_eq(serial__rx(s, big, 1), 0);
	ck_assert_uint_eq(rd(RBR), 'b');
	ck_assert_uint_eq(serial__rx(s, (const uint8_t *)"c", 1), 1);
	ck_assert_uint_eq(serial__rx(s, big, 1), 0);
}
END_TEST

START_TEST(test_bad_accesses)
{
	uint8_t buf[8], out[4];
	uint16_t w = 0x4141;

	memset(buf, 0, sizeof(buf));
	serial_ops.read(s, 0, buf, 2);
	ck_assert_uint_eq(buf[0], 0xff);
	ck_assert_uint_eq(buf[1], 0xff);
	memset(buf, 0, sizeof(buf));
	serial_ops.read(s, 3, buf, 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(buf[i], 0xff);
	buf[0] = 0;
	serial_ops.read(s, 8, buf, 1);
	ck_assert_uint_eq(buf[0], 0xff);
	serial_ops.read(s, UINT64_MAX, buf, 1);
	ck_assert_uint_eq(buf[0], 0xff);
	serial_ops.write(s, 0, &w, 2);       /* not a THR write */
	serial_ops.write(s, 3, &w, 2);       /* not an LCR write */
	serial_ops.write(s, 8, &w, 1);
	serial_ops.write(s, UINT64_MAX, &w, 1);
	ck_assert_uint_eq(rd(LCR), 0x03);
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_out_fd_discard)
{
	serial__free(s);
	s = serial__new((struct irq_line){ 0 }, -1);
	ck_assert_ptr_nonnull(s);
	wr(IER, 0x02); /* no irq_line.set: must not crash */
	for (int i = 0; i < 100; i++)
		wr(THR, 'd');
	ck_assert_uint_eq(rd(LSR), 0x60);
}
END_TEST

START_TEST(test_out_fd_broken)
{
	close(pfd[0]); /* nobody reads: EPIPE, and SIGPIPE must not kill us */
	pfd[0] = -1;
	for (int i = 0; i < 100; i++)
		wr(THR, 'x');
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rx_str("still alive"), 11);
	ck_assert_uint_eq(rd(RBR), 's');
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_out_fd_stuck)
{
	static uint8_t fill[4096];
	uint8_t out[16];
	double t0;

	/* Fill the pipe so the next write would block, then make sure output cannot. */
	ck_assert_int_eq(fcntl(pfd[1], F_SETFL, O_NONBLOCK), 0);
	while (write(pfd[1], fill, sizeof(fill)) > 0)
		;
	while (write(pfd[1], fill, 1) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fcntl(pfd[1], F_SETFL, 0), 0);
	t0 = now_s();
	for (int i = 0; i < 1000; i++)
		wr(THR, 'x');
	ck_assert_double_lt(now_s() - t0, 2.5); /* one bounded wait, then dropping */
	/* Once the reader catches up, output flows again. */
	while (drain_out(fill, sizeof(fill)) == sizeof(fill))
		;
	wr(THR, 'y');
	ck_assert_uint_eq(drain_out(out, sizeof(out)), 1);
	ck_assert_uint_eq(out[0], 'y');
}
END_TEST

#define SMOKE_BYTES 200000

static uint8_t smoke_byte(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static void *smoke_feeder(void *arg)
{
	uint8_t chunk[97];
	size_t sent = 0;

	(void)arg;
	while (sent < SMOKE_BYTES) {
		size_t n = sizeof(chunk), took;

		if (n > SMOKE_BYTES - sent)
			n = SMOKE_BYTES - sent;
		for (size_t i = 0; i < n; i++)
			chunk[i] = smoke_byte(sent + i);
		took = serial__rx(s, chunk, n);
		sent += took;
		if (took < n)
			sched_yield(); /* the rest is regenerated from `sent` next time */
	}
	return NULL;
}

START_TEST(test_concurrent_rx)
{
	pthread_t t;
	size_t got = 0;

	wr(IER, 0x01);
	ck_assert_int_eq(pthread_create(&t, NULL, smoke_feeder, NULL), 0);
	while (got < SMOKE_BYTES) {
		if (!(rd(LSR) & 0x01))
			continue;
		uint8_t v = rd(RBR);
		if (v != smoke_byte(got))
			ck_abort_msg("byte %zu: got 0x%02x, want 0x%02x", got, v, smoke_byte(got));
		got++;
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_int_eq(firq.level, 0);
}
END_TEST

Suite *serial_suite(void)
{
	Suite *suite = suite_create("serial");
	TCase *tc = tcase_create("16550a");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_idle_registers);
	tcase_add_test(tc, test_dlab_switching);
	tcase_add_test(tc, test_scratch);
	tcase_add_test(tc, test_lcr_mcr_readback);
	tcase_add_test(tc, test_fifo_bits);
	tcase_add_test(tc, test_tx_in_order);
	tcase_add_test(tc, test_rx_in_order);
	tcase_add_test(tc, test_rx_interrupt);
	tcase_add_test(tc, test_rx_trigger_level);
	tcase_add_test(tc, test_fcr_clear_rx);
	tcase_add_test(tc, test_thre_interrupt);
	tcase_add_test(tc, test_thr_write_gives_fresh_edge);
	tcase_add_test(tc, test_iir_priority);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_msr_deltas);
	tcase_add_test(tc, test_rx_buffer_full);
	tcase_add_test(tc, test_bad_accesses);
	tcase_add_test(tc, test_out_fd_discard);
	tcase_add_test(tc, test_out_fd_broken);
	tcase_add_test(tc, test_out_fd_stuck);
	tcase_add_test(tc, test_concurrent_rx);
	suite_add_tcase(suite, tc);
	return suite;
}
