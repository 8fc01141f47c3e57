/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal bzImage for `kvmini run --kernel`: hello on COM1, then poweroff (or "halt": halts). */
	.code16
	.text
	.org	0x1f1
	.byte	1			/* setup_sects: the real-mode part is 2 sectors */
	.word	0			/* root_flags */
	.long	(kernel_end - kernel) / 16	/* syssize */
	.word	0, 0, 0			/* ram_size, vid_mode, root_dev */
	.word	0xaa55			/* boot_flag (0x1fe) */
	.byte	0xeb, hdr_end - header	/* jump over the header (0x200) */
header:	.ascii	"HdrS"			/* 0x202 */
	.word	0x020c			/* boot protocol 2.12 */
	.long	0			/* realmode_swtch */
	.word	0, 0			/* start_sys_seg, kernel_version */
	.byte	0			/* type_of_loader */
	.byte	1			/* loadflags: LOADED_HIGH */
	.word	0			/* setup_move_size */
	.long	0x100000		/* code32_start */
	.long	0, 0, 0			/* ramdisk_image, ramdisk_size, bootsect_kludge */
	.word	0			/* heap_end_ptr */
	.byte	0, 0			/* ext_loader_ver, ext_loader_type */
	.long	0			/* cmd_line_ptr */
	.long	0x7fffffff		/* initrd_addr_max */
	.long	0x200000		/* kernel_alignment */
	.byte	0, 0			/* relocatable_kernel, min_alignment */
	.word	1			/* xloadflags: XLF_KERNEL_64 */
	.long	0x800			/* cmdline_size */
	.long	0			/* hardware_subarch */
	.quad	0			/* hardware_subarch_data */
	.long	0, 0			/* payload_offset, payload_length */
	.quad	0			/* setup_data */
	.quad	0			/* pref_address: 1 MiB */
	.long	kernel_end - kernel	/* init_size */
	.long	0, 0			/* handover_offset, kernel_info_offset */
hdr_end:

	.org	0x400			/* the protected-mode kernel, loaded at 1 MiB */
kernel:
	.org	0x600			/* startup_64: kernel + 0x200 */
	.code64
	mov	0x228(%rsi), %ebx	/* boot_params.hdr.cmd_line_ptr */
	lea	msg(%rip), %rsi
	mov	$0x3f8, %dx		/* COM1 THR */
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	cmpl	$0x746c6168, (%rbx)	/* a command line starting with "halt" */
	je	4f
	mov	$0x600, %dx		/* ACPI sleep control: SLP_TYP=5 | SLP_EN */
	mov	$((5 << 2) | (1 << 5)), %al
	out	%al, %dx
3:	hlt
	jmp	3b
4:	cli				/* only a signal or Ctrl-A x ends this */
	jmp	3b
msg:	.asciz	"KVMINI-BZ-HELLO\n"
	.org	0x800
kernel_end:
