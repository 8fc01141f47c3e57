/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini top SOCKET`: a live terminal view of a running kvmini, from its --api-socket. */
#ifndef KVMINI_VMM_TOP_CMD_H
#define KVMINI_VMM_TOP_CMD_H

/* argv[0] is "top". Returns the exit status: 0 (Ctrl-C, the VM ended, a snapshot printed),
 * 1 no kvmini at SOCKET or a bad answer, 2 bad usage. */
int top__main(int argc, char **argv);

#endif
