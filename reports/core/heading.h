/* The line that opens a section of the text report:
 * "-- title -----...", 72 columns wide. */
#ifndef ETRACE_HEADING_H
#define ETRACE_HEADING_H

#include <stdio.h>

void report_heading(FILE *out, const char *title);

#endif
