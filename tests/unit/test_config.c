/* test_config.c: unit tests for config loading: defaults, every error class with file:line, secrets kept out of errors.
 */
#define _GNU_SOURCE /* nftw */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "subagent/config.h"
#include "tests/unit/tmpdir.h"

static char tmpdir[256];
static char confpath[512];

static void setup(void)
{
	ut_tmpdir_make(tmpdir, sizeof(tmpdir), "sa_test_config");
	snprintf(confpath, sizeof(confpath), "%s/sanagent.conf", tmpdir);
}

static void teardown(void)
{
	ut_tmpdir_remove(tmpdir);
}

static void write_conf(const char *text)
{
	FILE *f = fopen(confpath, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Loads text; on success returns the config, on failure NULL with err filled. */
static struct sa_config *load(const char *text, int *rc, char *err, size_t errlen)
{
	struct sa_config *cfg = NULL;

	write_conf(text);
	*rc = sa_config_load(confpath, &cfg, err, errlen);
	return cfg;
}

static struct sa_config *load_ok(const char *text)
{
	char err[512] = "";
	int rc;
	struct sa_config *cfg = load(text, &rc, err, sizeof(err));

	ck_assert_msg(rc == 0, "load failed: rc=%d err=%s", rc, err);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(err, "");
	return cfg;
}

START_TEST(test_defaults)
{
	struct sa_config *cfg = load_ok("# nothing but a comment\n");

	ck_assert_str_eq(cfg->path, confpath);
	ck_assert_str_eq(cfg->agentx_socket, "");
	ck_assert_int_eq(cfg->agentx_ping_interval, 1);
	ck_assert_str_eq(cfg->state_file, "/var/lib/sanagent/state");
	ck_assert_str_eq(cfg->pid_file, "");
	ck_assert_int_eq(cfg->trap_receiver.enabled, 0);
	ck_assert_ptr_nonnull(cfg->trap_receiver.listen);
	ck_assert_uint_eq(cfg->trap_receiver.ncommunities, 0);
	ck_assert_uint_eq(cfg->trap_receiver.nusers, 0);
	for (int i = 0; i < SA_ENGINE_COUNT; i++)
		ck_assert_int_eq(cfg->engine_enabled[i], 0);
	sa_config_free(cfg);

	/* An empty trap_receiver section switches it on with the default address. */
	cfg = load_ok("agent = { };\ntrap_receiver = { };\n");
	ck_assert_int_eq(cfg->trap_receiver.enabled, 1);
	ck_assert_str_eq(cfg->trap_receiver.listen, "udp:127.0.0.1:1162");
	ck_assert_int_eq(cfg->agentx_ping_interval, 1);
	sa_config_free(cfg);
}
END_TEST

static const char full_conf[] =
    "agent = {\n"
    "  agentx_socket = \"unix:/run/sa/master.sock\";\n"
    "  agentx_ping_interval = 3600;\n"
    "  state_file = \"/tmp/st\";\n"
    "  pid_file = \"/run/sanagentd.pid\";\n"
    "};\n"
    "trap_receiver = {\n"
    "  listen = \"udp:127.0.0.1:20162\";\n"
    "  communities = (\n"
    "    { community = \"c1\"; sources = [ \"127.0.0.0/8\", \"::1/128\" ]; },\n"
    "    { community = \"c2\"; sources = [ \"10.0.0.0/8\", \"0.0.0.0/0\", \"fe80::/10\" ]; }\n"
    "  );\n"
    "  users = (\n"
    "    { name = \"authonly\"; auth_protocol = \"SHA-256\"; auth_passphrase = \"authpass1\"; },\n"
    "    { name = \"full\"; auth_protocol = \"md5\"; auth_passphrase = \"authpass2\";\n"
    "      priv_protocol = \"aes\"; priv_passphrase = \"privpass2\"; engine_id = \"0x8000000001020304\"; }\n"
    "  );\n"
    "};\n"
    "discovery = { enabled = true; };\n"
    "balance = { };\n"
    "redirect = { enabled = false; };\n";

START_TEST(test_full)
{
	struct sa_config *cfg = load_ok(full_conf);

	ck_assert_str_eq(cfg->agentx_socket, "unix:/run/sa/master.sock");
	ck_assert_int_eq(cfg->agentx_ping_interval, 3600);
	ck_assert_str_eq(cfg->state_file, "/tmp/st");
	ck_assert_str_eq(cfg->pid_file, "/run/sanagentd.pid");
	ck_assert_int_eq(cfg->trap_receiver.enabled, 1);
	ck_assert_str_eq(cfg->trap_receiver.listen, "udp:127.0.0.1:20162");
	ck_assert_uint_eq(cfg->trap_receiver.ncommunities, 2);
	ck_assert_str_eq(cfg->trap_receiver.communities[0].community, "c1");
	ck_assert_uint_eq(cfg->trap_receiver.communities[0].nsources, 2);
	ck_assert_str_eq(cfg->trap_receiver.communities[0].sources[0], "127.0.0.0/8");
	ck_assert_str_eq(cfg->trap_receiver.communities[0].sources[1], "::1/128");
	ck_assert_uint_eq(cfg->trap_receiver.communities[1].nsources, 3);
	ck_assert_str_eq(cfg->trap_receiver.communities[1].sources[2], "fe80::/10");
	ck_assert_uint_eq(cfg->trap_receiver.nusers, 2);
	ck_assert_str_eq(cfg->trap_receiver.users[0].name, "authonly");
	ck_assert_str_eq(cfg->trap_receiver.users[0].auth_protocol, "SHA-256");
	ck_assert_str_eq(cfg->trap_receiver.users[0].auth_passphrase, "authpass1");
	ck_assert_str_eq(cfg->trap_receiver.users[0].priv_protocol, "");
	ck_assert_str_eq(cfg->trap_receiver.users[0].priv_passphrase, "");
	ck_assert_str_eq(cfg->trap_receiver.users[0].engine_id, "");
	/* Protocol names are stored in their canonical spelling. */
	ck_assert_str_eq(cfg->trap_receiver.users[1].auth_protocol, "MD5");
	ck_assert_str_eq(cfg->trap_receiver.users[1].priv_protocol, "AES");
	ck_assert_str_eq(cfg->trap_receiver.users[1].priv_passphrase, "privpass2");
	ck_assert_str_eq(cfg->trap_receiver.users[1].engine_id, "0x8000000001020304");
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_DISCOVERY], 1);
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_BALANCE], 1);
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_REDIRECT], 0);
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_REDISCOVER], 0);
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_CLUSTER], 0);
	sa_config_free(cfg);
}
END_TEST

