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
#include "release/deploy.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "notify/notifier.h"
#include "engine/ruleset.h"
#include "engine/silence.h"
#include "engine/store.h"

#define STATE_VERSION		1
#define MIN_KEEP_MS		(5 * 60 * 1000)
#define MAX_SAMPLES_SAVED	2000

struct statefile {
	struct event_base *base;
	struct monitor *m;
	struct notifier *nt;
	struct deploys *dp;
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
	size_t off = 0;
	int fd = open(j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		r.err = errno;
		snprintf(r.step, sizeof(r.step), "create");
		return r;
	}
	while (off < j->len) {
		ssize_t n = write(fd, j->buf + off, j->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r.err = n < 0 ? errno : EIO;
			snprintf(r.step, sizeof(r.step), "write");
			close(fd);
			unlink(j->tmp);
			return r;
		}
		off += (size_t)n;
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

static cJSON *
silences_json(const struct silences *sl)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < silences_count(sl); i++) {
		const struct silence *x = silences_at(sl, i);
		cJSON *o = cJSON_CreateObject(), *m;

		cJSON_AddNumberToObject(o, "id", (double)x->id);
		cJSON_AddStringToObject(o, "rule", x->rule);
		m = cJSON_AddObjectToObject(o, "matchers");
		for (size_t k = 0; k < x->nmatchers; k++)
			cJSON_AddStringToObject(m, x->matchers[k].key,
			    x->matchers[k].value);
		cJSON_AddStringToObject(o, "author", x->author);
		cJSON_AddStringToObject(o, "comment", x->comment);
		cJSON_AddNumberToObject(o, "created", (double)x->created);
		cJSON_AddNumberToObject(o, "expires", (double)x->expires);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

struct store_ctx {
	cJSON *out;
	int64_t since;
};

static void
save_series(const struct series *s, void *arg)
{
	struct store_ctx *c = arg;
	size_t len = series_len(s), first = series_since(s, c->since);
	cJSON *a;

	if (first >= len)
		return;
	if (len - first > MAX_SAMPLES_SAVED)
		first = len - MAX_SAMPLES_SAVED;
	a = cJSON_AddArrayToObject(c->out, series_name(s));
	for (size_t i = first; i < len; i++) {
		struct sample x;
		cJSON *p = cJSON_CreateArray();

		series_at(s, i, &x);
		cJSON_AddItemToArray(p, cJSON_CreateNumber((double)x.t));
		cJSON_AddItemToArray(p, cJSON_CreateNumber(x.v));
		cJSON_AddItemToArray(a, p);
	}
}

static char *
build_document(struct statefile *sf, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	int64_t now = clock_wall_ms();
	int64_t keep = ruleset_max_window_ms(monitor_rules(sf->m));
	struct store_ctx sc;
	char *s;

	if (keep < MIN_KEEP_MS)
		keep = MIN_KEEP_MS;
	cJSON_AddNumberToObject(o, "version", STATE_VERSION);
	cJSON_AddNumberToObject(o, "saved", (double)now);
	cJSON_AddItemToObject(o, "rules", ruleset_save(monitor_rules(sf->m)));
	cJSON_AddItemToObject(o, "silences",
	    silences_json(monitor_silences(sf->m)));
	cJSON_AddItemToObject(o, "notifiers", notifier_save(sf->nt));
	if (sf->dp != NULL)
		cJSON_AddItemToObject(o, "deploys", deploys_save(sf->dp));
	sc.out = cJSON_AddObjectToObject(o, "store");
	sc.since = now - keep;
	if (sc.out != NULL)
		store_foreach(monitor_store(sf->m), save_series, &sc);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	*len = s != NULL ? strlen(s) : 0;
	return s;
}

/* Logs a write failure once per distinct error, and its recovery. */
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
	sf->failures++;
	snprintf(msg, sizeof(msg), "%s: %s", r->step, strerror(r->err));
	if (strcmp(msg, sf->last_error) != 0)
		log_err("event=state_save_failed path=%s error=\"%s\" "
		    "retry_every_ms=%lld note=\"alert state will not survive a "
		    "restart until this is fixed; polling goes on\"",
		    sf->path, msg, (long long)sf->interval_ms);
	snprintf(sf->last_error, sizeof(sf->last_error), "%s", msg);
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
	j->buf = build_document(sf, &j->len);
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
	notifier_take_dirty(sf->nt);
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
move_aside(struct statefile *sf, const char *why)
{
	char aside[PATH_MAX + 32];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", sf->path,
	    (long long)(clock_wall_ms() / 1000));
	if (rename(sf->path, aside) == 0)
		log_err("event=state_file_unusable path=%s reason=\"%s\" "
		    "moved_to=%s note=\"starting fresh\"", sf->path, why,
		    aside);
	else
		log_err("event=state_file_unusable path=%s reason=\"%s\" "
		    "note=\"could not move it aside (%s); starting fresh, it "
		    "will be overwritten\"", sf->path, why, strerror(errno));
}

static void
restore_silences(struct monitor *m, const cJSON *a, int64_t now)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, a) {
		struct silence x;
		const cJSON *f, *mt;

		memset(&x, 0, sizeof(x));
		f = cJSON_GetObjectItemCaseSensitive(o, "id");
		x.id = cJSON_IsNumber(f) ? (uint64_t)f->valuedouble : 0;
		f = cJSON_GetObjectItemCaseSensitive(o, "expires");
		x.expires = cJSON_IsNumber(f) ? (int64_t)f->valuedouble : 0;
		f = cJSON_GetObjectItemCaseSensitive(o, "created");
		x.created = cJSON_IsNumber(f) ? (int64_t)f->valuedouble : 0;
		if (x.id == 0 || x.expires <= now)
			continue;	/* expired while vigild was down */
		f = cJSON_GetObjectItemCaseSensitive(o, "rule");
		if (cJSON_IsString(f))
			snprintf(x.rule, sizeof(x.rule), "%s", f->valuestring);
		f = cJSON_GetObjectItemCaseSensitive(o, "author");
		if (cJSON_IsString(f))
			snprintf(x.author, sizeof(x.author), "%s",
			    f->valuestring);
		f = cJSON_GetObjectItemCaseSensitive(o, "comment");
		if (cJSON_IsString(f))
			snprintf(x.comment, sizeof(x.comment), "%s",
			    f->valuestring);
		mt = cJSON_GetObjectItemCaseSensitive(o, "matchers");
		cJSON_ArrayForEach(f, mt) {
			if (!cJSON_IsString(f) ||
			    x.nmatchers >= SILENCE_MAX_MATCHERS)
				continue;
			snprintf(x.matchers[x.nmatchers].key,
			    sizeof(x.matchers[0].key), "%s", f->string);
			snprintf(x.matchers[x.nmatchers].value,
			    sizeof(x.matchers[0].value), "%s", f->valuestring);
			x.nmatchers++;
		}
		if (x.rule[0] == '\0' && x.nmatchers == 0)
			continue;
		silences_restore(monitor_silences(m), &x);
	}
}

static size_t
restore_store(struct monitor *m, const cJSON *store)
{
	const cJSON *series, *p;
	size_t n = 0;

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

static void
load(struct statefile *sf)
{
	struct stat st;
	cJSON *doc;
	const cJSON *ver;
	char *buf;
	size_t got = 0;
	int fd = open(sf->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			log_info("event=state_file_absent path=%s "
			    "note=\"fresh start\"", sf->path);
		else
			log_err("event=state_file_unreadable path=%s "
			    "error=\"%s\" note=\"starting fresh\"", sf->path,
			    strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATEFILE_MAX_BYTES) {
		close(fd);
		move_aside(sf, "not a regular file of a sane size");
		return;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		log_err("event=state_file_unreadable path=%s error=\"out of "
		    "memory\" note=\"starting fresh\"", sf->path);
		return;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	doc = cJSON_ParseWithLength(buf, got);
	free(buf);
	ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (doc == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		move_aside(sf, got == 0 ? "empty" :
		    "not valid JSON (truncated or damaged)");
		return;
	}
	if (!cJSON_IsNumber(ver) || ver->valuedouble != STATE_VERSION) {
		cJSON_Delete(doc);
		move_aside(sf, "unknown format version");
		return;
	}
	ruleset_restore(monitor_rules(sf->m),
	    cJSON_GetObjectItemCaseSensitive(doc, "rules"));
	restore_silences(sf->m, cJSON_GetObjectItemCaseSensitive(doc,
	    "silences"), clock_wall_ms());
	notifier_restore(sf->nt, cJSON_GetObjectItemCaseSensitive(doc,
	    "notifiers"));
	if (sf->dp != NULL)
		deploys_restore(sf->dp, cJSON_GetObjectItemCaseSensitive(doc,
		    "deploys"));
	log_notice("event=state_restored path=%s samples=%zu silences=%zu",
	    sf->path, restore_store(sf->m,
	    cJSON_GetObjectItemCaseSensitive(doc, "store")),
	    silences_count(monitor_silences(sf->m)));
	cJSON_Delete(doc);
}

struct statefile *
statefile_open(struct event_base *base, const char *dir, int64_t interval_ms,
    struct monitor *m, struct notifier *nt, struct deploys *dp)
{
	struct statefile *sf = calloc(1, sizeof(*sf));
	struct timeval tv;

	if (sf == NULL)
		return NULL;
	sf->pipefd[0] = sf->pipefd[1] = -1;
	sf->base = base;
	sf->m = m;
	sf->nt = nt;
	sf->dp = dp;
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
	load(sf);
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
	if (sf->opened) {
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
