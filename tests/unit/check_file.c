/*
 * file: the one reader of configuration and secret files, and the proof
 * that vigild (the config's api.token_file) and vigilctl (--token-file)
 * read the same token file the same way.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <check.h>

#include "base/file.h"
#include "config/config.h"
#include "client.h"
#include "suites.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-file-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* dir/name holding len bytes of text; the path in a static buffer. */
static const char *
put(const char *name, const char *text, size_t len)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* n bytes of 'a', then tail. */
static char *
filled(size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s = malloc(n + t + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 'a', n);
	memcpy(s + n, tail, t + 1);
	return s;
}

START_TEST(test_size_limit)
{
	char *text = filled(100, ""), *out, err[128];
	size_t len = 0;
	const char *p = put("f", text, 100);

	ck_assert_int_eq(file_read(p, 100, &out, &len, err, sizeof(err)),
	    FILE_OK);
	ck_assert_uint_eq(len, 100);
	ck_assert_uint_eq(strlen(out), 100);
	free(out);
	ck_assert_int_eq(file_read(p, 99, &out, &len, err, sizeof(err)),
	    FILE_ERR_TOO_BIG);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "larger than 99 bytes");
	/* Larger than the first guess (stat's size): the buffer grows. */
	ck_assert_int_eq(file_read(p, 1 << 20, &out, NULL, err, sizeof(err)),
	    FILE_OK);
	free(out);
	free(text);
	/* Secrets: 4 KiB exactly passes, one byte more does not. */
	text = filled(FILE_SECRET_MAX, "");
	p = put("s", text, FILE_SECRET_MAX);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_OK);
	ck_assert_uint_eq(strlen(out), FILE_SECRET_MAX);
	file_secret_free(out);
	free(text);
	text = filled(FILE_SECRET_MAX, "a");
	p = put("s", text, FILE_SECRET_MAX + 1);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_ERR_TOO_BIG);
	ck_assert_ptr_null(out);
	free(text);
}
END_TEST

/*
 * No reader checked a secret file's mode before, and none does now: the
 * file's owner and mode are the operator's (systemd credentials, 0644
 * files in test set-ups). A group-readable secret is read as it was.
 */
START_TEST(test_mode)
{
	char *out, err[128];
	const char *p = put("m", "tok\n", 4);

	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_OK);
	ck_assert_str_eq(out, "tok");
	file_secret_free(out);
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_OK);
	file_secret_free(out);
	/* Readable by the group, or by others: refused, the mode named. */
	ck_assert_int_eq(chmod(p, 0640), 0);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_ERR_MODE);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "readable by its group or others (mode 0640): "
	    "chmod 600 it");
	ck_assert_int_eq(chmod(p, 0604), 0);
	ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out, err,
	    sizeof(err)), FILE_ERR_MODE);
	/* Not a secret: a configuration file may be world-readable. */
	ck_assert_int_eq(file_read(p, 64, &out, NULL, err, sizeof(err)),
	    FILE_OK);
	free(out);
	/* Unreadable (for all but root): the system's reason. */
	ck_assert_int_eq(chmod(p, 0), 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(file_read_secret(p, FILE_SECRET_MAX, &out,
		    err, sizeof(err)), FILE_ERR_OPEN);
		ck_assert_str_eq(err, "Permission denied");
	}
}
END_TEST

static int
secret(const char *text, size_t len, char **out, char *err, size_t errlen)
{
	return file_read_secret(put("n", text, len), FILE_SECRET_MAX, out, err,
	    errlen);
}

START_TEST(test_newline_rule)
{
	char *out, err[128];

	ck_assert_int_eq(secret("tok", 3, &out, err, sizeof(err)), FILE_OK);
	ck_assert_str_eq(out, "tok");
	file_secret_free(out);
	ck_assert_int_eq(secret("tok\n", 4, &out, err, sizeof(err)), FILE_OK);
	ck_assert_str_eq(out, "tok");
	file_secret_free(out);
	ck_assert_int_eq(secret("tok\r\n", 5, &out, err, sizeof(err)),
	    FILE_OK);
	ck_assert_str_eq(out, "tok");
	file_secret_free(out);
	/* Nothing else is stripped: a password keeps its blanks. */
	ck_assert_int_eq(secret(" p w \n", 6, &out, err, sizeof(err)),
	    FILE_OK);
	ck_assert_str_eq(out, " p w ");
	file_secret_free(out);
	/* A second newline is a second line. */
	ck_assert_int_eq(secret("tok\n\n", 5, &out, err, sizeof(err)),
	    FILE_ERR_LINES);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "more than one line");
	ck_assert_int_eq(secret("a\nb\n", 4, &out, err, sizeof(err)),
	    FILE_ERR_LINES);
	ck_assert_int_eq(secret("tok\r", 4, &out, err, sizeof(err)),
	    FILE_ERR_LINES);
	ck_assert_int_eq(secret("to\0k", 4, &out, err, sizeof(err)),
	    FILE_ERR_LINES);
	ck_assert_str_eq(err, "a NUL byte");
	/* file_read keeps every byte. */
	ck_assert_int_eq(file_read(put("r", "x\n\n", 3), 10, &out, NULL, err,
	    sizeof(err)), FILE_OK);
	ck_assert_str_eq(out, "x\n\n");
	free(out);
}
END_TEST

