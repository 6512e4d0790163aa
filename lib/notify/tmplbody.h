/*
 * tmplbody: a templated webhook's body (base/template.h), pure: a notice
 * or a deploy verdict as the template's fields, each escaped for the
 * body's Content-Type. The fields are config_template_fields[]:
 *
 *   id, kind, rule, state ("firing", "resolved"), severity ("critical",
 *   "warning", "none" once resolved), value ("unknown" when it cannot be
 *   measured), threshold, unit, summary, since, time (ISO 8601), instance,
 *   url (vigil's page), title ("[CRITICAL] rule", "[RESOLVED] rule"),
 *   labels.<key> (the rule's label, "" when it has none)
 *
 * A deploy verdict fills the same fields: kind "deploy_verdict", rule
 * "deploy", state the verdict, severity critical for a fail, warning for
 * warn and inconclusive, none for a pass, summary the reason.
 */
#ifndef VIGIL_TMPLBODY_H
#define VIGIL_TMPLBODY_H

#include "notify/payload.h"

/* The body, or NULL (out of memory, or past the size limit). */
char *tmplbody_notice(const char *tmpl, const char *content_type,
    const struct notice *n, const struct sender *s);
char *tmplbody_deploy(const char *tmpl, const char *content_type,
    const struct deploy_notice *d, const struct sender *s);

#endif
