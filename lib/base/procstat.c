#include "base/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>


int
procstat_parse_stat(const char *line, long ticks, long page,
    struct procstat *out)
{
	/* The name may hold spaces and parentheses: fields follow the last. */
	const char *p = strrchr(line, ')');
	unsigned long long utime = 0, stime = 0, vsize = 0;
	long long rss = 0;
	char *end;

	out->ok = false;
	if (p == NULL || ticks <= 0 || page <= 0)
		return -1;
	p++;
	/* Field 3 (state) is next; utime is 14, stime 15, vsize 23, rss 24. */
	for (int field = 3; field <= 24; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			return -1;
		if (field == 14 || field == 15 || field == 23 || field == 24) {
			errno = 0;
			if (field == 24) {
				rss = strtoll(p, &end, 10);
			} else {
				unsigned long long v = strtoull(p, &end, 10);

				if (field == 14)
					utime = v;
				else if (field == 15)
					stime = v;
				else
					vsize = v;
			}
			if (end == p || errno != 0)
				return -1;
			p = end;
		} else {
			p += strcspn(p, " \n");
		}
	}
	out->cpu_seconds = (double)(utime + stime) / (double)ticks;
	out->virtual_bytes = (double)vsize;
	out->resident_bytes = rss > 0 ? (double)rss * (double)page : 0;
	out->ok = true;
	return 0;
}

/* Entries of /proc/self/fd, less the one the listing itself holds. */
static double
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

int
procstat_read(struct procstat *out)
{
	char line[1024];
	struct rlimit rl;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	/* One read: the kernel writes the line whole. */
	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if (procstat_parse_stat(line, sysconf(_SC_CLK_TCK),
	    sysconf(_SC_PAGESIZE), out) != 0)
		return -1;
	out->open_fds = count_fds();
	out->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY ? (double)rl.rlim_cur : -1;
	return 0;
}
