/* Shared by the leak classifier's files (heapscan.c: the mark phase;
 * heaproots.c: reading a stopped process and its roots). Not for use outside
 * reports/heap. */
#ifndef ETRACE_HEAPSCAN_INT_H
#define ETRACE_HEAPSCAN_INT_H

#include <stddef.h>
#include <stdint.h>
#include "heapscan.h"

#define HS_PAGE        4096u

double hs_now_ms(void);

#endif
