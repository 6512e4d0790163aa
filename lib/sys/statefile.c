#include "sys/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/jsonw.h"
#include "base/sbuf.h"
#include "release/deploy.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "notify/notifier.h"
#include "engine/ruleset.h"
#include "engine/maint_json.h"
#include "engine/silence.h"
#include "engine/silence_json.h"
#include "engine/store.h"
#include "probe/beat.h"

/*
 * 2: states, severities by name. 1 (0.1.0): the same document with them
 * as enum numbers; still read.
 */
#define STATE_VERSION		2
#define STATE_VERSION_NUMBERS	1
#define MIN_KEEP_MS		(5 * 60 * 1000)
#define MAX_SAMPLES_SAVED	2000

struct statefile {
	struct event_base *base;
	struct statefile_parts parts;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	int64_t interval_ms;
	struct event *timer;	/* every interval_ms, persistent */
	struct event *soon;	/* one-shot: a change, debounced */
	bool again;		/* a change came while writing */
	int pipefd[2];
	struct event *done;
	bool writing;
	bool opened;		/* loaded: only then may close write */
	bool unsafe;		/* dir failed its check at open: never used */
	int64_t last_saved;
	uint64_t writes, failures;
	char last_error[256];
};

/* What the writer thread owns: the bytes and where they go. */
struct job {
	char *buf;
	size_t len;
	char path[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX];
	int notify;	/* the pipe's write end */
};

/* The thread's answer, small enough to be written atomically. */
struct result {
	int err;
	char step[24];
};

/*
 * The disk work: temp file, fsync, rename over the old one, fsync of the
 * directory so the rename itself survives a power cut.
 */
static struct result
write_atomically(const struct job *j)
{
	struct result r = { 0, "" };
	int fd;

	/*
	 * A fresh file each time, never through a link: whoever planted a
	 * symbolic link at the temporary name (a leftover is removed first;
	 * unlink removes the link, not its target) would otherwise have
	 * vigild, often root, overwrite the file it points to.
	 */
	(void)unlink(j->tmp);	/* if it fails, open says why */
	fd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		r.err = errno;
		snprintf(r.step, sizeof(r.step), "create");
		return r;
	}
	if ((r.err = file_write_all(fd, j->buf, j->len)) != 0) {
		snprintf(r.step, sizeof(r.step), "write");
		close(fd);
		unlink(j->tmp);
		return r;
	}
	if (fsync(fd) != 0) {
		r.err = errno;
		snprintf(r.step, sizeof(r.step), "fsync");
		close(fd);
		unlink(j->tmp);
		return r;
	}
	close(fd);
	if (rename(j->tmp, j->path) != 0) {
		r.err = errno;
		snprintf(r.step, sizeof(r.step), "rename");
		unlink(j->tmp);
		return r;
	}
	fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0 && errno != EINVAL) {
			r.err = errno;
			snprintf(r.step, sizeof(r.step), "fsync dir");
		}
		close(fd);
	}
	return r;
}

static void *
writer(void *arg)
{
	struct job *j = arg;
	struct result r = write_atomically(j);
	ssize_t n;

	do {
		n = write(j->notify, &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	free(j->buf);
	free(j);
	return NULL;
}

struct store_ctx {
	struct jsonw *w;
	int64_t since;
};

static void
save_series(const struct series *s, void *arg)
{
	struct store_ctx *c = arg;
	size_t len = series_len(s), first = series_since(s, c->since);

	if (first >= len)
		return;
	if (len - first > MAX_SAMPLES_SAVED)
		first = len - MAX_SAMPLES_SAVED;
	jsonw_arr(c->w, series_name(s));
	for (size_t i = first; i < len; i++) {
		struct sample x;

		series_at(s, i, &x);
		jsonw_arr(c->w, NULL);
		jsonw_int(c->w, NULL, x.t);
		jsonw_num(c->w, NULL, x.v);
		jsonw_end(c->w);
	}
	jsonw_end(c->w);
}

/* A part small enough for a tree (t from its _save), written and freed. */
static void
write_part(struct jsonw *w, const char *key, cJSON *t)
{
	if (t == NULL) {
		w->b->failed = true;	/* out of memory: no file without it */
		return;
	}
	jsonw_tree(w, key, t);
	cJSON_Delete(t);
}

/*
 * Streamed, not built as one cJSON tree: the samples are nearly all of
 * the document (427,917 of them, 8.7 of 9 MB, at 1,000 probes with a
 * minute of retention), and a tree of them took three nodes a sample,
 * some 90 MiB of heap at each write for a moment.
 */
char *
statefile_encode(const struct statefile_parts *p, int64_t now, size_t *len)
{
	int64_t keep = ruleset_max_window_ms(monitor_rules(p->m));
	struct store_ctx sc;
	struct jsonw w;
	struct sbuf b;
	char *s;

	if (keep < MIN_KEEP_MS)
		keep = MIN_KEEP_MS;
	sbuf_init(&b, STATEFILE_MAX_BYTES);
	jsonw_init(&w, &b);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "version", STATE_VERSION);
	jsonw_int(&w, "saved", now);
	write_part(&w, "rules", ruleset_save(monitor_rules(p->m)));
	write_part(&w, "silences", silences_save(monitor_silences(p->m)));
	write_part(&w, "maintenance", maint_save(monitor_maint(p->m)));
	write_part(&w, "notifiers", notifier_save(p->nt));
	if (p->dp != NULL)
		write_part(&w, "deploys", deploys_save(p->dp));
	/* Beats, so a restart does not reset how late a job is. */
	write_part(&w, "heartbeats", beatboard_save(monitor_beats(p->m)));
	jsonw_obj(&w, "store");
	sc.w = &w;
	sc.since = now - keep;
	store_foreach(monitor_store(p->m), save_series, &sc);
	jsonw_end(&w);
	jsonw_end(&w);
	*len = b.len;
	s = sbuf_take(&b);
	if (s == NULL)
		*len = 0;
	return s;
}

int
statefile_dir_check(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		snprintf(why, whylen, "state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "state_dir %s is not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, whylen, "state_dir %s belongs to uid %lu, not to "
		    "vigild's user (uid %lu) or root", dir,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "state_dir %s is writable by %s (mode "
		    "%04o); chmod go-w it", dir, (st.st_mode & S_IWOTH) != 0 ?
		    "others" : "its group", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Logs a failure once per distinct error (msg), and counts it. */
static void
note_failure(struct statefile *sf, const char *msg)
{
	sf->failures++;
	if (strcmp(msg, sf->last_error) != 0)
		log_err("event=state_save_failed path=%s error=\"%s\" "
		    "retry_every_ms=%lld note=\"alert state will not survive a "
		    "restart until this is fixed; polling goes on\"",
		    sf->path, LOG_Q(msg), (long long)sf->interval_ms);
	snprintf(sf->last_error, sizeof(sf->last_error), "%s", msg);
}

/* Logs a write's outcome: its failure, or the recovery from one. */
static void
note_result(struct statefile *sf, const struct result *r)
{
	char msg[256];

	if (r->err == 0) {
		if (sf->last_error[0] != '\0')
			log_notice("event=state_saved_again path=%s",
			    sf->path);
		sf->last_error[0] = '\0';
		sf->last_saved = clock_wall_ms();
		sf->writes++;
		return;
	}
	snprintf(msg, sizeof(msg), "%s: %s", r->step, strerror(r->err));
	note_failure(sf, msg);
}

/*
 * Whether a save may go ahead: the directory was fine at open and still
 * is (its mode could change under a running vigild).
 */
static bool
may_write(struct statefile *sf)
{
	char why[PATH_MAX + 128];

	if (sf->unsafe) {
		sf->failures++;	/* logged once, at open */
		return false;
	}
	if (statefile_dir_check(sf->dir, why, sizeof(why)) != 0) {
		note_failure(sf, why);
		return false;
	}
	return true;
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct statefile *sf = arg;
	struct result r;
	ssize_t n;

	(void)what;
	n = read(fd, &r, sizeof(r));
	if (n != (ssize_t)sizeof(r))
		return;
	sf->writing = false;
	note_result(sf, &r);
	/* A change that found a write in flight is saved after it. */
	if (sf->again) {
		sf->again = false;
		statefile_touch(sf);
	}
}

static struct job *
make_job(struct statefile *sf)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->buf = statefile_encode(&sf->parts, clock_wall_ms(), &j->len);
	if (j->buf == NULL) {
		free(j);
		return NULL;
	}
	snprintf(j->path, sizeof(j->path), "%s", sf->path);
	snprintf(j->tmp, sizeof(j->tmp), "%s", sf->tmp);
	snprintf(j->dir, sizeof(j->dir), "%s", sf->dir);
	j->notify = sf->pipefd[1];
	return j;
}

static void
save_async(struct statefile *sf)
{
	pthread_attr_t attr;
	pthread_t th;
	struct job *j;

	if (sf->writing)
		return;	/* the next tick tries again */
	if (!may_write(sf))
		return;
	j = make_job(sf);
	if (j == NULL) {
		struct result r = { ENOMEM, "serialize" };

		note_result(sf, &r);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, writer, j) != 0) {
		struct result r = { EAGAIN, "thread" };

		free(j->buf);
		free(j);
		note_result(sf, &r);
	} else {
		sf->writing = true;
	}
	pthread_attr_destroy(&attr);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	/* Samples arrive all the time, so every tick has news to save. */
	save_async(arg);
}

static void
on_soon(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	save_async(arg);
}

void
statefile_touch(struct statefile *sf)
{
	struct timeval tv = { 0, 200000 };

	if (sf == NULL)
		return;
	if (sf->writing) {
		sf->again = true;
		return;
	}
	/*
	 * Soon, not now: a burst of changes makes one write. A one-shot of
	 * its own, armed once per burst: re-arming the periodic timer would
	 * replace its period, and rewrite the file five times a second.
	 */
	if (!evtimer_pending(sf->soon, NULL))
		evtimer_add(sf->soon, &tv);
}

/* Moves a bad file aside so it can be examined, and says so. */
static void
move_aside(const char *path, int64_t now, const char *why)
{
	char aside[PATH_MAX + 32];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path,
	    (long long)(now / 1000));
	if (rename(path, aside) == 0)
		log_err("event=state_file_unusable path=%s reason=\"%s\" "
		    "moved_to=%s note=\"starting fresh\"", path, LOG_Q(why), aside);
	else
		log_err("event=state_file_unusable path=%s reason=\"%s\" "
		    "note=\"could not move it aside (%s); starting fresh, it "
		    "will be overwritten\"", path, LOG_Q(why), strerror(errno));
}

