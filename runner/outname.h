/* Output file names with valgrind's --log-file conversions, so that a
 * per-test wrapper (meson --wrapper, automake LOG_COMPILER, a CTest
 * command) never has two runs overwrite one report: %p etrace's pid, %n the
 * first sequence number from 1 whose file does not exist yet, %q{VAR} the
 * value of environment variable VAR (empty when unset), %% a percent sign. */
#ifndef ETRACE_OUTNAME_H
#define ETRACE_OUTNAME_H

#include <stddef.h>

/* The expanded name (malloc'd) or NULL with a one-line reason in err. */
char *outname_expand(const char *pattern, char *err, size_t errlen);

#endif