START_TEST(test_engine_sections)
{
	char text[256];
	struct sa_config *cfg;

	ck_assert_str_eq(sa_engine_names[SA_ENGINE_DISCOVERY], "discovery");
	ck_assert_str_eq(sa_engine_names[SA_ENGINE_BALANCE], "balance");
	ck_assert_str_eq(sa_engine_names[SA_ENGINE_REDIRECT], "redirect");
	ck_assert_str_eq(sa_engine_names[SA_ENGINE_REDISCOVER], "rediscover");
	ck_assert_str_eq(sa_engine_names[SA_ENGINE_CLUSTER], "cluster");
	/* Each section alone switches on exactly its engine. */
	for (int i = 0; i < SA_ENGINE_COUNT; i++) {
		snprintf(text, sizeof(text), "%s = { };\n", sa_engine_names[i]);
		cfg = load_ok(text);
		for (int j = 0; j < SA_ENGINE_COUNT; j++)
			ck_assert_int_eq(cfg->engine_enabled[j], i == j);
		sa_config_free(cfg);
		snprintf(text, sizeof(text), "%s = { enabled = false; };\n", sa_engine_names[i]);
		cfg = load_ok(text);
		for (int j = 0; j < SA_ENGINE_COUNT; j++)
			ck_assert_int_eq(cfg->engine_enabled[j], 0);
		sa_config_free(cfg);
	}
}
END_TEST

struct bad_case {
	const char *text;
	int line;           /* expected line in "file:line:" */
	const char *needle; /* must appear in the message */
	const char *secret; /* must not appear in the message */
};

#define USER(extra)                                                                                                    \
	"trap_receiver = {\n"                                                                                          \
	"  users = (\n"                                                                                                \
	"    { name = \"u\";\n"                                                                                        \
	"      auth_protocol = \"SHA\";\n" extra "    }\n"                                                             \
	"  );\n"                                                                                                       \
	"};\n"

static const struct bad_case bad[] = {
    /* unknown keys */
    {"agent = { };\nbogus = 1;\n", 2, "unknown key \"bogus\"", NULL},
    {"agent = {\n  state_file = \"/x\";\n  statefile = \"/y\";\n};\n", 3, "statefile", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"sekrit-c\";\n"
     "    sources = [ \"127.0.0.0/8\" ];\n    color = \"blue\"; } );\n};\n",
     4, "unknown key \"color\" in trap_receiver.communities[0]", "sekrit-c"},
    {USER("      auth_passphrase = \"longenough\";\n      extra = 1;\n"), 6, "extra", "longenough"},
    {"\n\ncluster = {\n  enabled = true;\n  nodes = 3;\n};\n", 5, "unknown key \"nodes\" in cluster", NULL},
    /* wrong types */
    {"agent = {\n  agentx_ping_interval = \"5\";\n};\n", 2, "expected an integer", NULL},
    {"agent = {\n  agentx_ping_interval = 1.5;\n};\n", 2, "expected an integer", NULL},
    {"agent = {\n  state_file = 7;\n};\n", 2, "expected a string", NULL},
    {"agent = \"x\";\n", 1, "expected a group", NULL},
    {"balance = {\n  enabled = 1;\n};\n", 2, "expected true or false", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = \"127.0.0.0/8\"; } );\n};\n", 3,
     "expected an array", NULL},
    {"trap_receiver = {\n  users = { name = \"u\"; };\n};\n", 2, "expected a list", NULL},
    {"trap_receiver = {\n  users = ( 1, 2 );\n};\n", 2, "users[0]: expected a group", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ 1 ]; } );\n};\n", 3,
     "expected a string", NULL},
    /* out of range */
    {"agent = {\n  agentx_ping_interval = 0;\n};\n", 2, "out of range 1..3600", NULL},
    {"agent = {\n\n  agentx_ping_interval = 3601;\n};\n", 3, "3601 out of range", NULL},
    {"agent = {\n  agentx_ping_interval = 99999999999L;\n};\n", 2, "out of range", NULL},
    /* empty where a value is needed */
    {"agent = {\n  state_file = \"\";\n};\n", 2, "must not be empty", NULL},
    {"trap_receiver = {\n  listen = \"\";\n};\n", 2, "must not be empty", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"\";\n sources = [ \"::1/128\" ]; } );\n};\n", 2,
     "must not be empty", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n sources = [ ]; } );\n};\n", 3, "must not be empty",
     NULL},
    /* bad CIDRs */
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"127.0.0.0/33\" ]; } );\n};\n", 3,
     "127.0.0.0/33", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"::1/128\",\n"
     "      \"300.1.1.0/24\" ]; } );\n};\n",
     4, "sources[1]", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"::1/129\" ]; } );\n};\n", 3,
     "out of range 0..128", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"127.0.0.1\" ]; } );\n};\n", 3,
     "not a CIDR", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"127.0.0.1/8\" ]; } );\n};\n", 3,
     "bits set beyond the /8", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"10.0.0.0/+8\" ]; } );\n};\n", 3,
     "bad prefix length", NULL},
    {"trap_receiver = {\n  communities = ( { community = \"c\";\n    sources = [ \"fe80::1%lo/128\" ]; } );\n};\n", 3,
     "bad IPv6 address", NULL},
    /* users: passphrases, protocols, engine ids */
    {USER("      auth_passphrase = \"short12\";\n"), 5, "auth_passphrase: too short", "short12"},
    {USER("      auth_passphrase = \"authpassword\";\n      priv_protocol = \"AES\";\n"), 3, "needs priv_passphrase",
     "authpassword"},
    {USER("      auth_passphrase = \"authpassword\";\n      priv_protocol = \"DES\";\n"
          "      priv_passphrase = \"tiny\";\n"),
     7, "priv_passphrase: too short", "tiny"},
    {USER("      auth_passphrase = \"authpassword\";\n      priv_passphrase = \"privpassword\";\n"), 6,
     "given without priv_protocol", "privpassword"},
    {USER("      auth_passphrase = \"authpassword\";\n      priv_protocol = \"3DES\";\n"
          "      priv_passphrase = \"privpassword\";\n"),
     6, "must be one of", "privpassword"},
    {"trap_receiver = {\n  users = ( { name = \"u\";\n    auth_protocol = \"SHA1\";\n"
     "    auth_passphrase = \"authpassword\"; } );\n};\n",
     3, "\"SHA1\": must be one of", "authpassword"},
    {"trap_receiver = {\n  users = ( { name = \"u\";\n    auth_passphrase = \"authpassword\"; } );\n};\n", 2,
     "missing required key \"auth_protocol\"", "authpassword"},
    {USER(""), 3, "missing required key \"auth_passphrase\"", NULL},
    {USER("      auth_passphrase = \"authpassword\";\n      engine_id = \"0x80001f88\";\n"), 6, "must be 5..32 bytes",
     "authpassword"},
    {USER("      auth_passphrase = \"authpassword\";\n      engine_id = \"0x80001f8880a\";\n"), 6, "odd number",
     "authpassword"},
    {USER("      auth_passphrase = \"authpassword\";\n      engine_id = \"80001f88zz\";\n"), 6, "not a hex string",
     "authpassword"},
    {USER("      auth_passphrase = \"authpassword\";\n      engine_id = "
          "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\";\n"),
     6, "must be 5..32 bytes, not 33", "authpassword"},
    /* duplicates the receiver could not tell apart */
    {"trap_receiver = {\n  communities = (\n    { community = \"dup-secret\"; sources = [ \"::1/128\" ]; },\n"
     "    { community = \"dup-secret\"; sources = [ \"127.0.0.0/8\" ]; }\n  );\n};\n",
     4, "same community as communities[0]", "dup-secret"},
    {"trap_receiver = {\n  users = (\n    { name = \"u\"; auth_protocol = \"SHA\"; auth_passphrase = \"pass-one1\"; "
     "},\n"
     "    { name = \"u\"; auth_protocol = \"MD5\"; auth_passphrase = \"pass-two2\"; }\n  );\n};\n",
     4, "already defined", "pass-two2"},
    /* libconfig's own syntax errors */
    {"agent = {\n  agentx_ping_interval = ;\n};\n", 2, "syntax error", NULL},
    {"agent = {\n  state_file = \"/x\";\n  pid_file = = \"/y\";\n};\n", 3, "syntax error", NULL},
    {"agent = { };\nagent = { };\n", 2, "duplicate", NULL},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad[_i];
	char err[512] = "", prefix[1024];
	struct sa_config *cfg;
	int rc;

	cfg = load(c->text, &rc, err, sizeof(err));
	ck_assert_msg(rc < 0, "case %d loaded but should fail:\n%s", _i, c->text);
	ck_assert_ptr_null(cfg);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", confpath, c->line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "case %d: want prefix \"%s\", got \"%s\"", _i, prefix,
	              err);
	ck_assert_msg(strstr(err, c->needle) != NULL, "case %d: want \"%s\" in \"%s\"", _i, c->needle, err);
	if (c->secret)
		ck_assert_msg(strstr(err, c->secret) == NULL, "case %d: secret leaked: \"%s\"", _i, err);
}
END_TEST

START_TEST(test_unreadable)
{
	struct sa_config *cfg = NULL;
	char err[512], want[1024], path[600];

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	ck_assert_int_eq(sa_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(cfg);
	snprintf(want, sizeof(want), "%s:0: cannot read: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(sa_config_load(tmpdir, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s:0: cannot read: ", tmpdir);
	ck_assert(strncmp(err, want, strlen(want)) == 0);

	/* A tiny buffer is cut, not overrun. */
	ck_assert_int_eq(sa_config_load(path, &cfg, err, 4), -ENOENT);
	ck_assert_uint_eq(strlen(err), 3);
}
END_TEST

START_TEST(test_include_error_names_included_file)
{
	char inc[600], err[512], want[1024];
	struct sa_config *cfg = NULL;
	FILE *f;
	int rc;

	snprintf(inc, sizeof(inc), "%s/inc.conf", tmpdir);
	f = fopen(inc, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# included\n\n  agentx_ping_interval = 0;\n", f);
	fclose(f);
	cfg = load("agent = {\n  @include \"inc.conf\"\n};\n", &rc, err, sizeof(err));
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_null(cfg);
	snprintf(want, sizeof(want), "%s:3: ", inc);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\"", err);
}
END_TEST

/* The shipped, documented config must stay loadable. */
START_TEST(test_shipped_conf)
{
	const char *src = getenv("SA_SRCDIR");
	struct sa_config *cfg = NULL;
	char path[1024], err[512] = "";
	int rc;

	if (!src || !*src) {
		fprintf(stderr, "test_shipped_conf: SA_SRCDIR not set, skipped\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/conf/sanagent.conf", src);
	rc = sa_config_load(path, &cfg, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_int_eq(cfg->agentx_ping_interval, 1);
	ck_assert_str_eq(cfg->state_file, "/var/lib/sanagent/state");
	sa_config_free(cfg);
}
END_TEST

/* The commented-out examples in the shipped config must be valid too:
 * uncomment every "# " line that holds config rather than prose and load it. */
START_TEST(test_shipped_conf_examples)
{
	const char *src = getenv("SA_SRCDIR");
	struct sa_config *cfg = NULL;
	char path[1024], line[512], err[512] = "";
	FILE *in, *out;
	int rc;

	if (!src || !*src) {
		fprintf(stderr, "test_shipped_conf_examples: SA_SRCDIR not set, skipped\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/conf/sanagent.conf", src);
	in = fopen(path, "r");
	ck_assert_ptr_nonnull(in);
	out = fopen(confpath, "w");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), in)) {
		const char *rest = line + 2, *p = rest;
		size_t id = 0;

		if (strncmp(line, "# ", 2) != 0) {
			fputs(line, out);
			continue;
		}
		while (*p == ' ')
			p++;
		while ((rest[id] >= 'a' && rest[id] <= 'z') || rest[id] == '_')
			id++;
		if (*p && *p != '#' && *p != '\n' &&
		    (rest[0] == ' ' || rest[0] == '}' || (id && strncmp(rest + id, " = {", 4) == 0)))
			fputs(rest, out);
	}
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	rc = sa_config_load(confpath, &cfg, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	/* Everything was switched on by the examples. */
	ck_assert_int_eq(cfg->trap_receiver.enabled, 1);
	ck_assert_uint_eq(cfg->trap_receiver.ncommunities, 1);
	ck_assert_uint_eq(cfg->trap_receiver.nusers, 1);
	for (int i = 0; i < SA_ENGINE_COUNT; i++)
		ck_assert_int_eq(cfg->engine_enabled[i], 1);
	sa_config_free(cfg);
}
END_TEST

/* One bad line: the load fails with "FILE:LINE: " first and needle in the message. */
static void expect_bad_at(const char *text, int line, const char *needle)
{
	char err[512] = "", prefix[1024];
	struct sa_config *cfg;
	int rc;

	cfg = load(text, &rc, err, sizeof(err));
	ck_assert_msg(rc < 0 && !cfg, "loaded but should fail:\n%s", text);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", confpath, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix \"%s\", got \"%s\"", prefix, err);
	ck_assert_msg(strstr(err, needle) != NULL, "want \"%s\" in \"%s\"", needle, err);
}

/* agent { }: the limits on rows created with createAndWait and not active yet. */
START_TEST(test_agent_pending_rows)
{
	struct sa_config *cfg = load_ok("agent = { };\n");

	ck_assert_int_eq(cfg->max_pending_rows, 256);
	ck_assert_int_eq(cfg->pending_row_age, 300);
	sa_config_free(cfg);
	cfg = load_ok("agent = {\n  max_pending_rows = 1;\n  pending_row_age = 86400;\n};\n");
	ck_assert_int_eq(cfg->max_pending_rows, 1);
	ck_assert_int_eq(cfg->pending_row_age, 86400);
	sa_config_free(cfg);
	expect_bad_at("agent = {\n  pending_row_age = 60;\n  max_pending_rows = 0;\n};\n", 3,
	              "agent.max_pending_rows: 0 out of range 1..100000");
	expect_bad_at("agent = {\n  max_pending_rows = 100001;\n};\n", 2, "out of range 1..100000");
	expect_bad_at("agent = {\n\n  pending_row_age = 0;\n};\n", 3, "agent.pending_row_age: 0 out of range 1..86400");
	expect_bad_at("agent = {\n  pending_row_age = \"5m\";\n};\n", 2, "expected an integer");
}
END_TEST

/* trap_receiver { }: defaults of an empty section, values kept, bad ones named by line. */
START_TEST(test_trap_receiver_section)
{
	struct sa_config *cfg = load_ok("trap_receiver = { };\n");

	ck_assert_int_eq(cfg->trap_receiver.enabled, 1);
	ck_assert_str_eq(cfg->trap_receiver.listen, "udp:127.0.0.1:1162");
	ck_assert_uint_eq(cfg->trap_receiver.ncommunities, 0);
	ck_assert_uint_eq(cfg->trap_receiver.nusers, 0);
	sa_config_free(cfg);
	cfg = load_ok("trap_receiver = {\n  listen = \"udp:[::1]:2162\";\n"
	              "  communities = ( { community = \"c\"; sources = [ \"192.0.2.0/24\" ]; } );\n};\n");
	ck_assert_str_eq(cfg->trap_receiver.listen, "udp:[::1]:2162");
	ck_assert_str_eq(cfg->trap_receiver.communities[0].sources[0], "192.0.2.0/24");
	sa_config_free(cfg);
	expect_bad_at("trap_receiver = {\n  listen = \"udp:127.0.0.1:1162\";\n  listen_port = 1162;\n};\n", 3,
	              "unknown key \"listen_port\" in trap_receiver");
	expect_bad_at("trap_receiver = {\n  communities = ( { community = \"c\";\n"
	              "    sources = [ \"192.0.2.0/33\" ]; } );\n};\n",
	              3, "out of range 0..32");
}
END_TEST

/* discovery { }: every default, a valid value of each kind, out-of-range values and cross-field rules. */
START_TEST(test_discovery_section)
{
	struct sa_config *cfg = load_ok("discovery = { };\n");
	const struct sa_discovery_config *d = &cfg->discovery;

	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_DISCOVERY], 1);
	ck_assert_str_eq(d->initiator_name, "iqn.2026-01.org.sanagent:discovery");
	ck_assert_uint_eq(d->nportals, 0);
	ck_assert_uint_eq(d->nisns, 0);
	ck_assert_uint_eq(d->nscan, 0);
	ck_assert_int_eq(d->interval, 30);
	ck_assert_int_eq(d->age_out, 300);
	ck_assert_int_eq(d->timeout_ms, 10000);
	ck_assert_int_eq(d->max_reply, 33554432);
	ck_assert_int_eq(d->max_data_segment, 262144);
	ck_assert_str_eq(d->chap_user, "");
	ck_assert_str_eq(d->chap_secret, "");
	ck_assert_str_eq(d->chap_target_user, "");
	ck_assert_str_eq(d->chap_target_secret, "");
	ck_assert_int_eq(d->isns_scn_port, 0);
	ck_assert_str_eq(d->isns_scn_address, "");
	ck_assert_int_eq(d->isns_scn_idle, 60);
	ck_assert_int_eq(d->chap_secret_min, 12);
	ck_assert_int_eq(d->chap_secret_max, 16);
	ck_assert_str_eq(d->login_initiator_name, "iqn.2026-01.org.sanagent:initiator");
	ck_assert_int_eq(d->session_window, 60);
	sa_config_free(cfg);

	cfg = load_ok("discovery = {\n  isns = [ \"127.0.0.1:3205\" ];\n  timeout_ms = 100;\n  max_reply = 65536;\n"
	              "  isns_scn_port = 65535;\n  isns_scn_address = \"::1\";\n  chap_user = \"u\";\n"
	              "  chap_secret = \"0123456789ab\";\n  session_window = 3600;\n  chap_secret_min = 16;\n};\n");
	d = &cfg->discovery;
	ck_assert_str_eq(d->isns[0], "127.0.0.1:3205");
	ck_assert_int_eq(d->timeout_ms, 100);
	ck_assert_int_eq(d->max_reply, 65536);
	ck_assert_int_eq(d->isns_scn_port, 65535);
	ck_assert_str_eq(d->isns_scn_address, "::1");
	ck_assert_str_eq(d->chap_user, "u");
	ck_assert_int_eq(d->session_window, 3600);
	ck_assert_int_eq(d->chap_secret_min, 16);
	sa_config_free(cfg);

	expect_bad_at("discovery = {\n  interval = 0;\n};\n", 2, "discovery.interval: 0 out of range 1..86400");
	expect_bad_at("discovery = {\n  age_out = 604801;\n};\n", 2, "out of range 1..604800");
	expect_bad_at("discovery = {\n  timeout_ms = 99;\n};\n", 2, "out of range 100..600000");
	expect_bad_at("discovery = {\n  max_reply = 1024;\n};\n", 2, "out of range 65536..268435456");
	expect_bad_at("discovery = {\n  max_data_segment = 511;\n};\n", 2, "out of range 512..16777215");
	expect_bad_at("discovery = {\n  isns_scn_port = 65536;\n};\n", 2, "out of range 0..65535");
	expect_bad_at("discovery = {\n  isns_scn_idle = 0;\n};\n", 2, "out of range 1..86400");
	expect_bad_at("discovery = {\n  session_window = 4;\n};\n", 2,
	              "discovery.session_window: 4 out of range 5..3600");
	expect_bad_at("discovery = {\n  chap_secret_max = 256;\n};\n", 2, "out of range 1..255");
	expect_bad_at("discovery = {\n  scan = ( { cidr = \"10.0.0.0/24\";\n    concurrency = 1025; } );\n};\n", 3,
	              "discovery.scan[0].concurrency: 1025 out of range 1..1024");
	expect_bad_at("discovery = {\n  scan = ( { cidr = \"10.0.0.0/24\"; ports = [ 3260,\n    0 ]; } );\n};\n", 3,
	              "discovery.scan[0].ports[1]: 0 out of range 1..65535");
	expect_bad_at("discovery = {\n  scan = ( {\n    cidr = \"10.0.0.0/8\"; } );\n};\n", 3,
	              "prefix longer than /16 needed");
	expect_bad_at("discovery = {\n  isns_scn_address = \"localhost\";\n};\n", 2, "not a numeric");
	expect_bad_at("discovery = {\n  chap_secret_max = 10;\n  chap_secret_min = 11;\n};\n", 3,
	              "larger than chap_secret_max (10)");
	expect_bad_at("discovery = {\n  chap_user = \"u\";\n};\n", 2, "chap_user and chap_secret go together");
}
END_TEST

