/* SPDX-License-Identifier: Apache-2.0 */
/* The fixed limits of a kvmini VM: vCPUs, disks, network cards, virtio devices. */
#ifndef KVMINI_VMM_LIMITS_H
#define KVMINI_VMM_LIMITS_H

#define MAX_CPUS        255   /* xAPIC IDs in the MADT are 8 bits */
#define MAX_DISKS       16    /* --disk */
#define MAX_NETS        4     /* --net */
#define MAX_VIRTIO      16    /* virtio devices in all: each a virtio-mmio window with its own
			       * GSI, or a virtio-pci function */

#endif
