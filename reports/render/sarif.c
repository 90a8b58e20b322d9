/* --sarif=FILE: the verdict as a SARIF 2.1.0 log (OASIS), the format code
 * scanning services read (GitHub's upload-sarif, GitLab, Azure DevOps).
 * One result per verdict finding: its rule is the finding's kind, its
 * location the program's own frame (file:line relative to the source root,
 * %SRCROOT%), its stack (a crash's backtrace, a heap error's or a leak's
 * allocation stack) both as a SARIF stack and as a code flow, outermost
 * call first, which is what viewers step through. */
#include "ci.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/verdict/verdict.h"
#include "../../symbolize/unwind.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

static const struct {
	const char *name, *text, *level;
} rules[VERDICT_KINDS] = {
	[VERDICT_CRASH] = { "Crash", "A process died of a fault or an abort (SIGSEGV, SIGABRT...)", "error" },
	[VERDICT_HEAP_ERROR] = { "HeapError", "A heap error: double, invalid or mismatched free, use of freed memory", "error" },
	[VERDICT_FAILED] = { "FailedProcess", "A process whose non-zero exit status became the run's status", "error" },
	[VERDICT_KILLED] = { "KilledProcess", "A process ended by a signal, in a way that failed the run", "error" },
	[VERDICT_LEAK] = { "Leak", "Memory not freed and no longer reachable at exit", "warning" },
	[VERDICT_NET] = { "NetworkFailure", "A connection refused, reset or unreachable", "warning" },
};

/* A URI reference for a path: bytes other than RFC 3986's unreserved
 * characters and '/' percent-encoded (a ':' would read as a scheme). */
static void uri_path(struct strbuf *sb, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~/", *s))
			sb_putc(sb, (char)*s);
		else
			sb_printf(sb, "%%%c%c", hex[*s >> 4], hex[*s & 15]);
	}
}

/* "artifactLocation":{...} for a file: relative to %SRCROOT% below the
 * root, a file:// URI elsewhere. A relative path from a line table (glibc's
 * own) has no known base: nothing is written and false returned. */
static bool artifact(struct strbuf *sb, const struct ci_opts *o, const char *comp_dir, const char *file)
{
	char *path = ci_source_path(comp_dir, file);
	if (!path)
		return false;
	const char *rel = ci_relative(o->source_root, path);
	if (rel) {
		sb_puts(sb, "\"artifactLocation\":{\"uri\":\"");
		uri_path(sb, rel);
		sb_puts(sb, "\",\"uriBaseId\":\"SRCROOT\"}");
	} else {
		sb_puts(sb, "\"artifactLocation\":{\"uri\":\"file://");
		uri_path(sb, path);
		sb_puts(sb, "\"}");
	}
	free(path);
	return true;
}

/* A location object for a stack frame: its file and line when known, its
 * module and offset always (physicalLocation.address), its function. */
static void frame_location(struct strbuf *sb, const struct ci_opts *o, const struct sym_frame *f)
{
	sb_puts(sb, "{\"physicalLocation\":{");
	bool any = artifact(sb, o, f->comp_dir, f->file);
	if (any && f->line > 0) {
		sb_printf(sb, ",\"region\":{\"startLine\":%d", f->line);
		if (f->column > 0)
			sb_printf(sb, ",\"startColumn\":%d", f->column);
		sb_putc(sb, '}');
	}
	if (f->module) {
		sb_printf(sb, "%s\"address\":{\"relativeAddress\":%" PRIu64 ",\"name\":", any ? "," : "",
			  f->module_offset);
		sb_json_str(sb, f->module);
		sb_putc(sb, '}');
		any = true;
	}
	if (!any)
		sb_printf(sb, "\"address\":{\"absoluteAddress\":%" PRIu64 "}", f->pc);
	sb_putc(sb, '}');
	if (f->function) {
		sb_puts(sb, ",\"logicalLocations\":[{\"name\":");
		sb_json_str(sb, f->function);
		sb_puts(sb, ",\"kind\":\"function\"}]");
	}
	sb_putc(sb, '}');
}

/* The finding's own location: its frame's file and line, else the
 * executable of the process (a failed test has no line). */
static void result_location(struct strbuf *sb, const struct ci_opts *o, const struct verdict_item *it)
{
	sb_puts(sb, "{\"physicalLocation\":{");
	bool any = artifact(sb, o, it->comp_dir, it->file);
	if (any && it->line > 0)
		sb_printf(sb, ",\"region\":{\"startLine\":%d}", it->line);
	if (!any)
		any = artifact(sb, o, NULL, it->proc->exe_path ? it->proc->exe_path : it->proc->exe);
	if (!any) {
		/* no path at all (a process that never exec'd a file etrace could name) */
		sb_puts(sb, "\"artifactLocation\":{\"uri\":");
		sb_json_str(sb, it->program);
		sb_putc(sb, '}');
	}
	sb_putc(sb, '}');
	if (it->function) {
		sb_puts(sb, ",\"logicalLocations\":[{\"name\":");
		sb_json_str(sb, it->function);
		sb_puts(sb, ",\"kind\":\"function\"}]");
	}
	sb_putc(sb, '}');
}

