/* The one frame printer: see frame_print.h. */
#include "frame_print.h"

void sym_frame_text(const struct sym_frame *f, int i, struct strbuf *sb)
{
	if (f->inlined)
		sb_printf(sb, "    #%-2d %18s ", i, "(inlined)");
	else
		sb_printf(sb, "    #%-2d 0x%016lx ", i, (unsigned long)f->pc);
	/* names and paths come from the program's files: escaped */
	sb_puts(sb, "in ");
	if (f->function)
		sb_escape(sb, f->function);
	else
		sb_puts(sb, "??");
	if (f->file) {
		sb_puts(sb, " at ");
		sb_escape(sb, f->file);
		sb_printf(sb, ":%d", f->line);
	}
	if (f->module) {
		sb_puts(sb, "  (");
		sb_escape(sb, f->module);
		sb_printf(sb, "+0x%lx)", (unsigned long)f->module_offset);
	} else {
		sb_puts(sb, "  (no module)");   /* not in any file etrace saw mapped */
	}
}

void sym_frame_json(const struct sym_frame *f, struct strbuf *sb)
{
	sb_printf(sb, "{\"pc\":\"0x%lx\",\"module\":", (unsigned long)f->pc);
	sb_json_str(sb, f->module);
	sb_printf(sb, ",\"module_offset\":\"0x%lx\",\"function\":", (unsigned long)f->module_offset);
	sb_json_str(sb, f->function);
	sb_printf(sb, ",\"function_offset\":%lu,\"file\":", (unsigned long)f->function_offset);
	sb_json_str(sb, f->file);
	sb_printf(sb, ",\"line\":%d,\"inlined\":%s}", f->line, f->inlined ? "true" : "false");
}
