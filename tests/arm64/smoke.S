/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 guest payload for the KVM smoke test: an MMIO write, an MMIO read whose value it writes back plus one, then PSCI SYSTEM_OFF. */
	.text
	.globl _start
_start:
	movz	x0, #0x0900, lsl #16	/* x0 = 0x09000000: no memory there, so every access exits */
	mov	w1, #0x4b		/* 'K' */
	strb	w1, [x0]		/* MMIO write of one byte */
	ldr	w2, [x0, #4]		/* MMIO read of four: the host answers */
	add	w2, w2, #1
	str	w2, [x0, #8]		/* ... and gets it back plus one */
	movz	x0, #0x8400, lsl #16
	movk	x0, #0x0008		/* PSCI 0.2 SYSTEM_OFF (0x84000008) */
	hvc	#0
1:	b	1b
