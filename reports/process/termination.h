/* Processes ended by a signal that is not a crash (SIGPIPE, SIGTERM,
 * SIGINT, SIGHUP, SIGKILL, SIGALRM...): who sent it and why, and, when that
 * ending is what failed the run, where each of its threads was. */
#ifndef ETRACE_TERMINATION_H
#define ETRACE_TERMINATION_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/core/model.h"
#include "reports/core/strbuf.h"

/* p was terminated by a signal (not a crash): "SIGPIPE sent by the kernel,
 * in pid 7 (yes) thread 7: write(1<pipe:[w]>, ...) = -1 EPIPE ..." into sb. */
bool termination_text(const struct et_model *m, const struct et_process *p, struct strbuf *sb);

/* Its termination failed the run: it is the root, or a process of the tree
 * sent the signal and then failed itself (a runner's timeout). */
bool termination_failed_run(const struct et_model *m, const struct et_process *p);

/* p was ended by a process of the tree that then failed for a reason of its
 * own: its last words have a runtime's failure headline (a traceback's
 * "ValueError: ...") that does not speak of a timeout. Python's
 * multiprocessing.Pool terminates its workers on the way out of an
 * exception: the workers are cleanup, not the cause. */
bool termination_cleanup(const struct et_model *m, const struct et_process *p);


#endif