/* balance { }: section defaults, a team's defaults, valid values, out-of-range values and team rules. */
START_TEST(test_balance_section)
{
	struct sa_config *cfg = load_ok("balance = { };\n");
	const struct sa_balance_config *b = &cfg->balance;
	const struct sa_bal_team_cfg *t;

	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_BALANCE], 1);
	ck_assert_str_eq(b->run_dir, "/run/sanagent");
	ck_assert_str_eq(b->nbdkit, "nbdkit");
	ck_assert_ptr_nonnull(strstr(b->plugin, "/nbdkit-sanpath-plugin.so"));
	ck_assert_uint_eq(b->nplugin_args, 0);
	ck_assert_int_eq(b->poll_interval_ms, 250);
	ck_assert_int_eq(b->shares_notify_interval, 10);
	ck_assert_uint_eq(b->nteams, 0);
	/* The engine names the file in its messages. */
	ck_assert_str_eq(b->source, confpath);
	sa_config_free(cfg);

	cfg = load_ok("balance = {\n  poll_interval_ms = 10000;\n  shares_notify_interval = 0;\n"
	              "  plugin_args = [ \"report_ms=250\" ];\n"
	              "  teams = ( { name = \"t0\"; target = \"iqn.2026-01.test:t0\";\n"
	              "    paths = ( { portal = \"127.0.0.1:3260\"; share_read = 30; },\n"
	              "              { portal = \"[::1]:3260\"; share_read = 70; } ); } );\n};\n");
	b = &cfg->balance;
	ck_assert_int_eq(b->poll_interval_ms, 10000);
	ck_assert_int_eq(b->shares_notify_interval, 0);
	ck_assert_str_eq(b->plugin_args[0], "report_ms=250");
	ck_assert_uint_eq(b->nteams, 1);
	t = &b->teams[0];
	ck_assert_int_eq(t->lun, 0);
	ck_assert_str_eq(t->mode, "lb");
	ck_assert_str_eq(t->algo, "static");
	ck_assert_int_eq(t->timer_interval_ms, 1000);
	ck_assert_int_eq(t->change_threshold, 10);
	ck_assert_int_eq(t->lb_change, 5);
	ck_assert_uint_eq(t->npaths, 2);
	ck_assert_int_eq(t->paths[1].share_read, 70);
	ck_assert_int_eq(t->paths[1].share_write, 0);
	ck_assert_str_eq(t->paths[0].iface, "");
	sa_config_free(cfg);