static size_t
restore_store(struct monitor *m, const cJSON *store)
{
	const cJSON *series, *p;
	size_t n = 0;

	if (!cJSON_IsObject(store))
		return 0;
	cJSON_ArrayForEach(series, store) {
		cJSON_ArrayForEach(p, series) {
			const cJSON *t = cJSON_GetArrayItem(p, 0);
			const cJSON *v = cJSON_GetArrayItem(p, 1);

			if (cJSON_IsNumber(t) && cJSON_IsNumber(v) &&
			    monitor_restore_sample(m, series->string,
			    (int64_t)t->valuedouble, v->valuedouble) == 0)
				n++;
		}
	}
	return n;
}

int
statefile_decode(const struct statefile_parts *p, const char *buf,
    size_t len, int64_t now, struct statefile_restored *out, char *why,
    size_t whylen)
{
	cJSON *doc;
	const cJSON *ver;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(why, whylen, "empty");
		return -1;
	}
	/* Judged whole before anything is applied: a bad file changes nothing. */
	doc = cJSON_ParseWithLength(buf, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		snprintf(why, whylen, "not valid JSON (truncated or damaged)");
		return -1;
	}
	ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (!cJSON_IsNumber(ver) || (ver->valuedouble != STATE_VERSION &&
	    ver->valuedouble != STATE_VERSION_NUMBERS)) {
		if (cJSON_IsNumber(ver))
			snprintf(why, whylen, "unknown format version %g "
			    "(this vigild reads %d and %d)", ver->valuedouble,
			    STATE_VERSION_NUMBERS, STATE_VERSION);
		else
			snprintf(why, whylen, "no format version");
		cJSON_Delete(doc);
		return -1;
	}
	/* Keys this version does not know are ignored: a newer one's extras. */
	out->version = ver->valueint;
	out->rules = ruleset_restore(monitor_rules_mut(p->m),
	    cJSON_GetObjectItemCaseSensitive(doc, "rules"));
	out->silences = silences_load(monitor_silences_mut(p->m),
	    cJSON_GetObjectItemCaseSensitive(doc, "silences"), now);
	maint_load(monitor_maint_mut(p->m),
	    cJSON_GetObjectItemCaseSensitive(doc, "maintenance"), now);
	notifier_restore(p->nt, cJSON_GetObjectItemCaseSensitive(doc,
	    "notifiers"));
	if (p->dp != NULL)
		deploys_restore(p->dp, cJSON_GetObjectItemCaseSensitive(doc,
		    "deploys"));
	out->samples = restore_store(p->m,
	    cJSON_GetObjectItemCaseSensitive(doc, "store"));
	beatboard_restore(monitor_beats(p->m),
	    cJSON_GetObjectItemCaseSensitive(doc, "heartbeats"));
	cJSON_Delete(doc);
	return 0;
}

