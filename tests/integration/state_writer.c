/* state_writer.c: test helper that commits state generations forever ("write"), verifies one ("check"), lists the
 * keys ("dump") or sets "key<TAB>value" lines from stdin in one commit ("load", for benches that need a large table
 * in place before the agent starts). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/state.h"

#define SW_ROWS 200

/* ~100 bytes per row, so a generation is ~20 KB on disk; the tab, newline,
 * backslash and high byte make every commit exercise the escaping. */
static void sw_value(char *buf, size_t len, unsigned long gen, int row)
{
	snprintf(buf, len, "value-of-gen-%lu-row-%03d\tpad\\ding\n\xe2\x82\xac-%0*d-end-%lu", gen, row, 40, row, gen);
}

static int sw_write(const char *path)
{
	struct cm_state *st;
	char key[32], val[160];
	unsigned long gen = 1;
	const char *g;
	int corrupt = 0, rc;

	rc = cm_state_open(path, &st, &corrupt);
	if (rc < 0 || corrupt) {
		fprintf(stderr, "state_writer: cannot start from %s: %s\n", path,
		        rc < 0 ? strerror(-rc) : "file was corrupt");
		return 1;
	}
	/* Go on from the last committed generation so numbers only grow. */
	g = cm_state_get(st, "gen");
	if (g)
		gen = strtoul(g, NULL, 10) + 1;
	for (;; gen++) {
		snprintf(val, sizeof(val), "%lu", gen);
		if (cm_state_set(st, "gen", val) < 0)
			return 1;
		for (int i = 0; i < SW_ROWS; i++) {
			snprintf(key, sizeof(key), "row.%03d", i);
			sw_value(val, sizeof(val), gen, i);
			if (cm_state_set(st, key, val) < 0)
				return 1;
		}
		rc = cm_state_commit(st);
		if (rc < 0) {
			fprintf(stderr, "state_writer: commit %lu: %s\n", gen, strerror(-rc));
			return 1;
		}
		printf("committed %lu\n", gen);
		fflush(stdout);
	}
}

static int sw_nkeys;

static void sw_count(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	(void)arg;
	sw_nkeys++;
}

static int sw_check(const char *path)
{
	struct cm_state *st;
	char key[32], want[160];
	unsigned long gen;
	const char *g, *v;
	char *end;
	int corrupt = 0, rc;

	rc = cm_state_open(path, &st, &corrupt);
	if (rc < 0) {
		printf("FAIL cannot open %s: %s\n", path, strerror(-rc));
		return 1;
	}
	if (corrupt) {
		printf("FAIL %s was corrupt\n", path);
		return 1;
	}
	g = cm_state_get(st, "gen");
	if (!g) {
		printf("FAIL no gen key in %s\n", path);
		return 1;
	}
	errno = 0;
	gen = strtoul(g, &end, 10);
	if (errno || *end || gen == 0) {
		printf("FAIL bad gen \"%s\"\n", g);
		return 1;
	}
	/* Every row must belong to the same generation: a mix is a torn write. */
	for (int i = 0; i < SW_ROWS; i++) {
		snprintf(key, sizeof(key), "row.%03d", i);
		sw_value(want, sizeof(want), gen, i);
		v = cm_state_get(st, key);
		if (!v || strcmp(v, want) != 0) {
			printf("FAIL %s does not match gen %lu\n", key, gen);
			return 1;
		}
	}
	cm_state_foreach(st, "", sw_count, NULL);
	if (sw_nkeys != SW_ROWS + 1) {
		printf("FAIL %d keys, want %d\n", sw_nkeys, SW_ROWS + 1);
		return 1;
	}
	printf("gen %lu\n", gen);
	cm_state_close(st);
	return 0;
}

static void sw_print(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("%s\t%s\n", k, v);
}

/* What a running agent has committed, one "key<TAB>value" line per key. */
static int sw_dump(const char *path)
{
	struct cm_state *st;
	int corrupt = 0, rc = cm_state_open_readonly(path, &st, &corrupt);

	if (rc < 0 || corrupt) {
		fprintf(stderr, "state_writer: %s: %s\n", path, rc < 0 ? strerror(-rc) : "corrupt");
		if (rc < 0)
			return 1;
	}
	cm_state_foreach(st, "", sw_print, NULL);
	cm_state_close(st);
	return corrupt ? 1 : 0;
}

static int sw_load(const char *path)
{
	struct cm_state *st;
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t n;
	int corrupt = 0, rc;
	long count = 0;

	if ((rc = cm_state_open(path, &st, &corrupt)) < 0 || corrupt) {
		fprintf(stderr, "state_writer: cannot open %s: %s\n", path,
		        rc < 0 ? strerror(-rc) : "file was corrupt");
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!(tab = strchr(line, '\t')))
			continue;
		*tab = '\0';
		if (cm_state_set(st, line, tab + 1) < 0)
			return 1;
		count++;
	}
	free(line);
	if ((rc = cm_state_commit(st)) < 0 || (rc = cm_state_compact(st)) < 0) {
		fprintf(stderr, "state_writer: cannot commit %s: %s\n", path, strerror(-rc));
		return 1;
	}
	cm_state_close(st);
	printf("%ld keys\n", count);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return sw_write(argv[2]);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return sw_check(argv[2]);
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return sw_dump(argv[2]);
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return sw_load(argv[2]);
	fprintf(stderr, "usage: %s write|check|dump|load FILE\n", argv[0]);
	return 2;
}
