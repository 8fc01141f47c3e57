/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload that runs a script of loads, stores, port I/O and polls the test wrote. */
/*
 * The script starts at 0x200000: 40-byte entries { u32 op, u32 width, u64 addr, u64 val,
 * u64 mask, u64 out }. Ops: 0 end (test exit 0x600d), 1 store, 2 load (into out), 3 port out,
 * 4 port in (into out), 5 poll a load until (v & mask) == val, at most `out` times, with a
 * read of the delay port 0x517 between tries (the last value read goes in out), 6 mark:
 * progress port 0x510 <- val, 7 rep outsb to port addr from val, mask bytes, 8 store val to
 * addr mask times. Widths are 1, 2, 4 or 8 bytes.
 */
	.code64
	.text
	mov	$0x200000, %rbx
next:
	mov	(%rbx), %eax
	mov	4(%rbx), %ecx
	mov	8(%rbx), %rdi
	mov	16(%rbx), %rsi
	mov	24(%rbx), %r8
	cmp	$1, %eax
	je	op_store
	cmp	$2, %eax
	je	op_load
	cmp	$3, %eax
	je	op_out
	cmp	$4, %eax
	je	op_in
	cmp	$5, %eax
	je	op_poll
	cmp	$6, %eax
	je	op_mark
	cmp	$7, %eax
	je	op_outs
	cmp	$8, %eax
	je	op_repstore
	test	%eax, %eax
	jz	op_end
	mov	$0xbad, %eax		/* unknown op */
	jmp	finish
advance:
	add	$40, %rbx
	jmp	next

op_end:
	mov	$0x600d, %eax
finish:
	mov	$0xf4, %dx
	out	%eax, %dx
1:	hlt
	jmp	1b

/* store %rsi (width %ecx) to (%rdi) */
store:
	cmp	$1, %ecx
	jne	1f
	mov	%sil, (%rdi)
	ret
1:	cmp	$2, %ecx
	jne	2f
	mov	%si, (%rdi)
	ret
2:	cmp	$4, %ecx
	jne	3f
	mov	%esi, (%rdi)
	ret
3:	mov	%rsi, (%rdi)
	ret

/* %rax = load (width %ecx) from (%rdi), zero-extended */
load:
	cmp	$1, %ecx
	jne	1f
	movzbl	(%rdi), %eax
	ret
1:	cmp	$2, %ecx
	jne	2f
	movzwl	(%rdi), %eax
	ret
2:	cmp	$4, %ecx
	jne	3f
	mov	(%rdi), %eax
	ret
3:	mov	(%rdi), %rax
	ret

op_store:
	call	store
	jmp	advance

op_load:
	call	load
	mov	%rax, 32(%rbx)
	jmp	advance

op_out:
	mov	%edi, %edx
	mov	%rsi, %rax
	cmp	$1, %ecx
	jne	1f
	out	%al, %dx
	jmp	advance
1:	cmp	$2, %ecx
	jne	2f
	out	%ax, %dx
	jmp	advance
2:	out	%eax, %dx
	jmp	advance

op_in:
	mov	%edi, %edx
	xor	%eax, %eax
	cmp	$1, %ecx
	jne	1f
	in	%dx, %al
	jmp	3f
1:	cmp	$2, %ecx
	jne	2f
	in	%dx, %ax
	jmp	3f
2:	in	%dx, %eax
3:	mov	%rax, 32(%rbx)
	jmp	advance

op_poll:
	mov	32(%rbx), %r9
1:	call	load
	mov	%rax, %r10
	and	%r8, %r10
	cmp	%rsi, %r10
	je	2f
	dec	%r9
	jz	2f
	mov	%rax, %r11
	mov	$0x517, %dx
	in	%dx, %al		/* the host sleeps a little */
	mov	%r11, %rax
	jmp	1b
2:	mov	%rax, 32(%rbx)
	jmp	advance

op_mark:
	mov	$0x510, %dx
	mov	%esi, %eax
	out	%eax, %dx
	jmp	advance

op_outs:
	mov	%edi, %edx
	mov	%r8, %rcx
	cld
	rep outsb
	jmp	advance

op_repstore:
	test	%r8, %r8
	jz	advance
1:	call	store
	dec	%r8
	jnz	1b
	jmp	advance
