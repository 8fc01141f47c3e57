/* SPDX-License-Identifier: Apache-2.0 */
/* A 16550A UART: register file, 16-byte FIFOs, interrupts; the host side is an fd and an RX feed. */
#ifndef KVMINI_DEVICES_SERIAL_H
#define KVMINI_DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"

struct serial;

/* out_fd: where transmitted bytes go (-1 discards them). The UART does not own out_fd. */
struct serial *serial__new(struct irq_line irq, int out_fd);
void serial__free(struct serial *s);
/* Host -> guest: queues up to n bytes of input, returns how many were accepted (0 when the
 * receive buffer is full; the caller retries later). Thread-safe. */
size_t serial__rx(struct serial *s, const uint8_t *buf, size_t n);
/* Bytes the guest sent that out_fd did not take (stalled or broken). */
uint64_t serial__out_dropped(struct serial *s);
/* Registered on the PIO bus at the COM base, length 8. */
extern const struct bus_dev_ops serial_ops;

#endif
