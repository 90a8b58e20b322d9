/* Helpers the CI formats share (see ci.h). */
#include "ci.h"

#include <stdio.h>
#include <string.h>

#include "reports/core/xalloc.h"

const char *ci_relative(const char *root, const char *file)
{
	if (!root || !file || file[0] != '/')
		return NULL;
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1 && root[0] == '/')
		return file + 1;
	if (strncmp(file, root, n) != 0 || file[n] != '/' || !file[n + 1])
		return NULL;
	return file + n + 1;
}

void ci_command_line(const struct et_model *m, struct strbuf *out)
{
	for (size_t i = 0; m->command && m->command[i]; i++) {
		if (i)
			sb_putc(out, ' ');
		sb_puts(out, m->command[i]);
	}
}

char *ci_normalize(const char *path)
{
	size_t n = strlen(path) + 2;
	char *in = xmalloc(n), *out = xmalloc(n);
	memcpy(in, path, n - 1);
	size_t len = 0;
	for (char *save, *part = strtok_r(in, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (len && out[len - 1] != '/')
				len--;
			if (len)
				len--;
			continue;
		}
		out[len++] = '/';
		memcpy(out + len, part, strlen(part));
		len += strlen(part);
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	free(in);
	return out;
}

char *ci_source_path(const char *comp_dir, const char *file)
{
	if (!file || !file[0])
		return NULL;
	if (file[0] == '/')
		return ci_normalize(file);
	if (!comp_dir || comp_dir[0] != '/')
		return NULL;
	size_t n = strlen(comp_dir) + strlen(file) + 2;
	char *joined = xmalloc(n);
	snprintf(joined, n, "%s/%s", comp_dir, file);
	char *out = ci_normalize(joined);
	free(joined);
	return out;
}
