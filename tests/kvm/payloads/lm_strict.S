/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload: a handled port write, then (RSI 0) 0x42 to unclaimed port 0x99 or (RSI 1)
 * 0x77 to unclaimed GPA 0xd0001000, then test exit — which --strict never lets it reach. */
	.code64
	.text
	mov	$0x510, %dx
	mov	$0x1, %al
	out	%al, %dx
	test	%rsi, %rsi
	jnz	1f
	mov	$0x99, %dx
	mov	$0x42, %al
	out	%al, %dx
	jmp	2f
1:	mov	$0xd0001000, %rbx
	movl	$0x77, (%rbx)
2:	mov	$0xf4, %dx
	mov	$0x64, %eax
	out	%eax, %dx
3:	hlt
	jmp	3b
