/* SPDX-License-Identifier: Apache-2.0 */
/* The fixed limits of a kvmini VM: vCPUs and disks. */
#ifndef KVMINI_VMM_LIMITS_H
#define KVMINI_VMM_LIMITS_H

#define MAX_CPUS        255   /* xAPIC IDs in the MADT are 8 bits */
#define MAX_DISKS       16    /* virtio-mmio windows with their own GSI */

#endif
