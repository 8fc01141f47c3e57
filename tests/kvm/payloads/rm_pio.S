/* SPDX-License-Identifier: Apache-2.0 */
/* Real-mode payload: port writes and reads through the PIO bus, then the test-exit port. */
	.code16
	.text
	mov	$0x510, %dx
	mov	$0x42, %al
	out	%al, %dx		/* port 0x510 <- 0x42 */
	in	%dx, %al		/* port 0x510 -> device value */
	inc	%dx
	out	%al, %dx		/* port 0x511 <- what we read */
	mov	$0x1234, %ax
	out	%ax, %dx		/* 16-bit write */
	mov	$0x99, %dx
	out	%al, %dx		/* nobody is at port 0x99: counted, not fatal */
	mov	$0xf4, %dx
	mov	$0x600d, %ax
	out	%ax, %dx		/* test exit, value 0x600d */
1:	hlt
	jmp	1b
