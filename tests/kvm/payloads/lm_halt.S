/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload that halts with interrupts off forever: the VMM must still stop it. */
	.code64
	.text
	mov	$0x514, %dx
	out	%al, %dx		/* say we are about to halt */
	cli
1:	hlt
	jmp	1b
