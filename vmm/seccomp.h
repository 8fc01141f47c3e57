/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp sandboxing: one syscall allow-list per thread kind, installed by each thread itself. */
#ifndef KVMINI_VMM_SECCOMP_H
#define KVMINI_VMM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/seccomp_kind.h"

/* --seccomp=off|log|on. The zero value is off, so code (and tests) that never call
 * seccomp__prepare run unfiltered; the command line's default is on. */
enum seccomp_setting { SECCOMP_OFF, SECCOMP_LOG, SECCOMP_ON };

/* What the filters depend on beyond the thread kind. */
struct seccomp_config {
	enum seccomp_setting setting;
	bool stats_file;        /* --exit-stats=json:PATH: main writes PATH.tmp, renames it */
	bool gdb_unix;          /* --gdb unix:PATH: main unlinks PATH at the end */
	bool vsock_unix;        /* --vsock socket=PATH: main unlinks PATH at the end */
	/* called, async-signal-safe, just before a blocked syscall or a filter that cannot be
	 * entered ends the process (the console puts the terminal back); NULL: nothing */
	void (*on_fatal)(void);
};

/* "off", "log", "on" -> setting; 0, or -1 for anything else. */
int seccomp__parse(const char *s, enum seccomp_setting *out);
const char *seccomp__kind_name(enum seccomp_kind kind);

/* Before any thread starts: sets PR_SET_NO_NEW_PRIVS (always), and unless the setting is
 * off compiles every kind's filter (libseccomp) and installs the SIGSYS handler that names a
 * blocked syscall. 0, or -1 with a message in err. */
int seccomp__prepare(const struct seccomp_config *cfg, char *err, size_t errlen);
/* The calling thread enters its kind's filter (nothing when off or not prepared). Filters
 * stack: a thread keeps its creator's filter, so threads are created before their creator
 * enters its own, or by the launcher (vmm/launcher.c). Failing to install is fatal. */
void seccomp__enter(enum seccomp_kind kind);
/* For tests: the compiled filter of a kind has this many BPF instructions (0: none). */
size_t seccomp__filter_len(enum seccomp_kind kind);

#endif