static void stacks(struct strbuf *sb, const struct ci_opts *o, const struct verdict_item *it)
{
	const char *what = it->kind == VERDICT_CRASH ? "the crashing thread's backtrace"
			   : it->kind == VERDICT_LEAK ? "the allocation stack"
						      : "the call stack";
	sb_puts(sb, ",\"stacks\":[{\"message\":{\"text\":");
	sb_json_str(sb, what);
	sb_puts(sb, "},\"frames\":[");
	for (size_t i = 0; i < it->nframes; i++) {
		const struct sym_frame *f = &it->frames[i];
		sb_puts(sb, i ? ",{\"location\":" : "{\"location\":");
		frame_location(sb, o, f);
		if (f->module) {
			sb_puts(sb, ",\"module\":");
			sb_json_str(sb, f->module);
		}
		sb_putc(sb, '}');
	}
	/* the same frames as a flow: from the outermost call in to the finding */
	sb_puts(sb, "]}],\"codeFlows\":[{\"message\":{\"text\":");
	sb_json_str(sb, what);
	sb_puts(sb, "},\"threadFlows\":[{\"locations\":[");
	for (size_t i = it->nframes; i-- > 0;) {
		sb_puts(sb, i + 1 < it->nframes ? ",{\"location\":" : "{\"location\":");
		frame_location(sb, o, &it->frames[i]);
		sb_printf(sb, ",\"nestingLevel\":%zu}", it->nframes - 1 - i);
	}
	sb_puts(sb, "]}]}]");
}

static void result(struct strbuf *sb, const struct ci_opts *o, const struct verdict_item *it)
{
	struct strbuf text = STRBUF_INIT;
	verdict_item_text(it, true, &text);
	const char *level = rules[it->kind].level;
	if (it->kind == VERDICT_LEAK && it->possible)
		level = "note";
	sb_puts(sb, "{\"ruleId\":");
	sb_json_str(sb, verdict_kind_name(it->kind));
	sb_printf(sb, ",\"ruleIndex\":%d,\"level\":\"%s\",\"message\":{\"text\":", it->kind, level);
	sb_json_str(sb, sb_str(&text));
	sb_puts(sb, "},\"locations\":[");
	result_location(sb, o, it);
	sb_putc(sb, ']');
	if (it->nframes)
		stacks(sb, o, it);
	/* the same finding in the next run: kind, program and place, not pids */
	sb_reset(&text);
	sb_printf(&text, "%s:%s:%s:%s:%d", verdict_kind_name(it->kind), it->program, it->function ? it->function : "",
		  it->file ? it->file : "", it->line);
	sb_puts(sb, ",\"partialFingerprints\":{\"etraceFinding/v1\":");
	sb_json_str(sb, sb_str(&text));
	sb_printf(sb, "},\"properties\":{\"pid\":%d,\"processes\":%zu,\"program\":", it->proc->pid, it->nprocs);
	sb_json_str(sb, it->program);
	sb_puts(sb, ",\"what\":");
	sb_json_str(sb, it->what);
	if (it->words) {
		sb_puts(sb, ",\"lastLine\":");
		sb_json_str(sb, it->words);
	}
	if (it->kind == VERDICT_LEAK)
		sb_printf(sb, ",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"possiblyLost\":%s", it->bytes, it->blocks,
			  it->possible ? "true" : "false");
	sb_printf(sb, ",\"onChain\":%s}}", it->on_chain ? "true" : "false");
	sb_free(&text);
}

void sarif_render(const struct et_model *m, const struct ci_opts *o, FILE *out)
{
	struct verdict v;
	verdict_build(m, &v);
	struct strbuf sb = STRBUF_INIT;
	sb_puts(&sb, "{\"$schema\":\"" SARIF_SCHEMA "\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":"
		     "{\"name\":\"etrace\",\"version\":\"" ETRACE_VERSION "\",\"rules\":[");
	for (int k = 0; k < VERDICT_KINDS; k++) {
		sb_printf(&sb, "%s{\"id\":\"%s\",\"name\":\"%s\",\"shortDescription\":{\"text\":", k ? "," : "",
			  verdict_kind_name(k), rules[k].name);
		sb_json_str(&sb, rules[k].text);
		sb_printf(&sb, "},\"defaultConfiguration\":{\"level\":\"%s\"}}", rules[k].level);
	}
	sb_puts(&sb, "]}}");
	if (o->source_root && o->source_root[0] == '/') {
		sb_puts(&sb, ",\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":\"file://");
		uri_path(&sb, o->source_root);
		if (strcmp(o->source_root, "/") != 0)
			sb_putc(&sb, '/');
		sb_puts(&sb, "\"}}");
	}
	struct strbuf cmd = STRBUF_INIT;
	ci_command_line(m, &cmd);
	sb_puts(&sb, ",\"invocations\":[{\"commandLine\":");
	sb_json_str(&sb, sb_str(&cmd));
	sb_puts(&sb, ",\"arguments\":[");
	for (size_t i = 0; m->command && m->command[i]; i++) {
		if (i)
			sb_putc(&sb, ',');
		sb_json_str(&sb, m->command[i]);
	}
	/* executionSuccessful is etrace's own success, not the program's */
	sb_printf(&sb, "],\"exitCode\":%d,\"executionSuccessful\":%s", o->exit_code, o->exit_reason ? "false" : "true");
	if (o->exit_reason) {
		sb_puts(&sb, ",\"exitCodeDescription\":");
		sb_json_str(&sb, o->exit_reason);
	}
	sb_puts(&sb, "}],\"results\":[");
	for (size_t i = 0; i < v.nitems; i++) {
		if (i)
			sb_putc(&sb, ',');
		result(&sb, o, &v.items[i]);
	}
	sb_puts(&sb, "],\"properties\":{\"summary\":");
	struct strbuf sum = STRBUF_INIT;
	verdict_summary(m, &v, &sum);
	sb_json_str(&sb, sb_str(&sum));
	sb_printf(&sb, ",\"result\":\"%s\"}}]}\n", v.failed ? "failed" : "ok");
	fwrite(sb.buf, 1, sb.len, out);
	sb_free(&sum);
	sb_free(&cmd);
	sb_free(&sb);
	verdict_free(&v);
}
