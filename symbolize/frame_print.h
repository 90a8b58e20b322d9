/*
 * The one printer of a symbolized user-space frame, for every stack etrace
 * shows (crash backtraces, other threads at a crash or a termination, heap
 * allocation and free stacks), in the shape of elfutils' eu-stack
 * print_frame: index, address (or "(inlined)"), function, file:line, and
 * always where the code is, module+offset, so a frame without a symbol
 * still says which file and offset to look at.
 */
#ifndef ETRACE_FRAME_PRINT_H
#define ETRACE_FRAME_PRINT_H

#include "reports/core/strbuf.h"
#include "unwind.h"

/* "    #3  0x00007f... in fn at file.c:12  (libx.so+0x1139)"; a frame in no
 * known mapping ends "  (no module)". Names and paths are escaped (they
 * come from the program's files). No newline. */
void sym_frame_text(const struct sym_frame *f, int i, struct strbuf *sb);
/* The same frame as a JSON object: pc, module, module_offset, function,
 * function_offset, file, line, inlined. */
void sym_frame_json(const struct sym_frame *f, struct strbuf *sb);

#endif
