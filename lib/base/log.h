/*
 * log: one line per event to stderr, for journald or a terminal.
 *
 * Under journald (JOURNAL_STREAM names the very stream stderr is) each
 * line starts with a syslog priority prefix ("<3>"), which journald turns
 * into the entry's priority; elsewhere (a terminal, a file) lines carry a
 * timestamp and a level word instead. Messages
 * are key=value where they carry data. Nothing secret is ever passed here.
 *
 * Control characters, C1 controls and bytes outside UTF-8 in a message
 * are written as \xNN (base/utf8.h): messages quote outside text. Each
 * event kind (the "event=" word a message starts with) is held to 50
 * lines per 10 s; past that its lines are counted and the count logged
 * once the 10 s are over (event=log_suppressed). Debug lines are never
 * held.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Reads JOURNAL_STREAM to pick the line format; call once at start. */
void log_init(enum log_level max);
void log_set_level(enum log_level max);
/* "err", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *s);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Logs the counts of lines still held back; call once before exit. */
void log_flush(void);

/*
 * Outside text goes into a quoted field through LOG_Q: key=\"%s\" with
 * LOG_Q(text). It escapes \\ and " (a quote would end the field early and
 * let the text forge fields of its own); control bytes are escaped for
 * the whole line as above. log_quote writes into buf (cut at a whole
 * character to fit len) and returns it; NULL is "". LOG_Q's buffer lives
 * until the end of the enclosing block.
 */
const char *log_quote(char *buf, size_t len, const char *s);
#define LOG_Q_MAX	512
#define LOG_Q(s)	log_quote((char[LOG_Q_MAX]){ 0 }, LOG_Q_MAX, (s))

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
