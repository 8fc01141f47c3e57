/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 guest payload for the gdb stub test: an arm64 Image that calls bump() ROUNDS times (a counter in memory, a value in d0), then powers off (PSCI SYSTEM_OFF); an unexpected exception resets it (PSCI SYSTEM_RESET). Linked at 0x40000000 where kvmini loads it; gdb-multiarch reads its ELF for symbols. */
	.equ	ROUNDS, 1000
	.text
	.globl	_start
_start:					/* the Image header (Documentation/arch/arm64/booting.rst) */
	b	start			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	image_end - _start	/* image_size */
	.quad	0			/* flags: little-endian */
	.quad	0, 0, 0
	.ascii	"ARM\x64"		/* magic */
	.long	0

	.globl	start
start:
	adr	x0, stack_top
	mov	sp, x0
	adr	x0, vectors		/* an exception of any kind ends the run (PSCI SYSTEM_RESET) */
	msr	vbar_el1, x0
	mov	x0, #(3 << 20)		/* CPACR_EL1.FPEN: FP and SIMD at EL1 (bump uses d0) */
	msr	cpacr_el1, x0
	isb
	mov	x19, #0
	.globl	loop
loop:
	add	x19, x19, #1
	bl	bump
	mov	x20, #ROUNDS
	cmp	x19, x20
	b.ne	loop
	movz	x0, #0x8400, lsl #16
	movk	x0, #0x0008		/* PSCI 0.2 SYSTEM_OFF (0x84000008) */
	hvc	#0
1:	b	1b

	.globl	bump
bump:
	adr	x1, counter
	ldr	x2, [x1]
	add	x2, x2, #1
	str	x2, [x1]		/* the watched store */
	fmov	d0, x2
	ret

	.balign	2048
vectors:				/* 16 entries of 128 bytes, each a jump to unexpected */
	.rept	16
	b	unexpected
	.balign	128
	.endr
unexpected:
	movz	x0, #0x8400, lsl #16
	movk	x0, #0x0009		/* PSCI 0.2 SYSTEM_RESET (0x84000009) */
	hvc	#0
2:	b	2b

	.balign	8
	.globl	counter
counter:
	.quad	0
	.balign	16
	.space	4096
stack_top:
image_end:
