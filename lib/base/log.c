#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loglimit.h"
#include "base/utf8.h"

/*
 * Process-wide by nature: there is one stderr. Set once at start, read-only
 * afterwards except for --log-level changes on reload.
 */
static enum log_level log_max = LOG_LVL_INFO;
static int log_journal;

/*
 * Lines per event kind: LOG_BURST per LOG_INTERVAL_MS, then a count
 * (base/loglimit.h says why). Debug lines are never held: they are asked
 * for. The lock: the state file's writer thread logs too.
 */
#define LOG_INTERVAL_MS 10000
#define LOG_BURST 50
static struct loglimit log_limit;
static bool log_limit_ready;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Writes one line; msg is already escaped. */
static void
emit(enum log_level lvl, const char *msg)
{
	char head[64];

	if (log_journal) {
		snprintf(head, sizeof(head), "<%d>", (int)lvl);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(head, sizeof(head),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		    log_names[lvl]);
	}
	/* One write per line keeps lines whole when processes share it. */
	fprintf(stderr, "%s%s\n", head, msg);
}

/* The counts of held lines whose interval is over (all at now INT64_MAX). */
static void
tell_held(int64_t now)
{
	char kind[LOGLIMIT_NAME], line[160];
	unsigned long held;
	int64_t span;

	while (loglimit_summary(&log_limit, now, kind, sizeof(kind), &held,
	    &span)) {
		snprintf(line, sizeof(line), "event=log_suppressed kind=%s "
		    "suppressed=%lu in_last_s=%lld", kind[0] != '\0' ? kind :
		    "-", held, (long long)((span + 999) / 1000));
		emit(LOG_LVL_WARN, line);
	}
}

const char *
log_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	if (len == 0)
		return "";
	for (; s != NULL && *s != '\0';) {
		unsigned char c = (unsigned char)*s;
		/* A UTF-8 sequence moves whole; a stray byte alone. */
		size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		size_t need = c == '"' || c == '\\' ? 2 : n;

		if (n > 1 && strnlen(s, n) < n)
			n = need = 1;
		if (o + need >= len)
			break;
		if (need == 2 && n == 1) {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else {
			memcpy(buf + o, s, n);
			o += n;
		}
		s += n;
	}
	buf[o] = '\0';
	return buf;
}

void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char msg[2048], safe[2048], kind[LOGLIMIT_NAME];
	int n;
	bool go = true;

	if (lvl > log_max)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/*
	 * Messages carry text from outside (a target's answer, a database's
	 * error, a client's deploy version): a newline would forge a line, an
	 * escape sequence would steer the terminal reading the journal.
	 */
	utf8_escape_controls(msg, strlen(msg), safe, sizeof(safe));
	kind[0] = '\0';
	if (strncmp(safe, "event=", 6) == 0)
		snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(safe + 6, " "),
		    safe + 6);
	pthread_mutex_lock(&log_lock);
	if (lvl != LOG_LVL_DEBUG) {
		int64_t now = clock_mono_us() / 1000;

		if (!log_limit_ready) {
			loglimit_init(&log_limit, LOG_INTERVAL_MS, LOG_BURST);
			log_limit_ready = true;
		}
		tell_held(now);
		go = loglimit_allow(&log_limit, kind, now);
	}
	if (go)
		emit(lvl, safe);
	pthread_mutex_unlock(&log_lock);
}

void
log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_limit_ready)
		tell_held(INT64_MAX);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
