/* Which processes and files are the system's, not the project's under test
 * (reports/process/sysprog.h): the verdict counts their findings instead of
 * listing them, the routine-failure rules and the hang report use it too. */
#include "symbolize/fileutil.h"
#include "reports/process/sysprog.h"

#include <string.h>

#include "reports/core/model.h"

/* A file of the system, not of the project under test: under the
 * directories the package manager fills (/usr but /usr/local, /bin, /sbin,
 * /lib*). The rule is in docs/report-schema.md ("system programs"). */
bool sysprog_file(const char *path)
{
	static const char *const dirs[] = { "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/" };
	if (!path || strncmp(path, "/usr/local/", 11) == 0)
		return false;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

/* A language runtime runs the project's code when given a script. */
static bool interpreter(const char *name)
{
	static const char *const names[] = { "python", "perl", "ruby", "node", "nodejs", "lua", "php", "tclsh", "Rscript" };
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(name, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

bool sysprog_program(const struct et_model *m, const struct et_process *p)
{
	const char *exe = p->exe_path ? p->exe_path : p->exe;
	if (!sysprog_file(exe))
		return false;
	if (!interpreter(path_base(exe)) || !p->argv)
		return true;
	/* python3 tests/test_x.py: the script is the project's (its first
	 * operand, a path outside the system directories; a relative one is
	 * taken from the working directory). Nothing is opened or checked. */
	for (size_t i = 1; p->argv[i]; i++) {
		const char *a = p->argv[i];
		if (a[0] == '-')
			continue;
		if (a[0] == '/')
			return sysprog_file(a);
		const char *cwd = p->cwd ? p->cwd : m->start_cwd;
		return cwd && sysprog_file(cwd);
	}
	return true;
}