#define TEAM(extra)                                                                                                    \
	"balance = {\n  teams = ( { name = \"t0\"; target = \"iqn.2026-01.test:t0\";\n" extra                          \
	"    paths = ( { portal = \"127.0.0.1:3260\"; } ); } );\n};\n"
	expect_bad_at("balance = {\n  poll_interval_ms = 49;\n};\n", 2,
	              "balance.poll_interval_ms: 49 out of range 50..10000");
	expect_bad_at("balance = {\n  shares_notify_interval = 86401;\n};\n", 2, "out of range 0..86400");
	expect_bad_at("balance = {\n  plugin_args = [ \"report_ms\" ];\n};\n", 2, "not a KEY=VALUE");
	expect_bad_at(TEAM("    lun = 16384;\n"), 3, "balance.teams[0].lun: 16384 out of range 0..16383");
	expect_bad_at(TEAM("    timer_interval_ms = 9;\n"), 3, "out of range 10..3600000");
	expect_bad_at(TEAM("    change_threshold = 101;\n"), 3, "out of range 0..100");
	expect_bad_at(TEAM("    lb_change = 0;\n"), 3, "out of range 1..100");
	expect_bad_at(TEAM("    mode = \"active\";\n"), 3, "must be one of");
	expect_bad_at(TEAM("    algo = \"fastest\";\n"), 3, "must be one of");
	expect_bad_at("balance = {\n  teams = ( { name = \"t0\"; target = \"iqn.2026-01.test:t0\";\n"
	              "    paths = ( { portal = \"127.0.0.1:3260\";\n      share_write = 101; } ); } );\n};\n",
	              4, "balance.teams[0].paths[0].share_write: 101 out of range 0..100");
	expect_bad_at("balance = {\n  teams = ( { name = \"t0\"; target = \"iqn.2026-01.test:t0\";\n"
	              "    paths = ( { portal = \"127.0.0.1:3260\"; share_read = 60; },\n"
	              "              { portal = \"127.0.0.2:3260\"; share_read = 30; } ); } );\n};\n",
	              3, "share_read shares sum to 90, not 100");
	expect_bad_at("balance = {\n  teams = ( { name = \".hidden\"; target = \"iqn.2026-01.test:t0\";\n"
	              "    paths = ( { portal = \"127.0.0.1:3260\"; } ); } );\n};\n",
	              2, "not start with .");
#undef TEAM
}
END_TEST

