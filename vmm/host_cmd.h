/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini host`: what backs /dev/kvm here, for users and scripts. */
#ifndef KVMINI_VMM_HOST_CMD_H
#define KVMINI_VMM_HOST_CMD_H

/* `kvmini host [--kind] [--exit-cost] [--kvm-device PATH]`: 0 when a /dev/kvm is usable (and,
 * with --exit-cost, an exit was measured), 1 when not, 2 usage */
int host_cmd__main(int argc, char **argv);

#endif
