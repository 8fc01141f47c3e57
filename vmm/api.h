/* SPDX-License-Identifier: Apache-2.0 */
/* --api-socket: the HTTP API on a Unix socket (libmicrohttpd), served on its own thread. */
#ifndef KVMINI_VMM_API_H
#define KVMINI_VMM_API_H

#include <stddef.h>

#include "vmm/api_routes.h"

#define API_MAX_CONNECTIONS 64      /* more wait in the listen backlog */
#define API_CONNECTION_TIMEOUT 10   /* seconds a connection may sit idle */
#define API_CONNECTION_MEMORY 32768 /* bytes per connection: request line, headers, reply */

struct api;

/* Creates the socket at path, mode 0600, and the HTTP daemon on it (no thread yet). An
 * existing path is refused unless it is a stale socket (connect() is refused: its kvmini is
 * gone), which is replaced. NULL with a one-line reason in err. */
struct api *api__listen(const char *path, char *err, size_t errlen);
/* What the requests act on: *b is copied; before api__start. */
void api__set_backend(struct api *a, const struct api_backend *b);
/* Starts the API thread (no signals, its own seccomp filter). 0, or -1 with err. */
int api__start(struct api *a, char *err, size_t errlen);
/* Ends the thread (a reply being sent is finished first), closes every connection and
 * removes the socket. Call before what the backend reads is freed. */
void api__stop(struct api *a);
/* api__stop if needed, then frees a (NULL: nothing). */
void api__close(struct api *a);

#endif
