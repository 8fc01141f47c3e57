/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal bzImage that drives disk 0 over virtio-mmio: write, flush, read back, compare. */
/* For `kvmini run --kernel bz_disk.bin --virtio-transport mmio --disk ...` (tests/run-as-user.sh:
 * the I/O threads work under their seccomp filters). Sector 0 gets 512 bytes of
 * (i * 7 + 0x11) & 0xff; COM1 says KVMINI-BZ-DISK-OK (or -FAIL), then ACPI poweroff. Polls
 * with interrupts off. */
	.code16
	.text
	.org	0x1f1
	.byte	1			/* setup_sects */
	.word	0			/* root_flags */
	.long	(kernel_end - kernel) / 16	/* syssize */
	.word	0, 0, 0			/* ram_size, vid_mode, root_dev */
	.word	0xaa55			/* boot_flag */
	.byte	0xeb, hdr_end - header
header:	.ascii	"HdrS"
	.word	0x020c			/* boot protocol 2.12 */
	.long	0
	.word	0, 0
	.byte	0
	.byte	1			/* loadflags: LOADED_HIGH */
	.word	0
	.long	0x100000		/* code32_start */
	.long	0, 0, 0
	.word	0
	.byte	0, 0
	.long	0			/* cmd_line_ptr */
	.long	0x7fffffff		/* initrd_addr_max */
	.long	0x200000		/* kernel_alignment */
	.byte	0, 0
	.word	1			/* xloadflags: XLF_KERNEL_64 */
	.long	0x800			/* cmdline_size */
	.long	0
	.quad	0
	.long	0, 0
	.quad	0
	.quad	0			/* pref_address: 1 MiB */
	.long	kernel_end - kernel	/* init_size */
	.long	0, 0
hdr_end:

/* guest-physical scratch, identity-mapped by kvmini's boot page tables */
#define MMIO	0xd0000000		/* disk 0's virtio-mmio window */
#define DESC	0x300000		/* queue of 8: descriptor table */
#define AVAIL	0x301000
#define USED	0x302000
#define HDR	0x303000		/* virtio_blk_outhdr */
#define STATUS	0x303100
#define DATA	0x304000		/* what is written */
#define RDATA	0x305000		/* what is read back */

	.org	0x400
kernel:
	.org	0x600			/* startup_64 */
	.code64
	mov	$0x380000, %rsp
	mov	$DESC, %rdi		/* the rings and buffers start zeroed */
	mov	$0x8000, %rcx
	xor	%eax, %eax
	rep stosb
	xor	%ecx, %ecx		/* DATA[i] = i * 7 + 0x11 */
1:	imul	$7, %ecx, %eax
	add	$0x11, %eax
	movb	%al, DATA(%rcx)
	inc	%ecx
	cmp	$512, %ecx
	jne	1b

	mov	$MMIO, %rbx
	cmpl	$0x74726976, (%rbx)	/* MagicValue */
	jne	fail
	cmpl	$2, 0x008(%rbx)		/* DeviceID: block */
	jne	fail
	movl	$0, 0x070(%rbx)		/* Status: reset, ACKNOWLEDGE, DRIVER */
	movl	$1, 0x070(%rbx)
	movl	$3, 0x070(%rbx)
	movl	$1, 0x024(%rbx)		/* DriverFeaturesSel 1: VIRTIO_F_VERSION_1 (bit 32) */
	movl	$1, 0x020(%rbx)
	movl	$0, 0x024(%rbx)
	movl	$0, 0x020(%rbx)
	movl	$11, 0x070(%rbx)	/* FEATURES_OK */
	testl	$8, 0x070(%rbx)
	jz	fail
	movl	$0, 0x030(%rbx)		/* QueueSel 0, QueueNum 8, the three rings, QueueReady */
	movl	$8, 0x038(%rbx)
	movl	$DESC, 0x080(%rbx)
	movl	$0, 0x084(%rbx)
	movl	$AVAIL, 0x090(%rbx)
	movl	$0, 0x094(%rbx)
	movl	$USED, 0x0a0(%rbx)
	movl	$0, 0x0a4(%rbx)
	movl	$1, 0x044(%rbx)
	movl	$15, 0x070(%rbx)	/* DRIVER_OK */
	testl	$0x40, 0x070(%rbx)	/* NEEDS_RESET */
	jnz	fail

	mov	$1, %edi		/* VIRTIO_BLK_T_OUT: DATA to sector 0 */
	mov	$512, %esi
	mov	$DATA, %rdx
	xor	%r8d, %r8d
	call	request
	test	%al, %al
	jnz	fail
	mov	$4, %edi		/* VIRTIO_BLK_T_FLUSH */
	xor	%esi, %esi
	call	request
	test	%al, %al
	jnz	fail
	xor	%edi, %edi		/* VIRTIO_BLK_T_IN: sector 0 into RDATA */
	mov	$512, %esi
	mov	$RDATA, %rdx
	mov	$2, %r8d		/* VRING_DESC_F_WRITE */
	call	request
	test	%al, %al
	jnz	fail
	mov	$DATA, %rsi
	mov	$RDATA, %rdi
	mov	$512, %rcx
	repe cmpsb
	jne	fail
	lea	ok(%rip), %rsi
	jmp	print
fail:	lea	bad(%rip), %rsi
print:	mov	$0x3f8, %dx		/* COM1 */
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	mov	$0x600, %dx		/* ACPI sleep control: SLP_TYP=5 | SLP_EN */
	mov	$((5 << 2) | (1 << 5)), %al
	out	%al, %dx
3:	hlt
	jmp	3b

/* One request of type %edi on sector 0: header, then (when %esi != 0) %esi bytes at %rdx
 * with descriptor flags %r8d, then the status byte; descriptors 0-2, published and kicked,
 * then polled. Returns the status byte in %al. */
request:
	movl	%edi, HDR		/* type */
	movl	$0, HDR + 4		/* ioprio */
	movq	$0, HDR + 8		/* sector */
	movb	$0xff, STATUS
	movq	$HDR, DESC		/* desc 0: the header, NEXT -> 1 */
	movl	$16, DESC + 8
	movw	$1, DESC + 12
	movw	$1, DESC + 14
	test	%esi, %esi
	jz	1f
	movq	%rdx, DESC + 16		/* desc 1: the data, NEXT -> 2 */
	movl	%esi, DESC + 24
	mov	%r8d, %eax
	or	$1, %eax
	movw	%ax, DESC + 28
	movw	$2, DESC + 30
	movq	$STATUS, DESC + 32	/* desc 2: the status byte, WRITE */
	movl	$1, DESC + 40
	movw	$2, DESC + 44
	movw	$0, DESC + 46
	jmp	2f
1:	movq	$STATUS, DESC + 16	/* no data: desc 1 is the status byte */
	movl	$1, DESC + 24
	movw	$2, DESC + 28
	movw	$0, DESC + 30
2:	movzwl	AVAIL + 2, %eax		/* avail->ring[idx % 8] = 0; avail->idx++ */
	mov	%eax, %ecx
	and	$7, %ecx
	movw	$0, AVAIL + 4(,%rcx,2)
	inc	%eax
	mfence
	movw	%ax, AVAIL + 2
	mfence
	movl	$0, 0x050(%rbx)		/* QueueNotify 0 */
3:	movzwl	USED + 2, %ecx		/* until used->idx catches up */
	cmp	%ax, %cx
	jne	3b
	movzbl	STATUS, %eax
	ret

ok:	.asciz	"KVMINI-BZ-DISK-OK\n"
bad:	.asciz	"KVMINI-BZ-DISK-FAIL\n"
	.org	0xc00
kernel_end:
