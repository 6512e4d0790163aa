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

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
