/* The viewer's files, embedded as they are with the assembler's .incbin
 * (the Makefile rebuilds this object when they change): they stay plain
 * JavaScript and CSS in the tree, readable and checkable on their own. */
#include "html_assets.h"

#define ASSET(sym, file)                                                    \
	__asm__(".section .rodata\n"                                        \
		".global " #sym "\n"                                         \
		".type " #sym ", @object\n"                                  \
		".balign 16\n" #sym ":\n"                                    \
		".incbin \"" file "\"\n"                                    \
		#sym "_end:\n"                                               \
		".byte 0\n"                                                  \
		".global " #sym "_len\n"                                     \
		".type " #sym "_len, @object\n"                              \
		".balign 8\n" #sym "_len:\n"                                 \
		".quad " #sym "_end - " #sym "\n"                            \
		".previous\n")

ASSET(html_asset_js, "reports/render/html/page.js");
ASSET(html_asset_css, "reports/render/html/page.css");
