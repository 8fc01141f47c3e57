/* SPDX-License-Identifier: Apache-2.0 */
/* PL031 real-time clock: RTCDR counts the host's wall-clock seconds plus what RTCLR set; PrimeCell IDs so Linux's AMBA bus finds it. */
#include "devices/pl031.h"

#include <string.h>
#include <time.h>

#define RTCDR    0x000     /* data: the current count (read-only) */
#define RTCMR    0x004     /* match */
#define RTCLR    0x008     /* load: sets the count */
#define RTCCR    0x00c     /* control: bit 0, the clock runs (always) */
#define RTCIMSC  0x010     /* interrupt mask */
#define RTCRIS   0x014     /* raw interrupt status: no alarm, 0 */
#define RTCMIS   0x018     /* masked status: 0 */
#define RTCICR   0x01c     /* interrupt clear */
#define PERIPHID 0xfe0     /* PeriphID0-3 then PCellID0-3, one byte a word */

/* QEMU's and the hardware's: part 0x031, designer ARM, revision 1; the PrimeCell cell ID */
static const uint8_t ids[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

void pl031__init(struct pl031 *rtc)
{
	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
}

static int64_t host_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

static uint32_t read_reg(struct pl031 *rtc, uint64_t off)
{
	if (off >= PERIPHID && off < PERIPHID + 32)
		return ids[(off - PERIPHID) / 4];
	switch (off) {
	case RTCDR:
		return (uint32_t)(host_seconds() + rtc->offset);
	case RTCMR:
		return rtc->match;
	case RTCLR:
		return (uint32_t)(host_seconds() + rtc->offset);
	case RTCCR:
		return 1;
	case RTCIMSC:
		return rtc->imsc;
	default:		/* RIS, MIS, ICR and the rest: 0 */
		return 0;
	}
}

static void pl031_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pl031 *rtc = opaque;
	uint32_t v = 0;

	if (len == 4 && !(off & 3)) {
		pthread_mutex_lock(&rtc->lock);
		v = read_reg(rtc, off);
		pthread_mutex_unlock(&rtc->lock);
	}
	memcpy(data, &v, len <= 4 ? len : 4);
	if (len > 4)
		memset((uint8_t *)data + 4, 0, len - 4);
}

static void pl031_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pl031 *rtc = opaque;
	uint32_t v;

	if (len != 4 || (off & 3))
		return;		/* the PL031 takes 32-bit accesses only */
	memcpy(&v, data, 4);
	pthread_mutex_lock(&rtc->lock);
	if (off == RTCLR)
		rtc->offset = (int64_t)v - host_seconds();
	else if (off == RTCMR)
		rtc->match = v;
	else if (off == RTCIMSC)
		rtc->imsc = v & 1;
	pthread_mutex_unlock(&rtc->lock);
}

const struct bus_dev_ops pl031_ops = {
	.name = "pl031",
	.read = pl031_read,
	.write = pl031_write,
};
