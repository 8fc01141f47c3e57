/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile-guest harness: a board with real disks, a scripted guest (lm_script), a driver. */
#ifndef KVMINI_TESTS_KVM_HOSTILE_H
#define KVMINI_TESTS_KVM_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/ck.h"
#include "vmm/machine.h"

/* Guest RAM: 3 GiB + 16 MiB, so there is RAM on both sides of the MMIO hole. */
#define HG_RAM         (3ULL * 1024 * 1024 * 1024 + (16ULL << 20))
#define HG_CODE        0x100000ULL
#define HG_SCRIPT      0x200000ULL          /* lm_script's entries, up to HG_RINGS */
#define HG_RINGS       0x800000ULL          /* ring sets, 16 KiB each */
#define HG_RING_SETS   256
#define HG_DATA        0x1000000ULL         /* request headers, data and status bytes */
#define HG_DATA_SIZE   0x4000000ULL         /* 64 MiB */
#define HG_POLL_MAX    20000                /* tries of one poll, 250 us apart: 5 s */

/* lm_script's ops (tests/kvm/payloads/lm_script.S) */
enum { SOP_END, SOP_STORE, SOP_LOAD, SOP_OUT, SOP_IN, SOP_POLL, SOP_MARK, SOP_OUTS, SOP_REPSTORE };

struct sop {
	uint32_t op, width;
	uint64_t addr, val, mask, out;
};

/* One device as the scripted driver sees it. */
struct hg_dev {
	bool pci;
	unsigned idx;            /* disk index */
	uint64_t base;           /* virtio-mmio window, or BAR 0 */
	uint64_t ecam;           /* PCI: the function's ECAM page */
	uint16_t msix_cap;       /* PCI: MSI-X capability offset */
	uint16_t qsize;          /* queue size of the current ring set */
	unsigned ring;           /* current ring set */
	uint16_t avail;          /* next avail->idx the driver publishes */
	uint16_t next_desc;      /* next free descriptor of the ring set */
};

struct hg {
	struct machine *m;
	struct run_config *cfg;
	char disk_path[MAX_DISKS][128];
	struct sop *script;
	unsigned nops;
	int uart_fd;             /* where the UART writes (the read end of a pipe nobody reads, or a file) */
	char *err_text;          /* what kvmini wrote on stderr during the run */
	uint32_t marks[4096];    /* progress port values, in order */
	unsigned nmarks;
	void (*on_mark)(struct hg *h, uint32_t mark);   /* called on the vCPU thread */
	void *ctx;
	unsigned next_ring;      /* ring sets handed out */
	uint64_t data_next;      /* bump allocator in HG_DATA */
	uint64_t last_data;      /* the data buffer of the last hg__blk_req */
};

/* The bytes hg__new fills its temp-file disks with: a sector's own, so a read of the wrong
 * sector shows. */
static inline uint8_t hg__pattern(uint64_t off)
{
	return (uint8_t)((off >> 9) * 31 + (off & 511) * 7 + 3);
}

/* A board with ndisks disks of disk_size bytes (temp files, or the given paths), on the mmio or
 * pci transport; spec_extra is appended to each --disk spec (",engine=sync"). */
struct hg *hg__new(unsigned ndisks, uint64_t disk_size, bool pci, const char *spec_extra,
		   const char *const *paths);
void hg__free(struct hg *h);
/* Runs the script until the payload ends (true) or timeout_ms passes; stderr is captured. */
bool hg__run(struct hg *h, int timeout_ms);
/* Lines of the captured stderr that contain `needle`. */
unsigned hg__count(const struct hg *h, const char *needle);
struct blk_stats hg__blk_stats(const struct hg *h, unsigned disk);
uint64_t hg__protocol_errors(const struct hg *h, unsigned disk);
void *hg__ram(const struct hg *h, uint64_t gpa, uint64_t len);

/* The script (returns the entry index; its `out` is read back after the run) */
unsigned hg__op(struct hg *h, uint32_t op, uint32_t width, uint64_t addr, uint64_t val,
		uint64_t mask, uint64_t out);
void hg__store(struct hg *h, uint32_t w, uint64_t addr, uint64_t val);
unsigned hg__load(struct hg *h, uint32_t w, uint64_t addr);
unsigned hg__poll(struct hg *h, uint32_t w, uint64_t addr, uint64_t mask, uint64_t val);
void hg__mark(struct hg *h, uint32_t v);
uint64_t hg__out(const struct hg *h, unsigned op);

/* The scripted driver, on either transport */
void hg__dev_init(struct hg *h, struct hg_dev *d, unsigned disk);
/* PCI: MSI-X on, every vector unmasked and aimed at the local APIC (addr 0: nowhere valid). */
void hg__msix_setup(struct hg *h, struct hg_dev *d, uint64_t addr);
unsigned hg__status_read(struct hg *h, struct hg_dev *d);
void hg__status(struct hg *h, struct hg_dev *d, uint8_t status);
/* reset, ACK, DRIVER, features, FEATURES_OK; then one queue of qsize on a fresh ring set (not
 * enabled when qsize is 0), and DRIVER_OK unless `driver_ok` is false. */
void hg__bringup(struct hg *h, struct hg_dev *d, uint64_t features, uint16_t qsize, bool driver_ok);
/* Queue 0 on a fresh ring set with explicit addresses (0: the ring set's own). */
void hg__queue(struct hg *h, struct hg_dev *d, uint16_t qsize, uint64_t desc, uint64_t avail,
	       uint64_t used);
void hg__notify(struct hg *h, struct hg_dev *d, uint16_t queue);
/* Waits until the device status has NEEDS_RESET: returns the poll's op. */
unsigned hg__wait_needs_reset(struct hg *h, struct hg_dev *d);
/* Waits until used->idx reaches `idx`: returns the poll's op. */
unsigned hg__wait_used(struct hg *h, struct hg_dev *d, uint16_t idx);

/* Descriptors and requests (written by the host into the current ring set before the run) */
struct vring_desc *hg__desc(struct hg *h, struct hg_dev *d, unsigned i);
uint64_t hg__data(struct hg *h, struct hg_dev *d, uint64_t len);
/* Puts head in the avail ring and lets the script publish it (avail->idx store). */
void hg__publish(struct hg *h, struct hg_dev *d, uint16_t head, uint16_t count);
/* A 3-descriptor blk request (header, data, status); returns the status byte's gpa (0xff until
 * the device answers). data_gpa 0: allocated. */
uint64_t hg__blk_req(struct hg *h, struct hg_dev *d, uint32_t type, uint64_t sector,
		     uint64_t data_gpa, uint32_t data_len);
uint8_t hg__byte(const struct hg *h, uint64_t gpa);
/* Whether len bytes of guest RAM at gpa are what disk `disk` holds at `sector` now (read
 * through the page cache, whatever the disk's cache mode). */
bool hg__matches_disk(const struct hg *h, unsigned disk, uint64_t gpa, uint64_t sector,
		      uint32_t len);

Suite *hostile_suite(void);
Suite *faulty_disk_suite(void);

#endif
