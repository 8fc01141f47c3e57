/* SPDX-License-Identifier: Apache-2.0 */
/* Long-mode payload that triple-faults: ud2 with an empty IDT. */
	.code64
	.text
	mov	$0xdeadbeef, %rax
	ud2
