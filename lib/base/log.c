#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Process-wide by nature: there is one stderr. Set once at start, read-only
 * afterwards except for --log-level changes on reload.
 */
static enum log_level log_max = LOG_LVL_INFO;
static int log_journal;

static const char *const log_names[] = {
	[LOG_LVL_ERR] = "err",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/*
 * JOURNAL_STREAM is "device:inode" of the stream systemd connected to our
 * stderr. A child started from a service inherits the variable but may
 * have its stderr redirected to a file or a terminal, so the variable
 * alone does not prove that journald reads stderr; matching it against
 * stderr itself does (systemd.exec(5), "$JOURNAL_STREAM").
 */
static int
stderr_is_journal(const char *js)
{
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (js == NULL || *js < '0' || *js > '9')
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level max)
{
	log_max = max;
	log_journal = stderr_is_journal(getenv("JOURNAL_STREAM"));
}

void
log_set_level(enum log_level max)
{
	log_max = max;
}

int
log_level_parse(const char *s)
{
	for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	if (strcmp(s, "error") == 0)
		return LOG_LVL_ERR;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	return -1;
}

void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (lvl > log_max)
		return;
	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>", (int)lvl);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		    log_names[lvl]);
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/*
	 * One write per line keeps lines whole when several processes share
	 * the stream; newlines inside a message would split a journal entry,
	 * so they are flattened.
	 */
	for (char *p = line + n; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
