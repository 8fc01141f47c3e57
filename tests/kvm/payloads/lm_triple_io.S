/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload: three port writes and an MMIO read, then a triple fault (ud2, no IDT). */
	.code64
	.text
	mov	$0x510, %dx
	mov	$1, %al
	out	%al, %dx
	mov	$2, %al
	out	%al, %dx
	mov	$3, %al
	out	%al, %dx
	mov	$0xd0000000, %rbx
	movl	16(%rbx), %eax
	ud2
