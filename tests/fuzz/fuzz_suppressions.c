/* libFuzzer target: the --suppressions file parser (LSan's leak: lines and
 * valgrind's { ... } entries), then matching what it read against a fixed
 * allocation stack (the glob and the "..." spans run on the input's
 * patterns) and writing an entry back as --gen-suppressions does. */
#include <stdint.h>
#include <stdio.h>

#include "reports/heap/heap.h"
#include "reports/core/model.h"
#include "reports/core/strbuf.h"
#include "../../reports/suppress/supp.h"
#include "../../symbolize/unwind.h"

static FILE *open_input(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size ? size : 1, "r");
	if (in && !size)
		fgetc(in);
	return in;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = open_input(data, size);
	if (!in)
		return 0;
	struct et_model m;
	model_init(&m);
	heap_enable(&m);
	char err[512];
	heap_read_suppressions(&m, in, "fuzz.supp", err, sizeof(err));
	fclose(in);
	model_free(&m);

	in = open_input(data, size);
	if (!in)
		return 0;
	struct supp_set *s = supp_set_new();
	if (supp_read(s, in, "fuzz.supp", err, sizeof(err)) == 0) {
		struct sym_frame frames[4] = {
			{ .function = (char *)"ns::make(int)", .module = (char *)"libfoo.so.1", .file = (char *)"src/a.cc", .line = 7 },
			{ .function = NULL, .module = (char *)"libbar.so" },
			{ .function = (char *)"main", .module = (char *)"prog", .file = (char *)"/w/main.c", .line = 3 },
			{ .function = (char *)"operator[]", .module = NULL },
		};
		for (unsigned k = 1; k <= 8; k <<= 1)
			supp_match_leak(s, "operator new[]", frames, 4, k);
		supp_match_lsan(s, frames, 4);
		struct strbuf sb = STRBUF_INIT;
		supp_generate_leak(&sb, "x", "malloc", frames, 4, SUPP_DEFINITE);
		sb_free(&sb);
	}
	supp_set_free(s);
	fclose(in);
	return 0;
}
