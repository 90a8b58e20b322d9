/* Allocation that cannot fail quietly: etrace's model and reports stop with
 * one line when memory runs out rather than write a report with holes. */
#ifndef ETRACE_XALLOC_H
#define ETRACE_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static inline void *x_checked(void *p)
{
	if (!p)
		et_oom();
	return p;
}

static inline void *xmalloc(size_t n)
{
	return x_checked(malloc(n ? n : 1));
}

static inline void *xcalloc(size_t n, size_t size)
{
	return x_checked(calloc(n ? n : 1, size ? size : 1));
}

static inline void *xrealloc(void *p, size_t size)
{
	return x_checked(realloc(p, size ? size : 1));
}

static inline char *xstrdup(const char *s)
{
	return x_checked(strdup(s ? s : ""));
}

#endif
