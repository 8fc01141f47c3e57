/* SPDX-License-Identifier: Apache-2.0 */
/* An MSI-X table and PBA: masking, pending bits, and re-routing when a message changes. */
#include "devices/msix.h"

#include <errno.h>
#include <string.h>

#define ENT_ADDR_LO 0
#define ENT_ADDR_HI 1
#define ENT_DATA    2
#define ENT_CTRL    3

/* the board's MSI doorbell: x86's LAPIC window unless the board says otherwise */
static uint64_t doorbell_base = 0xfee00000, doorbell_size = 1 << 20;

void msix__set_doorbell(uint64_t base, uint64_t size)
{
	doorbell_base = base;
	doorbell_size = size;
}

bool msix__valid_addr(uint64_t addr)
{
	return addr >= doorbell_base && addr - doorbell_base < doorbell_size;
}

int msix__init(struct msix *m, unsigned nvec, const struct msix_sink_ops *ops, void *ctx)
{
	memset(m, 0, sizeof(*m));
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS)
		return -EINVAL;
	pthread_mutex_init(&m->lock, NULL);
	m->nvec = nvec;
	m->ops = ops;
	m->ctx = ctx;
	for (unsigned i = 0; i < nvec; i++)
		m->table[i][ENT_CTRL] = MSIX_VEC_MASKED;
	return 0;
}

void msix__destroy(struct msix *m)
{
	if (m->nvec)
		pthread_mutex_destroy(&m->lock);
	m->nvec = 0;
}

int msix__add_cap(struct msix *m, struct pci_dev *d, unsigned bar, uint32_t table_off,
		  uint32_t pba_off)
{
	if (bar >= PCI_NUM_BARS || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	uint16_t c = pci_dev__add_cap(d, PCI_CAP_ID_MSIX_, MSIX_CAP_LEN);
	if (!c)
		return -ENOSPC;
	m->cap = c;
	pci_dev__put16(d, c + 2, (uint16_t)(m->nvec - 1));   /* table size - 1, disabled */
	d->wmask[c + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8;
	pci_dev__put32(d, c + 4, table_off | bar);
	pci_dev__put32(d, c + 8, pba_off | bar);
	return 0;
}

static uint64_t entry_addr(const struct msix *m, unsigned v)
{
	return (uint64_t)m->table[v][ENT_ADDR_HI] << 32 | m->table[v][ENT_ADDR_LO];
}

static bool unmasked(const struct msix *m, unsigned v)
{
	return m->enabled && !m->fmask && !(m->table[v][ENT_CTRL] & MSIX_VEC_MASKED);
}

static void fire_locked(struct msix *m, unsigned v)
{
	uint64_t addr = entry_addr(m, v);
	if (!msix__valid_addr(addr)) {
		__atomic_add_fetch(&m->dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	m->fired++;
	m->ops->fire(m->ctx, v, addr, m->table[v][ENT_DATA]);
}

/* After any change: (re)route vectors that are deliverable with a new message, and deliver
 * what was pending on vectors that just became unmasked. */
static void update_locked(struct msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++) {
		if (!unmasked(m, v))
			continue;
		uint64_t addr = entry_addr(m, v);
		uint32_t data = m->table[v][ENT_DATA];
		if (msix__valid_addr(addr) &&
		    (!m->routed[v] || m->routed_addr[v] != addr || m->routed_data[v] != data)) {
			m->ops->route(m->ctx, v, addr, data);
			m->routed[v] = true;
			m->routed_addr[v] = addr;
			m->routed_data[v] = data;
		}
		if (m->pba & (1ULL << v)) {
			m->pba &= ~(1ULL << v);
			fire_locked(m, v);
		}
	}
}

void msix__set_control(struct msix *m, bool enabled, bool fmask)
{
	pthread_mutex_lock(&m->lock);
	m->enabled = enabled;
	m->fmask = fmask;
	update_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void msix__config_written(struct msix *m, const struct pci_dev *d, uint32_t off, uint32_t len)
{
	if (!m->cap || off + len <= m->cap + 2u || off >= m->cap + 4u)
		return;   /* the write did not touch Message Control */
	uint16_t ctrl = pci_dev__get16(d, m->cap + 2);
	msix__set_control(m, ctrl & MSIX_CTRL_ENABLE, ctrl & MSIX_CTRL_FMASK);
}

void msix__table_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
	uint8_t *out = data;
	pthread_mutex_lock(&m->lock);
	const uint8_t *t = (const uint8_t *)m->table;
	for (uint32_t i = 0; i < len; i++)
		out[i] = off + i < (uint64_t)m->nvec * MSIX_ENTRY_SIZE ? t[off + i] : 0;
	pthread_mutex_unlock(&m->lock);
}

void msix__table_write(struct msix *m, uint64_t off, const void *data, uint32_t len)
{
	const uint8_t *in = data;
	pthread_mutex_lock(&m->lock);
	uint8_t *t = (uint8_t *)m->table;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		if (o >= (uint64_t)m->nvec * MSIX_ENTRY_SIZE)
			break;
		unsigned in_ent = (unsigned)(o % MSIX_ENTRY_SIZE);
		if (in_ent >= 12)   /* vector control: only the mask bit exists */
			t[o] = in_ent == 12 ? (in[i] & MSIX_VEC_MASKED) : 0;
		else
			t[o] = in[i];
	}
	update_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void msix__pba_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
	uint8_t *out = data;
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < len; i++)
		out[i] = off + i < 8 ? (uint8_t)(m->pba >> (8 * (off + i))) : 0;
	pthread_mutex_unlock(&m->lock);
}

bool msix__notify(struct msix *m, unsigned vec)
{
	bool ok = true;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled || vec >= m->nvec)
		ok = false;
	else if (unmasked(m, vec))
		fire_locked(m, vec);
	else
		m->pba |= 1ULL << vec;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool msix__enabled(struct msix *m)
{
	return __atomic_load_n(&m->enabled, __ATOMIC_ACQUIRE);
}

bool msix__deliverable(struct msix *m, unsigned vec)
{
	pthread_mutex_lock(&m->lock);
	bool ok = vec < m->nvec && unmasked(m, vec) && msix__valid_addr(entry_addr(m, vec));
	pthread_mutex_unlock(&m->lock);
	return ok;
}
