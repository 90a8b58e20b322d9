/* Which processes and files are the system's, not the project's under
 * test. The rule is in docs/report-schema.md ("system programs"). */
#ifndef ETRACE_SYSPROG_H
#define ETRACE_SYSPROG_H

#include <stdbool.h>

struct et_model;
struct et_process;

/* p runs an executable of the system and, when that is a language runtime
 * (python3, perl...), no script of the project. */
bool sysprog_program(const struct et_model *m, const struct et_process *p);
/* A file under the directories the package manager fills (/usr but
 * /usr/local, /bin, /sbin, /lib*): not the project's own. */
bool sysprog_file(const char *path);

#endif