/* storage { }: defaults, valid values, out-of-range values. */
START_TEST(test_storage_section)
{
	struct sa_config *cfg = load_ok("# no storage section\n");

	ck_assert_int_eq(cfg->storage.enabled, 0);
	sa_config_free(cfg);
	cfg = load_ok("storage = { };\n");
	ck_assert_int_eq(cfg->storage.enabled, 1);
	ck_assert_int_eq(cfg->storage.tgt_control, 0);
	ck_assert_int_eq(cfg->storage.interval, 2);
	/* Not an engine of the registry: no engine switched on. */
	for (int i = 0; i < SA_ENGINE_COUNT; i++)
		ck_assert_int_eq(cfg->engine_enabled[i], 0);
	sa_config_free(cfg);
	cfg = load_ok("storage = {\n  tgt_control = 65535;\n  interval = 3600;\n};\n");
	ck_assert_int_eq(cfg->storage.tgt_control, 65535);
	ck_assert_int_eq(cfg->storage.interval, 3600);
	sa_config_free(cfg);
	expect_bad_at("storage = {\n  tgt_control = -1;\n};\n", 2, "storage.tgt_control: -1 out of range 0..65535");
	expect_bad_at("storage = {\n  tgt_control = 1;\n  interval = 0;\n};\n", 3,
	              "storage.interval: 0 out of range 1..3600");
	expect_bad_at("storage = {\n  enabled = true;\n};\n", 2, "unknown key \"enabled\" in storage");
}
END_TEST

/* redirect { }: defaults, lists, and the cross-field rules. */
START_TEST(test_redirect_section)
{
	static const struct {
		const char *text;
		int line;
		const char *needle;
	} rbad[] = {
	    {"redirect = {\n listen = [ \"localhost:3260\" ];\n};\n", 2, "not a numeric"},
	    {"redirect = {\n listen = [ \"127.0.0.1\" ];\n};\n", 2, "ADDRESS:PORT"},
	    {"redirect = {\n servers = ( { name = \"a\"; address = \"x\"; } );\n};\n", 2, "numeric"},
	    {"redirect = {\n servers = ( { name = \"a\"; address = \"::1\"; admin = \"off\"; } );\n};\n", 2,
	     "must be one of"},
	    {"redirect = {\n servers = ( { name = \"a\"; address = \"::1\"; },\n { name = \"a\"; address = \"::2\"; } "
	     ");\n};\n",
	     3, "already used"},
	    {"redirect = {\n resources = ( { target = \"iqn.x:1\"; server = \"nope\"; } );\n};\n", 2, "unknown server"},
	    {"redirect = {\n resources = ( { target = \"iqn.x:1\"; },\n { target = \"iqn.x:1\"; } );\n};\n", 3,
	     "listed twice"},
	    {"redirect = {\n threshold = 0;\n};\n", 2, "out of range"},
	};
	struct sa_config *cfg = load_ok("redirect = { };\n");
	char err[512], want[32];
	int rc;

	ck_assert_uint_eq(cfg->redirect.nlisten, 0);
	ck_assert_int_eq(cfg->redirect.threshold, 50);
	ck_assert_int_eq(cfg->redirect.max_moves, 2);
	ck_assert_int_eq(cfg->redirect.probe_interval_ms, 300);
	ck_assert_int_eq(cfg->redirect.probe_timeout_ms, 500);
	ck_assert_int_eq(cfg->redirect.max_data_segment, 65536);
	sa_config_free(cfg);
	cfg = load_ok("redirect = { listen = [ \"127.0.0.1:3260\", \"[::1]:3260\" ]; permanent = true;\n"
	              "  servers = ( { name = \"s1\"; address = \"127.0.0.1\"; port = 3261; tgt_control = 7; },\n"
	              "              { name = \"s2\"; address = \"::1\"; capacity = 3; admin = \"DRAIN\"; } );\n"
	              "  resources = ( { target = \"iqn.x:1\"; server = \"s2\"; pinned = true; },\n"
	              "                { target = \"iqn.x:2\"; } ); };\n");
	ck_assert_uint_eq(cfg->redirect.nlisten, 2);
	ck_assert_int_eq(cfg->redirect.permanent, 1);
	ck_assert_uint_eq(cfg->redirect.nservers, 2);
	ck_assert_int_eq(cfg->redirect.servers[0].port, 3261);
	ck_assert_int_eq(cfg->redirect.servers[0].tgt_control, 7);
	ck_assert_str_eq(cfg->redirect.servers[0].admin, "up");
	ck_assert_int_eq(cfg->redirect.servers[1].port, 3260);
	ck_assert_int_eq(cfg->redirect.servers[1].capacity, 3);
	ck_assert_int_eq(cfg->redirect.servers[1].tgt_control, -1);
	ck_assert_str_eq(cfg->redirect.servers[1].admin, "drain");
	ck_assert_uint_eq(cfg->redirect.nresources, 2);
	ck_assert_int_eq(cfg->redirect.resources[0].pinned, 1);
	ck_assert_str_eq(cfg->redirect.resources[1].server, "");
	sa_config_free(cfg);
	for (size_t i = 0; i < sizeof(rbad) / sizeof(rbad[0]); i++) {
		cfg = load(rbad[i].text, &rc, err, sizeof(err));
		ck_assert_msg(rc < 0 && !cfg, "case %zu loaded", i);
		snprintf(want, sizeof(want), ":%d: ", rbad[i].line);
		ck_assert_msg(strstr(err, want), "case %zu: want line %d in \"%s\"", i, rbad[i].line, err);
		ck_assert_msg(strstr(err, rbad[i].needle), "case %zu: want \"%s\" in \"%s\"", i, rbad[i].needle, err);
	}
}
END_TEST

