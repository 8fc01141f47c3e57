/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload for the gdb stub test: known values at fixed offsets, a store to watch. */
	.code64
	.text
	mov	$0x1234, %rax
	xor	%ebx, %ebx
	mov	$0x1000, %ecx
	.org	0x20, 0x90		/* 0x100020: "bp1" */
	mov	$0x5678, %rbx
	inc	%rbx			/* 0x100027: a step lands after it, at 0x10002a */
	mov	%rbx, 0x3000		/* 0x10002a: a store to 0x3000 (a watchpoint) */
	.org	0x40, 0x90		/* 0x100040: "bp2", a hardware breakpoint */
	mov	%rbx, %rdx
	mov	$0xf4, %dx
	mov	$0x600d, %eax
	out	%eax, %dx		/* test exit 0x600d */
1:	hlt
	jmp	1b
