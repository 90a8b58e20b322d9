/* libFuzzer target: `etrace report` of an untrusted recording, text, JSON,
 * HTML and Perfetto (the parser, the model fed from its records, the crash
 * analysis and the renderers). Built by `make fuzz-bin`; run with -close_fd_mask=2: a bad
 * recording's one-line message goes to stderr (tests/fuzz/run.py). */
#include <stdint.h>
#include <stdio.h>

#include "../../runner/record.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		record_kallsyms = "/nonexistent";   /* a 100 ms read per input otherwise */
	}
	for (int json = 0; json <= RECORD_RENDER_PERFETTO; json++) {
		FILE *in = fmemopen((void *)data, size ? size : 1, "r");
		if (!in)
			return 0;
		if (!size)
			fgetc(in);   /* fmemopen refuses a size of 0: an empty stream */
		record_render(in, "fuzz", devnull, json);
		fclose(in);
	}
	return 0;
}
