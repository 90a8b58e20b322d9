/* Who sent a signal, in the words the report uses. */
#ifndef ETRACE_SIGSENDER_H
#define ETRACE_SIGSENDER_H

#include <stdbool.h>

#include "reports/core/model.h"
#include "reports/core/strbuf.h"

/* "pid 12 (bash) thread 12 with kill()", "the process itself: thread 40
 * with tgkill()", "the kernel: thread 7's write(1<pipe:[w]>, ...) = -1 EPIPE
 * hit a pipe with no reader", "the kernel (a timer expired)". */
void signal_sender_text(const struct et_model *m, const struct et_process *target, const struct et_sent *st,
			struct strbuf *sb);

/* A fault or an abort (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
 * SIGSYS): a crash. Any other fatal signal is a termination. */
bool signal_is_crash(int sig);

#endif