/* redirect { }: the portal and probe limits and the etcd group: defaults, valid values, out-of-range values. */
START_TEST(test_redirect_limits)
{
	struct sa_config *cfg = load_ok("redirect = { };\n");
	const struct sa_redirect_config *r = &cfg->redirect;

	ck_assert_int_eq(r->interval, 0);
	ck_assert_int_eq(r->load_interval, 1);
	ck_assert_int_eq(r->max_connections, 256);
	ck_assert_int_eq(r->max_per_source, 32);
	ck_assert_int_eq(r->header_timeout, 2);
	ck_assert_int_eq(r->login_timeout_ms, 5000);
	ck_assert_int_eq(r->etcd.present, 0);
	sa_config_free(cfg);
	cfg = load_ok("redirect = {\n  max_per_source = 1;\n  header_timeout = 600;\n  probe_timeout_ms = 50;\n"
	              "  etcd = { endpoints = [ \"http://127.0.0.1:2379\" ]; };\n};\n");
	r = &cfg->redirect;
	ck_assert_int_eq(r->max_per_source, 1);
	ck_assert_int_eq(r->header_timeout, 600);
	ck_assert_int_eq(r->probe_timeout_ms, 50);
	ck_assert_int_eq(r->etcd.present, 1);
	ck_assert_str_eq(r->etcd.cluster, "default");
	ck_assert_int_eq(r->etcd.lease_ttl, 1);
	sa_config_free(cfg);
	expect_bad_at("redirect = {\n  max_per_source = 0;\n};\n", 2,
	              "redirect.max_per_source: 0 out of range 1..100000");
	expect_bad_at("redirect = {\n  header_timeout = 601;\n};\n", 2, "out of range 1..600");
	expect_bad_at("redirect = {\n  probe_timeout_ms = 49;\n};\n", 2, "out of range 50..600000");
	expect_bad_at("redirect = {\n  login_timeout_ms = 99;\n};\n", 2, "out of range 100..600000");
	expect_bad_at("redirect = {\n  max_connections = 100001;\n};\n", 2, "out of range 1..100000");
	expect_bad_at("redirect = {\n  load_interval = 0;\n};\n", 2, "out of range 1..3600");
	/* The portal's CHAP, the load weights, hot spares and failure policies. */
	cfg = load_ok("redirect = { auth = \"CHAP\"; auth_lifetime = 0; weight_cpu = 1000000;\n"
	              "  servers = ( { name = \"s1\"; address = \"127.0.0.1\"; admin = \"spare\"; } );\n"
	              "  resources = ( { target = \"iqn.x:1\"; pinned = true; fail_policy = \"move\"; } ); };\n");
	r = &cfg->redirect;
	ck_assert_str_eq(r->auth, "chap");
	ck_assert_int_eq(r->auth_lifetime, 0);
	ck_assert_int_eq(r->weight_bytes, 1);
	ck_assert_int_eq(r->weight_cpu, 1000000);
	ck_assert_str_eq(r->servers[0].admin, "spare");
	ck_assert_str_eq(r->resources[0].fail_policy, "move");
	sa_config_free(cfg);
	expect_bad_at("redirect = {\n  auth = \"pap\";\n};\n", 2, "redirect.auth");
	expect_bad_at("redirect = {\n  weight_memory = 1000001;\n};\n", 2, "out of range 0..1000000");
	expect_bad_at("redirect = {\n  auth_lifetime = 86401;\n};\n", 2, "out of range 0..86400");
	expect_bad_at("redirect = {\n  resources = ( { target = \"iqn.x:1\";\n fail_policy = \"go\"; } );\n};\n", 3,
	              "fail_policy");
	expect_bad_at(
	    "redirect = {\n  etcd = { endpoints = [ \"http://127.0.0.1:2379\" ];\n    lease_ttl = 61; };\n};\n", 3,
	    "redirect.etcd.lease_ttl: 61 out of range 1..60");
	expect_bad_at("redirect = {\n  etcd = { endpoints = [ \"127.0.0.1:2379\" ]; };\n};\n", 2, "not an etcd URL");
}
END_TEST

/* cluster { etcd = { }; }: the same checks as redirect.etcd, named by file line. */
START_TEST(test_cluster_etcd)
{
	struct sa_config *cfg = load_ok("cluster = { };\n");

	ck_assert_int_eq(cfg->cluster.etcd.present, 0);
	sa_config_free(cfg);
	cfg = load_ok(
	    "cluster = {\n  etcd = { endpoints = [ \"http://127.0.0.1:2379\", \"http://127.0.0.2:2379\" ]; };\n};\n");
	ck_assert_int_eq(cfg->cluster.etcd.present, 1);
	ck_assert_uint_eq(cfg->cluster.etcd.nendpoints, 2);
	ck_assert_str_eq(cfg->cluster.etcd.endpoints[1], "http://127.0.0.2:2379");
	ck_assert_str_eq(cfg->cluster.etcd.cluster, "default");
	sa_config_free(cfg);
	expect_bad_at("cluster = {\n  role = \"host\";\n  etcd = { endpoints = [ \"127.0.0.1:2379\" ]; };\n};\n", 3,
	              "not an etcd URL");
	expect_bad_at(
	    "cluster = {\n  etcd = {\n    endpoints = [ \"http://127.0.0.1:2379\" ];\n    cluster = \"a/b\"; };\n};\n",
	    4, "must be 1..63 characters");
	expect_bad_at("cluster = {\n  etcd = { cluster = \"x\"; };\n};\n", 2, "endpoints");
	expect_bad_at("cluster = {\n  etcd = { endpoints = [ \"http://127.0.0.1:2379\" ]; lease_ttl = 1; };\n};\n", 2,
	              "unknown key");
}
END_TEST

/* rediscover { }: defaults, valid values, out-of-range values and bad choices, each named by line. */
START_TEST(test_rediscover_section)
{
	struct sa_config *cfg = load_ok("rediscover = { };\n");
	const struct sa_rediscover_config *r = &cfg->rediscover;

	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_REDISCOVER], 1);
	ck_assert_str_eq(r->mode, "dry-run");
	ck_assert_int_eq(r->hold_time, 30);
	ck_assert_int_eq(r->move_step_timeout, 10000);
	ck_assert_int_eq(r->target_cooldown, 300);
	ck_assert_int_eq(r->portal_cooldown, 300);
	ck_assert_int_eq(r->max_moves_per_hour, 6);
	ck_assert_int_eq(r->imbalance_share, 70);
	ck_assert_int_eq(r->session_age_out, 120);
	ck_assert_int_eq(r->history, 1000);
	ck_assert_int_eq(r->agent_port, 162);
	ck_assert_uint_eq(r->nthresholds, 0);
	ck_assert_uint_eq(r->npool, 0);
	sa_config_free(cfg);
	cfg = load_ok("rediscover = {\n  mode = \"ACT\";\n  imbalance_share = 100;\n"
	              "  thresholds = ( { metric = \"latency\"; value = 2000; } );\n"
	              "  pool = [ \"127.0.0.5\", \"[::1]:3261\" ];\n};\n");
	r = &cfg->rediscover;
	ck_assert_str_eq(r->mode, "act");
	ck_assert_int_eq(r->imbalance_share, 100);
	ck_assert_uint_eq(r->nthresholds, 1);
	ck_assert_str_eq(r->thresholds[0].direction, "above");
	ck_assert_int_eq(r->thresholds[0].value, 2000);
	ck_assert_uint_eq(r->npool, 2);
	sa_config_free(cfg);
	expect_bad_at("rediscover = {\n  imbalance_share = 49;\n};\n", 2,
	              "rediscover.imbalance_share: 49 out of range 50..100");
	expect_bad_at("rediscover = {\n  max_moves_per_hour = 1001;\n};\n", 2, "out of range 0..1000");
	expect_bad_at("rediscover = {\n  session_age_out = 0;\n};\n", 2, "out of range 1..86400");
	expect_bad_at("rediscover = {\n  agent_port = 0;\n};\n", 2, "out of range 1..65535");
	expect_bad_at("rediscover = {\n  move_step_timeout = 99;\n};\n", 2, "out of range 100..600000");
	expect_bad_at("rediscover = {\n  mode = \"on\";\n};\n", 2, "must be one of");
	expect_bad_at("rediscover = {\n  thresholds = ( { metric = \"latency\";\n    value = -1; } );\n};\n", 3,
	              "rediscover.thresholds[0].value: -1 out of range");
	expect_bad_at("rediscover = {\n  thresholds = ( { metric = \"speed\"; value = 1; } );\n};\n", 2,
	              "must be one of");
	expect_bad_at("rediscover = {\n  pool = [ \"portal-a\" ];\n};\n", 2, "rediscover.pool[0]");
	expect_bad_at("rediscover = {\n  pool = [ \"192.0.2.4@bad iface\" ];\n};\n", 2, "rediscover.pool[0]");
	expect_bad_at("rediscover = {\n  pool = [ \"192.0.2.4@\" ];\n};\n", 2, "rediscover.pool[0]");
}
END_TEST

