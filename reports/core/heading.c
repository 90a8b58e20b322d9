/* A section's opening line: see heading.h. */
#include "heading.h"

#include <string.h>

void report_heading(FILE *out, const char *title)
{
	fprintf(out, "\n-- %s ", title);
	for (size_t n = strlen(title) + 4; n < 72; n++)
		fputc('-', out);
	fputc('\n', out);
}
