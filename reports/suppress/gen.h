/* --gen-suppressions: a ready-to-paste valgrind-format suppression for
 * each leak of the verdict, as a section of the text report. */
#ifndef ETRACE_SUPP_GEN_H
#define ETRACE_SUPP_GEN_H

#include <stdio.h>

#include "reports/core/model.h"
#include "reports/verdict/verdict.h"

void supp_gen_render_text(const struct et_model *m, const struct verdict *v, FILE *out);

#endif