START_TEST(test_empty)
{
	char *out, err[128];
	size_t len = 9;

	ck_assert_int_eq(file_read(put("e", "", 0), 10, &out, &len, err,
	    sizeof(err)), FILE_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_int_eq(secret("", 0, &out, err, sizeof(err)),
	    FILE_ERR_EMPTY);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "empty");
	ck_assert_int_eq(secret("\n", 1, &out, err, sizeof(err)),
	    FILE_ERR_EMPTY);
	ck_assert_int_eq(secret("\r\n", 2, &out, err, sizeof(err)),
	    FILE_ERR_EMPTY);
}
END_TEST

START_TEST(test_missing_and_directory)
{
	char *out, err[128], path[128];

	snprintf(path, sizeof(path), "%s/absent", dir);
	ck_assert_int_eq(file_read(path, 10, &out, NULL, err, sizeof(err)),
	    FILE_ERR_OPEN);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "No such file or directory");
	ck_assert_int_eq(file_read_secret(path, 10, &out, err, sizeof(err)),
	    FILE_ERR_OPEN);
	ck_assert_int_eq(file_read(dir, 10, &out, NULL, err, sizeof(err)),
	    FILE_ERR_NOT_REGULAR);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "not a regular file");
	ck_assert_int_eq(file_read_secret(dir, 10, &out, err, sizeof(err)),
	    FILE_ERR_NOT_REGULAR);
	/* A FIFO neither hangs the open nor is read. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(file_read(path, 10, &out, NULL, err, sizeof(err)),
	    FILE_ERR_NOT_REGULAR);
}
END_TEST

/* What vigild's configuration makes of api.token_file, or NULL. */
static char *
vigild_token(const char *path)
{
	char text[512];
	struct config_errors errs = { 0 };
	struct config *cfg;
	char *tok = NULL;

	snprintf(text, sizeof(text), "{\"api\": {\"token_file\": \"%s\"}, "
	    "\"probes\": []}", path);
	cfg = config_parse("t.json", text, strlen(text), &errs);
	if (cfg != NULL && cfg->api_token != NULL)
		tok = strdup(cfg->api_token);
	config_free(cfg);
	config_errors_clear(&errs);
	return tok;
}

/* What vigilctl makes of --token-file, or NULL. */
static char *
vigilctl_token(const char *path)
{
	struct client_opts o = { 0 };
	struct client c;
	char err[512], *tok = NULL;

	unsetenv("VIGIL_TOKEN_FILE");
	o.url = "http://127.0.0.1:1";
	o.token_file = path;
	if (client_init(&c, &o, err, sizeof(err)) == 0) {
		tok = c.token != NULL ? strdup(c.token) : NULL;
		client_clear(&c);
	}
	return tok;
}

/*
 * vigilctl used to read 4 KiB and stop, so a token file vigild refused
 * passed it cut short. Both now go through file_read_secret.
 */
/* vigild's own file: no link followed, absence told apart. */
START_TEST(test_own_file)
{
	char *out, err[128], link[160];
	size_t len;
	const char *p = put("victim", "{}", 2);

	ck_assert_int_eq(file_read_own(p, 64, &out, &len, err, sizeof(err)),
	    FILE_OK);
	ck_assert_uint_eq(len, 2);
	free(out);
	snprintf(link, sizeof(link), "%s/state.json", dir);
	ck_assert_int_eq(symlink(p, link), 0);
	ck_assert_int_eq(file_read_own(link, 64, &out, &len, err,
	    sizeof(err)), FILE_ERR_OPEN);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "a symbolic link"));
	/* file_read follows links: a config may be one. */
	ck_assert_int_eq(file_read(link, 64, &out, &len, err, sizeof(err)),
	    FILE_OK);
	free(out);
	snprintf(link, sizeof(link), "%s/absent.json", dir);
	ck_assert_int_eq(file_read_own(link, 64, &out, &len, err,
	    sizeof(err)), FILE_ERR_ABSENT);
	ck_assert_int_eq(file_read(link, 64, &out, &len, err, sizeof(err)),
	    FILE_ERR_OPEN);
}
END_TEST

START_TEST(test_token_both_callers)
{
	static const struct {
		size_t n;
		const char *tail;
		bool ok;
	} cases[] = {
		{ FILE_SECRET_MAX, "", true },
		{ FILE_SECRET_MAX - 1, "\n", true },
		{ FILE_SECRET_MAX - 2, "\r\n", true },
		{ FILE_SECRET_MAX, "\n", false },
		{ FILE_SECRET_MAX + 1, "", false },
		{ 10, "\n\n", false },
		{ 0, "\n", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = filled(cases[i].n, cases[i].tail);
		const char *p = put("token", text, strlen(text));
		char *d = vigild_token(p), *c = vigilctl_token(p);

		ck_assert_msg((d != NULL) == cases[i].ok, "vigild, case %zu",
		    i);
		ck_assert_msg((c != NULL) == cases[i].ok, "vigilctl, case %zu",
		    i);
		if (cases[i].ok) {
			ck_assert_str_eq(d, c);
			ck_assert_uint_eq(strlen(d), cases[i].n);
		}
		free(d);
		free(c);
		free(text);
	}
}
END_TEST

Suite *
file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_newline_rule);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_missing_and_directory);
	tcase_add_test(tc, test_own_file);
	tcase_add_test(tc, test_token_both_callers);
	suite_add_tcase(s, tc);
	return s;
}
