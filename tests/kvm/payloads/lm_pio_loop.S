/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload: RSI byte writes to port 0x520 (one exit each), then test exit. */
	.code64
	.text
	mov	%rsi, %rcx
	mov	$0x520, %dx
1:	out	%al, %dx
	dec	%rcx
	jnz	1b
	mov	$0xf4, %dx
	mov	$0x64, %eax
	out	%eax, %dx
2:	hlt
	jmp	2b
