/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload for several vCPUs: each reports the id it was given in %rsi, then halts. */
	.code64
	.text
	mov	%rsi, %rax
	mov	$0x513, %dx
	out	%eax, %dx
	cli
1:	hlt
	jmp	1b