/* rediscover { storage_agents, isns_server, isns_source }: what act mode needs to move a portal. */
START_TEST(test_rediscover_act_section)
{
	struct sa_config *cfg = load_ok("rediscover = { };\n");
	const struct sa_rediscover_config *r = &cfg->rediscover;

	ck_assert_uint_eq(r->nstorage_agents, 0);
	ck_assert_str_eq(r->isns_server, "");
	ck_assert_str_eq(r->isns_source, "iqn.2026-01.org.sanagent:nameserver");
	sa_config_free(cfg);
	cfg = load_ok("rediscover = {\n  mode = \"act\";\n  pool = [ \"192.0.2.4@s36\", \"192.0.2.3:3261\" ];\n"
	              "  storage_agents = ( { peer = \"udp:203.0.113.3:161\"; user = \"sanctl\";\n"
	              "      auth_passphrase = \"authpass1\"; priv_passphrase = \"privpass1\";\n"
	              "      portals = [ \"192.0.2.3:3260\", \"198.51.100.52:3260\" ]; poll_interval = 5; },\n"
	              "    { peer = \"udp:127.0.0.1:1161\"; user = \"u2\"; auth_passphrase = \"authpass2\";\n"
	              "      priv_passphrase = \"privpass2\"; } );\n"
	              "  isns_server = \"203.0.113.42:3205\";\n  isns_source = \"iqn.2026-01.test:ns\";\n};\n");
	r = &cfg->rediscover;
	ck_assert_uint_eq(r->npool, 2);
	ck_assert_str_eq(r->pool[0], "192.0.2.4@s36");
	ck_assert_uint_eq(r->nstorage_agents, 2);
	ck_assert_str_eq(r->storage_agents[0].peer, "udp:203.0.113.3:161");
	ck_assert_str_eq(r->storage_agents[0].user, "sanctl");
	ck_assert_str_eq(r->storage_agents[0].auth_passphrase, "authpass1");
	ck_assert_str_eq(r->storage_agents[0].priv_passphrase, "privpass1");
	ck_assert_uint_eq(r->storage_agents[0].nportals, 2);
	ck_assert_str_eq(r->storage_agents[0].portals[1], "198.51.100.52:3260");
	ck_assert_int_eq(r->storage_agents[0].poll_interval, 5);
	ck_assert_uint_eq(r->storage_agents[1].nportals, 0);
	ck_assert_int_eq(r->storage_agents[1].poll_interval, 0);
	ck_assert_str_eq(r->isns_server, "203.0.113.42:3205");
	ck_assert_str_eq(r->isns_source, "iqn.2026-01.test:ns");
	sa_config_free(cfg);
	/* Each storage agent needs the whole authPriv user; a secret never shows in the message. */
	expect_bad_at("rediscover = {\n  storage_agents = ( { peer = \"udp:127.0.0.1:1161\";\n"
	              "    user = \"u\"; auth_passphrase = \"authpass1\"; } );\n};\n",
	              2, "priv_passphrase");
	expect_bad_at("rediscover = {\n  storage_agents = ( { peer = \"udp:127.0.0.1:1161\"; user = \"u\";\n"
	              "    auth_passphrase = \"short\"; priv_passphrase = \"privpass1\"; } );\n};\n",
	              3, "too short");
	expect_bad_at("rediscover = {\n  storage_agents = ( { peer = \"udp:127.0.0.1:1161\"; user = \"u\";\n"
	              "    auth_passphrase = \"authpass1\"; priv_passphrase = \"privpass1\";\n"
	              "    portals = [ \"192.0.2.3\" ]; } );\n};\n",
	              4, "storage_agents[0].portals[0]");
	expect_bad_at("rediscover = {\n  storage_agents = ( { peer = \"udp:127.0.0.1:1161\"; user = \"u\";\n"
	              "    auth_passphrase = \"authpass1\"; priv_passphrase = \"privpass1\";\n"
	              "    poll_interval = -1; } );\n};\n",
	              4, "out of range 0..86400");
	expect_bad_at("rediscover = {\n  storage_agents = ( { peer = \"udp:1.1.1.1:161\"; user = \"u\";\n"
	              "    auth_passphrase = \"authpass1\"; priv_passphrase = \"privpass1\";\n"
	              "    portals = [ \"192.0.2.3:3260\" ]; },\n  { peer = \"udp:1.1.1.2:161\"; user = \"u\";\n"
	              "    auth_passphrase = \"authpass1\"; priv_passphrase = \"privpass1\";\n"
	              "    portals = [ \"192.0.2.3:3260\" ]; } );\n};\n",
	              2, "already listed at storage_agents[0]");
	expect_bad_at("rediscover = {\n  isns_server = \"203.0.113.42\";\n};\n", 2, "rediscover.isns_server");
	expect_bad_at("rediscover = {\n  isns_source = \"\";\n};\n", 2, "rediscover.isns_source");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_engine_sections);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_include_error_names_included_file);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_shipped_conf_examples);
	tcase_add_test(tc, test_redirect_section);
	tcase_add_test(tc, test_redirect_limits);
	tcase_add_test(tc, test_cluster_etcd);
	tcase_add_test(tc, test_agent_pending_rows);
	tcase_add_test(tc, test_trap_receiver_section);
	tcase_add_test(tc, test_discovery_section);
	tcase_add_test(tc, test_balance_section);
	tcase_add_test(tc, test_storage_section);
	tcase_add_test(tc, test_rediscover_section);
	tcase_add_test(tc, test_rediscover_act_section);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
