/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 guest-virtual to guest-physical: a software walk of the EL1&0 stage-1 translation tables (no KVM_TRANSLATE on arm64). */
#ifndef KVMINI_VMM_ARM64_MMU_H
#define KVMINI_VMM_ARM64_MMU_H

#include <stdint.h>

/* The vCPU's EL1 translation registers, as KVM_GET_ONE_REG gives them. */
struct a64_mmu {
	uint64_t sctlr, tcr, ttbr0, ttbr1;
};

/* Reads the 8-byte descriptor at guest-physical pa into *val, the bytes taken as a
 * little-endian number (the walk swaps them itself when SCTLR_EL1.EE says the tables are
 * big-endian): 0, or -1 when pa is not guest RAM. */
typedef int (*a64_read_fn)(void *ctx, uint64_t pa, uint64_t *val);

/* The guest-physical address of va as the EL1&0 regime's stage 1 translates it (VMSAv8-64,
 * Arm ARM D8): 0 and *pa, or -1 (the translation would fault, or a descriptor could not be
 * read). SCTLR_EL1.M clear: *pa = va. Otherwise VA bit 55 picks TTBR0 or TTBR1, TCR_EL1's
 * TxSZ, TGx, EPDx, TBIx and IPS of that half apply, and the walk reads at most 5 descriptors.
 *
 * Supported: 4K, 16K and 64K granules; every start level (-1 to 3); TxSZ from 16 (12 with the
 * 64K granule or TCR.DS = 1) to 48 (47 for 64K), a value outside clamped to that range, as a
 * CPU with FEAT_LVA and FEAT_TTST does; blocks only where the architecture allows them; the
 * output size of TCR.IPS (an address above it faults, as an Address size fault would);
 * 52-bit physical addresses: the 64K granule with IPS = 52 bits (FEAT_LPA: TTBR bits [5:2]
 * and descriptor bits [15:12] are PA[51:48], level 1 blocks) and TCR.DS = 1 with 4K or 16K
 * (FEAT_LPA2: TTBR bits [5:2], descriptor bits [9:8] are PA[51:50], level -1, level 0 (4K)
 * and level 1 (16K) blocks); big-endian tables (SCTLR_EL1.EE).
 * Not modelled: permissions and the access flag (this says where va maps, not whether an
 * access would fault), TBID (the data-access view of TBI), E0PDx, 56-bit addresses and
 * 128-bit descriptors (FEAT_LVA3, FEAT_D128), stage 2 (KVM's), and what the CPU implements:
 * a reserved TGx value is taken as 4K, and 52-bit descriptor fields are read when IPS (or
 * DS) asks for them, whatever the CPU's PARange. */
int a64_mmu__translate(const struct a64_mmu *m, uint64_t va, a64_read_fn rd, void *ctx,
		       uint64_t *pa);

#endif
