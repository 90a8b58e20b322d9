/* libFuzzer target: the --suppressions file parser. */
#include <stdint.h>
#include <stdio.h>

#include "../../reports/heap.h"
#include "../../reports/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size ? size : 1, "r");
	if (!in)
		return 0;
	if (!size)
		fgetc(in);
	struct et_model m;
	model_init(&m);
	heap_enable(&m);
	char err[512];
	heap_read_suppressions(&m, in, "fuzz.supp", err, sizeof(err));
	fclose(in);
	model_free(&m);
	return 0;
}
