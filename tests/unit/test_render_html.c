/* The HTML page's escaping of embedded JSON, and the page and the Perfetto
 * trace of an empty model (the shapes the viewer and the checkers expect). */
#include <stdlib.h>
#include <string.h>

#include "reports/core/model.h"
#include "../../reports/render/html.h"
#include "unit.h"

static char *put_json(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	html_put_json(s, strlen(s), f);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

int main(void)
{
	/* '<', '>' and '&' (only ever inside JSON strings) become \u escapes */
	char *s = put_json("{\"argv\":[\"</script><script>x()</script>\",\"a&b<!--\"]}");
	CHECK_STR(s, "{\"argv\":[\"\\u003c/script\\u003e\\u003cscript\\u003ex()\\u003c/script\\u003e\",\"a\\u0026b\\u003c!--\"]}");
	free(s);
	s = put_json("");
	CHECK_STR(s, "");
	free(s);

	struct et_model m;
	model_init(&m);
	struct render_opts ro = { .exit_code = 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct html_opts ho = { .open_source = NULL };
	render_html(&m, &ro, &ho, f);
	fclose(f);
	CHECK(strncmp(buf, "<!DOCTYPE html>", 15) == 0);
	CHECK(count(buf, "</script>") == 3);      /* the two data elements and the viewer */
	CHECK(strstr(buf, "id=\"etrace-report\"") && strstr(buf, "id=\"etrace-extra\""));
	CHECK(strstr(buf, "\"schema\":\"etrace-html/1\"") != NULL);
	CHECK(strstr(buf, "default-src 'none'") != NULL); /* no network */
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	render_perfetto(&m, &ro, f);
	fclose(f);
	CHECK(strncmp(buf, "{\"displayTimeUnit\":\"ms\"", 23) == 0);
	CHECK(strstr(buf, "\"traceEvents\":[\n]}\n") != NULL);
	free(buf);
	model_free(&m);
	return unit_done();
}
