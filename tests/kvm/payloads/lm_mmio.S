/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload: MMIO writes/reads of each width, 1000 port writes, then test exit. */
	.code64
	.text
	mov	$0xd0000000, %rbx
	movb	$0x11, (%rbx)
	movw	$0x2222, 2(%rbx)
	movl	$0x33333333, 4(%rbx)
	movq	$0x4444444444444444, %rax
	movq	%rax, 8(%rbx)
	movl	16(%rbx), %eax		/* read: device returns a known value */
	mov	$0x511, %dx
	out	%eax, %dx		/* echo it back on a port */
	mov	$1000, %ecx
	mov	$0x512, %dx
1:	mov	%ecx, %eax
	out	%eax, %dx
	dec	%ecx
	jnz	1b
	mov	$0xf4, %dx
	mov	$0x64, %eax
	out	%eax, %dx
2:	hlt
	jmp	2b
