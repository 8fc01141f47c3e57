/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload for pause/resume: counts in its own page (0x300000 + 4 KiB * %rsi) forever, with no exit. */
	.code64
	.text
	mov	%rsi, %rbx
	shl	$12, %rbx
	add	$0x300000, %rbx
1:	incq	(%rbx)
	jmp	1b
