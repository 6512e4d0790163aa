/*
 * badge: GET /badge/NAME.svg, a probe's (or a rule's) state and uptime as
 * a small flat SVG in the shields.io style, for READMEs and wikis. The
 * drawing is a pure function of its text; the endpoint picks the text.
 */
#ifndef VIGIL_BADGE_H
#define VIGIL_BADGE_H

#include <stddef.h>

/* The colour of a state: up/ok green, down/critical red, and so on. */
const char *badge_color(const char *state);
/*
 * "NAME | message": label on grey, message on color, both escaped, the
 * widths from an estimate of Verdana 11 px. malloc'd; NULL: no memory.
 */
char *badge_svg(const char *label, const char *message, const char *color);

#endif
