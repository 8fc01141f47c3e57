/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini ctl SOCKET VERB [--json]`: a small HTTP/1.1 client for a running kvmini's --api-socket. */
#ifndef KVMINI_VMM_CTL_CMD_H
#define KVMINI_VMM_CTL_CMD_H

#include <stddef.h>

#define CTL_REPLY_MAX (1u << 20)	/* a reply past this is refused */

/* A whole HTTP/1.x response in buf[0..len): its status and where its body is (to
 * Content-Length, or to the end). 0, or -1 when it is not one. */
int ctl__parse_response(const char *buf, size_t len, unsigned *status, const char **body,
			size_t *body_len);
/* One request, METHOD /api/v1/PATH with the JSON body `body` (NULL: none), to the socket SOCK
 * (Connection: close, 5 s in all); the whole reply in *reply (malloc'd, NUL-terminated, *len
 * bytes). 0, or -1 with a one-line reason in err. */
int ctl__request(const char *sock, const char *method, const char *path, const char *body,
		 char **reply, size_t *len, char *err, size_t errlen);
/* argv[0] is "ctl". Returns the exit status: 0 on success, 1 on a refusal or no connection,
 * 2 on bad usage. */
int ctl__main(int argc, char **argv);

#endif
