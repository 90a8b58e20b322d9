/* The HTML viewer's script and style (reports/render/html/page.js and
 * page.css), built into etrace by html_assets.c. */
#ifndef ETRACE_RENDER_HTML_ASSETS_H
#define ETRACE_RENDER_HTML_ASSETS_H

#include <stddef.h>

extern const char html_asset_js[];
extern const size_t html_asset_js_len;
extern const char html_asset_css[];
extern const size_t html_asset_css_len;

#endif
