/* SPDX-License-Identifier: Apache-2.0 */
/* The names of KVM's exit reasons. */
#ifndef KVMINI_VMM_EXIT_NAMES_H
#define KVMINI_VMM_EXIT_NAMES_H

/* "KVM_EXIT_IO", "KVM_EXIT_MMIO", ...; "UNKNOWN" past the table. */
const char *exit__name(unsigned reason);

#endif
