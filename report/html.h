/* html.h - helpers shared by the parts of the HTML page (html.c: the page,
 * summary, rules, fixes, services; html_nnr.c: the NNR charts and matrix). */
#ifndef PW_HTML_H
#define PW_HTML_H

#include <stdio.h>

#include "../analysis/result.h"

/* Writes s with &, <, >, " escaped ("" for NULL). */
void pw_html_esc(FILE *out, const char *s);
/* Writes the address, escaped. */
void pw_html_addr(FILE *out, const pw_addr *a);
/* Writes the rendered message, escaped. */
void pw_html_msg(FILE *out, const pw_msg *m, const pw_sources *srcs);
/* The NNR section: per sensor, the success-rate chart and the matrix. */
void pw_html_nnr(FILE *out, const pw_result *r);

#endif