enum statefile_outcome
statefile_load(const struct statefile_parts *p, const char *path,
    int64_t now, struct statefile_restored *out)
{
	char why[128];
	size_t len = 0;
	char *buf;
	int rc = file_read_own(path, STATEFILE_MAX_BYTES, &buf, &len, why,
	    sizeof(why));

	memset(out, 0, sizeof(*out));
	if (rc == FILE_ERR_ABSENT) {
		log_info("event=state_file_absent path=%s "
		    "note=\"fresh start\"", path);
		return STATEFILE_ABSENT;
	}
	if (rc == FILE_ERR_NOT_REGULAR || rc == FILE_ERR_TOO_BIG) {
		move_aside(path, now, "not a regular file of a sane size");
		return STATEFILE_UNUSABLE;
	}
	if (rc != FILE_OK) {
		log_err("event=state_file_unreadable path=%s error=\"%s\" "
		    "note=\"starting fresh\"", path, LOG_Q(why));
		return STATEFILE_UNREADABLE;
	}
	if (statefile_decode(p, buf, len, now, out, why, sizeof(why)) != 0) {
		free(buf);
		move_aside(path, now, why);
		return STATEFILE_UNUSABLE;
	}
	free(buf);
	log_notice("event=state_restored path=%s samples=%zu silences=%zu "
	    "rules=%zu version=%d", path, out->samples, out->silences,
	    out->rules, out->version);
	return STATEFILE_RESTORED;
}

struct statefile *
statefile_open(struct event_base *base, const char *dir, int64_t interval_ms,
    struct monitor *m, struct notifier *nt, struct deploys *dp)
{
	struct statefile *sf = calloc(1, sizeof(*sf));
	struct statefile_restored restored;
	struct timeval tv;

	if (sf == NULL)
		return NULL;
	sf->pipefd[0] = sf->pipefd[1] = -1;
	sf->base = base;
	sf->parts.m = m;
	sf->parts.nt = nt;
	sf->parts.dp = dp;
	sf->interval_ms = interval_ms;
	snprintf(sf->dir, sizeof(sf->dir), "%s", dir);
	snprintf(sf->path, sizeof(sf->path), "%s/%s", dir, STATEFILE_NAME);
	snprintf(sf->tmp, sizeof(sf->tmp), "%s/.%s.tmp", dir, STATEFILE_NAME);
	if (pipe2(sf->pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(sf);
		return NULL;
	}
	sf->timer = event_new(base, -1, EV_PERSIST, on_timer, sf);
	sf->soon = evtimer_new(base, on_soon, sf);
	sf->done = event_new(base, sf->pipefd[0], EV_READ | EV_PERSIST,
	    on_done, sf);
	if (sf->timer == NULL || sf->soon == NULL || sf->done == NULL ||
	    event_add(sf->done, NULL) != 0) {
		statefile_close(sf);
		return NULL;
	}
	if (statefile_dir_check(dir, sf->last_error,
	    sizeof(sf->last_error)) != 0) {
		/* Nothing read from or written to a directory others control. */
		sf->unsafe = true;
		log_err("event=state_dir_unsafe error=\"%s\" note=\"alert "
		    "state is neither restored nor saved; fix it and restart; "
		    "polling goes on\"", LOG_Q(sf->last_error));
	} else {
		statefile_load(&sf->parts, sf->path, clock_wall_ms(),
		    &restored);
	}
	sf->opened = true;
	tv.tv_sec = (time_t)(interval_ms / 1000);
	tv.tv_usec = (suseconds_t)((interval_ms % 1000) * 1000);
	evtimer_add(sf->timer, &tv);
	return sf;
}

void
statefile_close(struct statefile *sf)
{
	if (sf == NULL)
		return;
	if (sf->writing) {
		struct result r;
		ssize_t n;
		int fl = fcntl(sf->pipefd[0], F_GETFL);

		/* Let the thread in flight finish before writing anew. */
		fcntl(sf->pipefd[0], F_SETFL, fl & ~O_NONBLOCK);
		do {
			n = read(sf->pipefd[0], &r, sizeof(r));
		} while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(r))
			note_result(sf, &r);
		sf->writing = false;
	}
	if (sf->opened && may_write(sf)) {
		struct job *j = make_job(sf);

		if (j != NULL) {
			struct result r = write_atomically(j);

			note_result(sf, &r);
			if (r.err == 0)
				log_notice("event=state_saved path=%s "
				    "bytes=%zu", sf->path, j->len);
			free(j->buf);
			free(j);
		}
	}
	if (sf->timer != NULL)
		event_free(sf->timer);
	if (sf->soon != NULL)
		event_free(sf->soon);
	if (sf->done != NULL)
		event_free(sf->done);
	if (sf->pipefd[0] >= 0)
		close(sf->pipefd[0]);
	if (sf->pipefd[1] >= 0)
		close(sf->pipefd[1]);
	free(sf);
}

void
statefile_view(const struct statefile *sf, struct statefile_view *v)
{
	memset(v, 0, sizeof(*v));
	if (sf == NULL) {
		v->path = "";
		v->last_error = "";
		return;
	}
	v->path = sf->path;
	v->last_saved = sf->last_saved;
	v->last_error = sf->last_error;
	v->writes = sf->writes;
	v->failures = sf->failures;
}
