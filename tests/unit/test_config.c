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
