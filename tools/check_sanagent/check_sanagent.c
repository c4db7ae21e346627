/* check_sanagent.c: a Monitoring Plugins check of a sanagent over SNMP: teams, sessions, the redirector, engines. */
/*
 * A client tool, not part of the agent: it links libnetsnmp only and reads the SANAGENT MIBs by number (no MIB
 * text needed on the monitoring host).  It follows the Monitoring Plugins development guidelines: one status line
 * "SANAGENT MODE STATE - text | perfdata", exit 0/1/2/3, thresholds in the standard range syntax, and every
 * failure to get an answer (timeout, refused credentials, missing objects) ends in UNKNOWN.
 */
#define _GNU_SOURCE /* strcasestr */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
static const char *const st_name[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

#define PROGNAME "check_sanagent"
#define CK_VERSION "1.0"

/* The SANAGENT enterprise subtree: 1.3.6.1.4.1.32473.1 */
#define SA_ROOT 1, 3, 6, 1, 4, 1, 32473, 1
static const oid oid_engine_entry[] = {SA_ROOT, 1, 2, 1};
static const oid oid_team_entry[] = {SA_ROOT, 3, 2, 1, 2, 1};
static const oid oid_path_entry[] = {SA_ROOT, 3, 2, 1, 3, 1};
static const oid oid_session_entry[] = {SA_ROOT, 3, 1, 1, 10, 1};
static const oid oid_server_entry[] = {SA_ROOT, 3, 3, 1, 4, 1};
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- thresholds: the Monitoring Plugins range syntax [@][start:][end], "~" for minus infinity ---- */

struct range {
	int set;
	int inside; /* '@': alert inside start..end instead of outside */
	double start, end;
};

static int range_parse(const char *s, struct range *r)
{
	const char *colon;
	char *end;

	memset(r, 0, sizeof(*r));
	r->start = 0;
	r->end = INFINITY;
	if (*s == '@') {
		r->inside = 1;
		s++;
	}
	if (!*s)
		return -1;
	colon = strchr(s, ':');
	if (colon) {
		if (s[0] == '~' && s + 1 == colon)
			r->start = -INFINITY;
		else {
			r->start = strtod(s, &end);
			if (end != colon || end == s)
				return -1;
		}
		s = colon + 1;
		if (*s) {
			r->end = strtod(s, &end);
			if (*end || end == s)
				return -1;
		}
	} else {
		r->end = strtod(s, &end);
		if (*end || end == s)
			return -1;
	}
	if (isnan(r->start) || isnan(r->end) || r->start > r->end)
		return -1;
	r->set = 1;
	return 0;
}

static int range_alert(const struct range *r, double v)
{
	int outside;

	if (!r->set)
		return 0;
	outside = v < r->start || v > r->end;
	return r->inside ? !outside : outside;
}

/* The range as given, for perfdata's warn and crit fields (empty when unset). */
static const char *range_text(const struct range *r, const char *given)
{
	return r->set && given ? given : "";
}

static int check(const struct range *w, const struct range *c, double v)
{
	if (range_alert(c, v))
		return ST_CRITICAL;
	if (range_alert(w, v))
		return ST_WARNING;
	return ST_OK;
}

/* ---- output: one status line, the worst state wins ---- */

static const char *mode_label = "";
static char text[4096];
static size_t text_len;
static char perf[16384];
static size_t perf_len;
static int worst = ST_OK;

static void raise_state(int st)
{
	/* UNKNOWN only when nothing worse was seen: a CRITICAL found is still CRITICAL. */
	if (st == ST_UNKNOWN) {
		if (worst == ST_OK)
			worst = ST_UNKNOWN;
	} else if (st > worst || worst == ST_UNKNOWN) {
		if (st != ST_OK)
			worst = st;
	}
}

static void vappend(char *buf, size_t size, size_t *len, const char *fmt, va_list ap)
{
	int n;

	if (*len >= size - 1)
		return;
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	if (n > 0)
		*len = (size_t)n >= size - *len ? size - 1 : *len + (size_t)n;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (text_len && text_len < sizeof(text) - 2) {
		text[text_len++] = ',';
		text[text_len++] = ' ';
		text[text_len] = 0;
	}
	va_start(ap, fmt);
	vappend(text, sizeof(text), &text_len, fmt, ap);
	va_end(ap);
}

/* perfdata 'label'=value[UOM];[warn];[crit];[min];[max] */
static void perfdata(const char *label, double v, const char *uom, const char *warn, const char *crit, const char *min)
{
	char l[160];
	size_t i, j = 0;

	/* Single quotes are the label's delimiters: a quote inside is doubled, as the guidelines say. */
	for (i = 0; label[i] && j < sizeof(l) - 2; i++) {
		if (label[i] == '\'')
			l[j++] = '\'';
		l[j++] = label[i];
	}
	l[j] = 0;
	if (perf_len && perf_len < sizeof(perf) - 1)
		perf[perf_len++] = ' ', perf[perf_len] = 0;
	snprintf(perf + perf_len, sizeof(perf) - perf_len, "'%s'=%.*f%s;%s;%s;%s;", l, v == floor(v) ? 0 : 3, v, uom,
	         warn ? warn : "", crit ? crit : "", min ? min : "");
	perf_len += strlen(perf + perf_len);
}

static void __attribute__((noreturn)) finish(void)
{
	printf("SANAGENT %s %s - %s", mode_label, st_name[worst], text_len ? text : "no data");
	if (perf_len)
		printf(" | %s", perf);
	printf("\n");
	fflush(stdout);
	exit(worst);
}

static void __attribute__((noreturn)) unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void __attribute__((noreturn)) unknown(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("SANAGENT %s UNKNOWN - ", mode_label);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(ST_UNKNOWN);
}

/* ---- options ---- */

static struct {
	const char *host, *port, *version, *community;
	const char *user, *level, *auth_proto, *auth_pass, *priv_proto, *priv_pass;
	const char *mode, *name;
	const char *warn_s, *crit_s, *ewarn_s, *ecrit_s, *rwarn_s, *rcrit_s;
	struct range warn, crit, ewarn, ecrit, rwarn, rcrit;
	double margin, interval;
	int timeout, verbose;
} opt = {.port = NULL,
         .version = "2c",
         .community = "public",
         .level = "authPriv",
         .auth_proto = "SHA",
         .priv_proto = "AES",
         .margin = 20,
         .interval = 1,
         .timeout = 10};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage:\n"
	        " %s -H HOST [-p PORT] -m team|sessions|redirector|engines [-n TEAM]\n"
	        "   [-P 2c [-C COMMUNITY] | -P 3 -u USER [-l authPriv|authNoPriv|noAuthNoPriv]\n"
	        "    [-a SHA|SHA-256|... -A PASSPHRASE] [-x AES|AES-256|... -X PASSPHRASE]]\n"
	        "   [-w RANGE] [-c RANGE] [-e RANGE] [-E RANGE] [-r RANGE] [-R RANGE] [-M POINTS] [-i SECONDS]\n"
	        "   [-t SECONDS] [-v] | -h | -V\n",
	        PROGNAME);
}

static void help(void)
{
	printf("%s %s: checks a sanagent (SANAGENT MIBs) over SNMP.\n\n", PROGNAME, CK_VERSION);
	usage(stdout);
	printf(
	    "\nOptions:\n"
	    " -H, --hostname=HOST      the agent's snmpd (an address or name; net-snmp syntax such as udp6:[::1] too)\n"
	    " -p, --port=PORT          its UDP port (default 161)\n"
	    " -P, --protocol=2c|3      SNMP version (default 2c)\n"
	    " -C, --community=NAME     v2c community (default public)\n"
	    " -u, -l, -a, -A, -x, -X   SNMPv3 security name, level, auth protocol and passphrase, privacy protocol\n"
	    "                          and passphrase, named as net-snmp's tools name them (defaults: authPriv, SHA, "
	    "AES)\n"
	    " -m, --mode=MODE          what to check:\n"
	    "   team        every team, or the one named by -n: CRITICAL when failed (no path reaches the LU) or down\n"
	    "               (no data plane), WARNING when degraded (a path out of service) or when, in a "
	    "load-balancing\n"
	    "               team carrying I/O, a path's actual share differs from its configured share by more than\n"
	    "               -M points.  -w/-c: path latency in microseconds.  Perfdata: per-path bytes/s (read and\n"
	    "               write, measured over -i seconds) and latency.\n"
	    "   sessions    every iSCSI session: -w/-c on the average latency (microseconds), -e/-E on the error\n"
	    "               rate (errors per hour).\n"
	    "   redirector  the redirector's servers: -w/-c on the number of servers down (default -w 0: any down\n"
	    "               warns; every server down is CRITICAL), -r/-R on the max/min load ratio of the up servers.\n"
	    "   engines     CRITICAL when an engine is admin up but not oper up (failed, unavailable).\n"
	    " -n, --name=TEAM          team mode: only this team (UNKNOWN when there is none of that name)\n"
	    " -w, --warning=RANGE, -c, --critical=RANGE, -e/-E, -r/-R   thresholds (see the modes)\n"
	    " -M, --margin=POINTS      team mode: allowed share difference in percentage points (default 20)\n"
	    " -i, --interval=SECONDS   team mode: the time between the two byte counts of the rates (default 1)\n"
	    " -t, --timeout=SECONDS    the whole check ends in UNKNOWN after this (default 10)\n"
	    " -v, --verbose            print every row read on stderr\n"
	    " -h, --help, -V, --version\n"
	    "\nRANGE is the Monitoring Plugins syntax: N (alert outside 0..N), N: (below N), ~:N (above N),\n"
	    "N:M (outside N..M), @N:M (inside N..M).\n");
}

static void __attribute__((noreturn)) bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void __attribute__((noreturn)) bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("SANAGENT UNKNOWN - ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	usage(stdout);
	exit(ST_UNKNOWN);
}

static void parse_range_opt(const char *s, struct range *r, const char **given, char name)
{
	if (range_parse(s, r) < 0)
		bad_usage("invalid threshold range '%s' for -%c", s, name);
	*given = s;
}

static double parse_number(const char *s, char name, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min))
		bad_usage("invalid value '%s' for -%c", s, name);
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {{"hostname", required_argument, 0, 'H'},
	                                   {"port", required_argument, 0, 'p'},
	                                   {"protocol", required_argument, 0, 'P'},
	                                   {"community", required_argument, 0, 'C'},
	                                   {"secname", required_argument, 0, 'u'},
	                                   {"seclevel", required_argument, 0, 'l'},
	                                   {"authproto", required_argument, 0, 'a'},
	                                   {"authpasswd", required_argument, 0, 'A'},
	                                   {"privproto", required_argument, 0, 'x'},
	                                   {"privpasswd", required_argument, 0, 'X'},
	                                   {"mode", required_argument, 0, 'm'},
	                                   {"name", required_argument, 0, 'n'},
	                                   {"warning", required_argument, 0, 'w'},
	                                   {"critical", required_argument, 0, 'c'},
	                                   {"error-warning", required_argument, 0, 'e'},
	                                   {"error-critical", required_argument, 0, 'E'},
	                                   {"ratio-warning", required_argument, 0, 'r'},
	                                   {"ratio-critical", required_argument, 0, 'R'},
	                                   {"margin", required_argument, 0, 'M'},
	                                   {"interval", required_argument, 0, 'i'},
	                                   {"timeout", required_argument, 0, 't'},
	                                   {"verbose", no_argument, 0, 'v'},
	                                   {"help", no_argument, 0, 'h'},
	                                   {"version", no_argument, 0, 'V'},
	                                   {0, 0, 0, 0}};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "H:p:P:C:u:l:a:A:x:X:m:n:w:c:e:E:r:R:M:i:t:vhV", lo, NULL)) != -1) {
		switch (c) {
		case 'H': opt.host = optarg; break;
		case 'p':
			opt.port = optarg;
			(void)parse_number(optarg, 'p', 1);
			break;
		case 'P': opt.version = optarg; break;
		case 'C': opt.community = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'l': opt.level = optarg; break;
		case 'a': opt.auth_proto = optarg; break;
		case 'A': opt.auth_pass = optarg; break;
		case 'x': opt.priv_proto = optarg; break;
		case 'X': opt.priv_pass = optarg; break;
		case 'm': opt.mode = optarg; break;
		case 'n': opt.name = optarg; break;
		case 'w': parse_range_opt(optarg, &opt.warn, &opt.warn_s, 'w'); break;
		case 'c': parse_range_opt(optarg, &opt.crit, &opt.crit_s, 'c'); break;
		case 'e': parse_range_opt(optarg, &opt.ewarn, &opt.ewarn_s, 'e'); break;
		case 'E': parse_range_opt(optarg, &opt.ecrit, &opt.ecrit_s, 'E'); break;
		case 'r': parse_range_opt(optarg, &opt.rwarn, &opt.rwarn_s, 'r'); break;
		case 'R': parse_range_opt(optarg, &opt.rcrit, &opt.rcrit_s, 'R'); break;
		case 'M': opt.margin = parse_number(optarg, 'M', 0); break;
		case 'i': opt.interval = parse_number(optarg, 'i', 0); break;
		case 't': opt.timeout = (int)parse_number(optarg, 't', 1); break;
		case 'v': opt.verbose++; break;
		case 'h': help(); exit(ST_UNKNOWN);
		case 'V':
			printf("%s %s (net-snmp %s)\n", PROGNAME, CK_VERSION, netsnmp_get_version());
			exit(ST_UNKNOWN);
		default:
			if (optopt)
				bad_usage("option -%c %s", optopt,
				          strchr("HpPCulaAxXmnwceErRMit", optopt) ? "needs a value" : "unknown");
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!opt.host)
		bad_usage("-H HOST is required");
	if (!opt.mode)
		bad_usage("-m MODE is required");
	if (strcmp(opt.mode, "team") && strcmp(opt.mode, "sessions") && strcmp(opt.mode, "redirector") &&
	    strcmp(opt.mode, "engines"))
		bad_usage("unknown mode '%s'", opt.mode);
	if (strcmp(opt.version, "2c") && strcmp(opt.version, "3"))
		bad_usage("-P must be 2c or 3, not '%s'", opt.version);
	if (!strcmp(opt.version, "3") && !opt.user)
		bad_usage("-P 3 needs -u USER");
}

/* ---- SNMP ---- */

static void *sess;

static void __attribute__((noreturn)) on_timeout(int sig)
{
	(void)sig;
	/* Async-signal-safe: one write, then _exit. */
	static const char m[] = " UNKNOWN - plugin timed out (no complete answer within -t seconds)\n";
	if (write(STDOUT_FILENO, "SANAGENT ", 9) < 0 || write(STDOUT_FILENO, mode_label, strlen(mode_label)) < 0 ||
	    write(STDOUT_FILENO, m, sizeof(m) - 1) < 0)
		_exit(ST_UNKNOWN);
	_exit(ST_UNKNOWN);
}

static void set_v3(netsnmp_session *s)
{
	int level, type;
	oid *o;
	size_t len;

	s->securityName = (char *)opt.user;
	s->securityNameLen = strlen(opt.user);
	if (!strcasecmp(opt.level, "noAuthNoPriv") || !strcmp(opt.level, "1"))
		level = SNMP_SEC_LEVEL_NOAUTH;
	else if (!strcasecmp(opt.level, "authNoPriv") || !strcmp(opt.level, "2"))
		level = SNMP_SEC_LEVEL_AUTHNOPRIV;
	else if (!strcasecmp(opt.level, "authPriv") || !strcmp(opt.level, "3"))
		level = SNMP_SEC_LEVEL_AUTHPRIV;
	else
		bad_usage("-l must be noAuthNoPriv, authNoPriv or authPriv, not '%s'", opt.level);
	s->securityLevel = level;
	if (level == SNMP_SEC_LEVEL_NOAUTH)
		return;
	type = usm_lookup_auth_type(opt.auth_proto);
	if (type < 0 || !(o = sc_get_auth_oid(type, &len)))
		bad_usage("unknown authentication protocol '%s' for -a", opt.auth_proto);
	if (!opt.auth_pass)
		bad_usage("-l %s needs -A PASSPHRASE", opt.level);
	/* The protocol OIDs are net-snmp's own; snmp_sess_open copies them into the session. */
	s->securityAuthProto = o;
	s->securityAuthProtoLen = len;
	s->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)len, (const u_char *)opt.auth_pass, strlen(opt.auth_pass),
	                s->securityAuthKey, &s->securityAuthKeyLen) != SNMPERR_SUCCESS)
		bad_usage("cannot derive a key from the -A passphrase (net-snmp wants at least 8 characters)");
	if (level != SNMP_SEC_LEVEL_AUTHPRIV)
		return;
	type = usm_lookup_priv_type(opt.priv_proto);
	if (type < 0 || !(o = sc_get_priv_oid(type, &len)))
		bad_usage("unknown privacy protocol '%s' for -x", opt.priv_proto);
	if (!opt.priv_pass)
		bad_usage("-l authPriv needs -X PASSPHRASE");
	s->securityPrivProto = o;
	s->securityPrivProtoLen = len;
	s->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)opt.priv_pass,
	                strlen(opt.priv_pass), s->securityPrivKey, &s->securityPrivKeyLen) != SNMPERR_SUCCESS)
		bad_usage("cannot derive a key from the -X passphrase (net-snmp wants at least 8 characters)");
}

static void snmp_open_session(void)
{
	netsnmp_session s;
	static char peer[512];

	/* Numbers only: no MIB text, no snmp.conf, no persistent files (the plugin may run as a user without a home).
	 */
	setenv("MIBS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_QUICK_PRINT, 1);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	init_snmp(PROGNAME);
	snmp_sess_init(&s);
	if (opt.port)
		snprintf(peer, sizeof(peer), "%s:%s", opt.host, opt.port);
	else
		snprintf(peer, sizeof(peer), "%s", opt.host);
	s.peername = peer;
	/* Each request gets a share of -t with one retry; the alarm ends the whole check in any case. */
	s.timeout = (long)opt.timeout * 1000000L / 4;
	s.retries = 1;
	if (!strcmp(opt.version, "3")) {
		s.version = SNMP_VERSION_3;
		set_v3(&s);
	} else {
		s.version = SNMP_VERSION_2c;
		s.community = (u_char *)opt.community;
		s.community_len = strlen(opt.community);
	}
	sess = snmp_sess_open(&s);
	if (!sess) {
		int liberr, syserr;
		char *err;
		snmp_error(&s, &liberr, &syserr, &err);
		unknown("cannot open an SNMP session to %s: %s", peer, err ? err : "?");
	}
}

/* ---- tables: rows keyed by their index, cells walked column by column ---- */

#define MAXCOL 32
struct cell {
	int set;
	long long v;
	unsigned char s[256];
	size_t slen;
};
struct row {
	oid idx[MAX_OID_LEN];
	size_t idxlen;
	struct cell c[MAXCOL];
};
struct table {
	struct row *rows;
	size_t n, cap;
};

static struct row *row_find(struct table *t, const oid *idx, size_t len, int add)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = snmp_oid_compare(t->rows[mid].idx, t->rows[mid].idxlen, idx, len);
		if (r == 0)
			return &t->rows[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!add)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct row *r = realloc(t->rows, cap * sizeof(*r));
		if (!r)
			unknown("out of memory");
		t->rows = r;
		t->cap = cap;
	}
	memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof(*t->rows));
	memset(&t->rows[lo], 0, sizeof(*t->rows));
	memcpy(t->rows[lo].idx, idx, len * sizeof(oid));
	t->rows[lo].idxlen = len;
	t->n++;
	return &t->rows[lo];
}

static void cell_set(struct cell *c, const netsnmp_variable_list *vb)
{
	c->set = 1;
	switch (vb->type) {
	case ASN_INTEGER: c->v = *vb->val.integer; break;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS: c->v = (long long)(unsigned long)*vb->val.integer & 0xffffffffLL; break;
	case ASN_COUNTER64:
		c->v = (long long)(((unsigned long long)vb->val.counter64->high << 32) | vb->val.counter64->low);
		break;
	case ASN_OCTET_STR:
		c->slen = vb->val_len < sizeof(c->s) - 1 ? vb->val_len : sizeof(c->s) - 1;
		memcpy(c->s, vb->val.string, c->slen);
		c->s[c->slen] = 0;
		break;
	default: c->set = 0;
	}
}

/* Walks column COL of the table whose entry is ENTRY; the first column walked defines the rows (ADD), later ones
 * fill them in (a row that appeared between two walks is left out). */
static void walk_column(struct table *t, const oid *entry, size_t elen, int col, int add)
{
	oid base[MAX_OID_LEN], cur[MAX_OID_LEN];
	size_t blen = elen + 1, clen;
	int done = 0;

	memcpy(base, entry, elen * sizeof(oid));
	base[elen] = (oid)col;
	memcpy(cur, base, blen * sizeof(oid));
	clen = blen;
	while (!done) {
		netsnmp_pdu *req = snmp_pdu_create(SNMP_MSG_GETBULK), *resp = NULL;
		netsnmp_variable_list *vb;
		int st;

		req->non_repeaters = 0;
		req->max_repetitions = 50;
		snmp_add_null_var(req, cur, clen);
		st = snmp_sess_synch_response(sess, req, &resp);
		if (st == STAT_TIMEOUT)
			unknown("no answer from %s%s%s (timeout)", opt.host, opt.port ? ":" : "",
			        opt.port ? opt.port : "");
		if (st != STAT_SUCCESS) {
			int liberr, syserr;
			char *err = NULL;
			snmp_sess_error(sess, &liberr, &syserr, &err);
			/* SNMPv3 fails here, in its engine ID discovery, when nothing answers at all; net-snmp then
			 * leaves the error number 0 and says so only in the text. */
			if (liberr == SNMPERR_TIMEOUT || (err && strcasestr(err, "timeout")))
				unknown("no answer from %s%s%s (timeout)", opt.host, opt.port ? ":" : "",
				        opt.port ? opt.port : "");
			unknown("SNMP error from %s: %s", opt.host, err ? err : "?");
		}
		if (resp->errstat != SNMP_ERR_NOERROR) {
			const char *e = snmp_errstring((int)resp->errstat);
			snmp_free_pdu(resp);
			unknown("SNMP error from %s: %s", opt.host, e);
		}
		if (!resp->variables)
			done = 1;
		for (vb = resp->variables; vb; vb = vb->next_variable) {
			if (vb->type == SNMP_ENDOFMIBVIEW || vb->type == SNMP_NOSUCHOBJECT ||
			    vb->type == SNMP_NOSUCHINSTANCE || vb->name_length <= blen ||
			    snmp_oid_compare(vb->name, blen, base, blen) != 0) {
				done = 1;
				break;
			}
			if (snmp_oid_compare(vb->name, vb->name_length, cur, clen) <= 0)
				unknown("%s answers out of order at column %d", opt.host, col);
			struct row *r = row_find(t, vb->name + blen, vb->name_length - blen, add);
			if (r && col < MAXCOL)
				cell_set(&r->c[col], vb);
			memcpy(cur, vb->name, vb->name_length * sizeof(oid));
			clen = vb->name_length;
		}
		snmp_free_pdu(resp);
	}
}

static void walk_table(struct table *t, const oid *entry, size_t elen, const int *cols, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++)
		walk_column(t, entry, elen, cols[i], i == 0);
	if (opt.verbose) {
		for (size_t r = 0; r < t->n; r++) {
			fprintf(stderr, "row");
			for (size_t k = 0; k < t->rows[r].idxlen; k++)
				fprintf(stderr, "%c%lu", k ? '.' : ' ', (unsigned long)t->rows[r].idx[k]);
			for (size_t i = 0; i < ncols; i++) {
				const struct cell *c = &t->rows[r].c[cols[i]];
				if (c->slen || !c->set)
					fprintf(stderr, " %d=\"%s\"", cols[i], c->s);
				else
					fprintf(stderr, " %d=%lld", cols[i], c->v);
			}
			fprintf(stderr, "\n");
		}
	}
}

/* An InetAddress cell as text (the MIBs pair it with its InetAddressType; the length tells v4 from v6). */
static const char *addr_text(const struct cell *c, char *buf, size_t size)
{
	if (c->slen == 4)
		snprintf(buf, size, "%u.%u.%u.%u", c->s[0], c->s[1], c->s[2], c->s[3]);
	else if (c->slen == 16) {
		size_t o = 0;
		for (int i = 0; i < 16 && o < size; i += 2)
			o += (size_t)snprintf(buf + o, size - o, "%s%x", i ? ":" : "", (c->s[i] << 8) | c->s[i + 1]);
	} else
		snprintf(buf, size, "%.63s", c->slen ? (const char *)c->s : "?");
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- modes ---- */

enum { T_NAME = 2, T_MODE = 5, T_STATE = 10 };
enum {
	P_ADDR = 3,
	P_PORT = 4,
	P_STATE = 7,
	P_RSH = 8,
	P_WSH = 9,
	P_ARSH = 10,
	P_AWSH = 11,
	P_RB = 12,
	P_WB = 13,
	P_LAT = 18
};
static const char *const team_states[] = {"?", "optimal", "degraded", "failed", "down"};
static const char *const path_states[] = {"?",    "idle",    "connecting", "standby", "active",
                                          "down", "refused", "unknown",    "suspect"};
#define NAME_OF(tab, v) ((v) >= 1 && (size_t)(v) < LEN(tab) ? (tab)[v] : "?")

static int path_in_service(long long st)
{
	return st == 3 || st == 4 || st == 8; /* standby, active, suspect: logged in */
}

static void mode_team(void)
{
	static const int tcols[] = {T_NAME, T_MODE, T_STATE};
	static const int pcols[] = {P_STATE, P_ADDR, P_PORT, P_RSH, P_WSH, P_ARSH, P_AWSH, P_RB, P_WB, P_LAT};
	static const int bcols[] = {P_RB, P_WB};
	struct table teams = {0}, paths = {0}, again = {0};
	double t0, t1;
	int nteams = 0;

	walk_table(&teams, oid_team_entry, LEN(oid_team_entry), tcols, LEN(tcols));
	t0 = now_s();
	walk_table(&paths, oid_path_entry, LEN(oid_path_entry), pcols, LEN(pcols));
	if (opt.interval > 0) {
		usleep((useconds_t)(opt.interval * 1e6));
		t1 = now_s();
		walk_table(&again, oid_path_entry, LEN(oid_path_entry), bcols, LEN(bcols));
	} else
		t1 = t0;

	for (size_t i = 0; i < teams.n; i++) {
		const struct row *t = &teams.rows[i];
		const char *name = (const char *)t->c[T_NAME].s;
		long long st = t->c[T_STATE].v;
		long long ar = 0, aw = 0;
		int tst = ST_OK;
		char l[200];

		if (t->idxlen != 1 || (opt.name && strcmp(name, opt.name)))
			continue;
		nteams++;
		if (st == 3 || st == 4)
			tst = ST_CRITICAL;
		else if (st == 2)
			tst = ST_WARNING;
		else if (st != 1)
			tst = ST_UNKNOWN;
		if (tst != ST_OK)
			say("%s %s", name, NAME_OF(team_states, st));
		raise_state(tst);
		snprintf(l, sizeof(l), "%.100s state", name);
		perfdata(l, (double)st, "", NULL, NULL, NULL);
		/* The team's actual shares add up only over paths that carried bytes in the last report. */
		for (size_t k = 0; k < paths.n; k++)
			if (paths.rows[k].idx[0] == t->idx[0])
				ar += paths.rows[k].c[P_ARSH].v, aw += paths.rows[k].c[P_AWSH].v;
		for (size_t k = 0; k < paths.n; k++) {
			const struct row *p = &paths.rows[k];
			const struct row *q;
			char a[64];
			long long ps = p->c[P_STATE].v;
			int n;

			if (p->idxlen != 2 || p->idx[0] != t->idx[0])
				continue;
			n = (int)p->idx[1];
			addr_text(&p->c[P_ADDR], a, sizeof(a));
			if (st != 4 && !path_in_service(ps) && ps != 2) {
				say("%s path %d %s:%lld %s", name, n, a, p->c[P_PORT].v, NAME_OF(path_states, ps));
				raise_state(ST_WARNING);
			}
			/* Shares mean something in load-balancing mode, on a path in service, for a direction that
			 * moved. */
			if (t->c[T_MODE].v == 2 && ps == 4) {
				if (ar > 0 && fabs((double)(p->c[P_ARSH].v - p->c[P_RSH].v)) > opt.margin) {
					say("%s path %d %s read share %lld%% (configured %lld%%)", name, n, a,
					    p->c[P_ARSH].v, p->c[P_RSH].v);
					raise_state(ST_WARNING);
				}
				if (aw > 0 && fabs((double)(p->c[P_AWSH].v - p->c[P_WSH].v)) > opt.margin) {
					say("%s path %d %s write share %lld%% (configured %lld%%)", name, n, a,
					    p->c[P_AWSH].v, p->c[P_WSH].v);
					raise_state(ST_WARNING);
				}
			}
			int lst = check(&opt.warn, &opt.crit, (double)p->c[P_LAT].v);
			if (lst != ST_OK) {
				say("%s path %d %s latency %lld us", name, n, a, p->c[P_LAT].v);
				raise_state(lst);
			}
			q = row_find(&again, p->idx, p->idxlen, 0);
			if (q && t1 > t0) {
				double dr = (double)(q->c[P_RB].v - p->c[P_RB].v),
				       dw = (double)(q->c[P_WB].v - p->c[P_WB].v);
				snprintf(l, sizeof(l), "%.100s p%d %s read", name, n, a);
				perfdata(l, dr > 0 ? dr / (t1 - t0) : 0, "", NULL, NULL, "0");
				snprintf(l, sizeof(l), "%.100s p%d %s write", name, n, a);
				perfdata(l, dw > 0 ? dw / (t1 - t0) : 0, "", NULL, NULL, "0");
			}
			snprintf(l, sizeof(l), "%.100s p%d %s latency", name, n, a);
			perfdata(l, (double)p->c[P_LAT].v, "us", range_text(&opt.warn, opt.warn_s),
			         range_text(&opt.crit, opt.crit_s), "0");
		}
	}
	if (opt.name && !nteams)
		unknown("no team named '%s' on %s", opt.name, opt.host);
	if (worst == ST_OK) {
		if (opt.name)
			say("%s optimal", opt.name);
		else
			say("%d team%s optimal", nteams, nteams == 1 ? "" : "s");
	}
	free(teams.rows);
	free(paths.rows);
	free(again.rows);
}

enum { S_TARGET = 3, S_ADDR = 5, S_PORT = 6, S_STATE = 13, S_ERRRATE = 24, S_LAT = 25 };

static void mode_sessions(void)
{
	static const int cols[] = {S_STATE, S_TARGET, S_ADDR, S_PORT, S_ERRRATE, S_LAT};
	struct table s = {0};
	long long maxlat = 0, maxerr = 0;
	int n = 0, alerts = 0;

	walk_table(&s, oid_session_entry, LEN(oid_session_entry), cols, LEN(cols));
	for (size_t i = 0; i < s.n; i++) {
		const struct row *r = &s.rows[i];
		char a[64];
		int st;

		if (r->idxlen != 1)
			continue;
		n++;
		maxlat = r->c[S_LAT].v > maxlat ? r->c[S_LAT].v : maxlat;
		maxerr = r->c[S_ERRRATE].v > maxerr ? r->c[S_ERRRATE].v : maxerr;
		addr_text(&r->c[S_ADDR], a, sizeof(a));
		st = check(&opt.warn, &opt.crit, (double)r->c[S_LAT].v);
		if (st != ST_OK && alerts++ < 5)
			say("session %lu %s via %s:%lld latency %lld us", (unsigned long)r->idx[0], r->c[S_TARGET].s, a,
			    r->c[S_PORT].v, r->c[S_LAT].v);
		raise_state(st);
		st = check(&opt.ewarn, &opt.ecrit, (double)r->c[S_ERRRATE].v);
		if (st != ST_OK && alerts++ < 5)
			say("session %lu %s via %s:%lld %lld errors/h", (unsigned long)r->idx[0], r->c[S_TARGET].s, a,
			    r->c[S_PORT].v, r->c[S_ERRRATE].v);
		raise_state(st);
	}
	if (alerts > 5)
		say("and %d more", alerts - 5);
	if (worst == ST_OK)
		say("%d session%s, max latency %lld us, max error rate %lld/h", n, n == 1 ? "" : "s", maxlat, maxerr);
	perfdata("sessions", n, "", NULL, NULL, "0");
	perfdata("latency max", (double)maxlat, "us", range_text(&opt.warn, opt.warn_s),
	         range_text(&opt.crit, opt.crit_s), "0");
	perfdata("error rate max", (double)maxerr, "", range_text(&opt.ewarn, opt.ewarn_s),
	         range_text(&opt.ecrit, opt.ecrit_s), "0");
	free(s.rows);
}

enum { R_NAME = 2, R_ADMIN = 7, R_OPER = 8, R_LOAD = 9 };

static void mode_redirector(void)
{
	static const int cols[] = {R_NAME, R_ADMIN, R_OPER, R_LOAD};
	struct table s = {0};
	int up = 0, down = 0, st;
	long long maxl = -1, minl = -1;
	double ratio;
	char l[128];

	if (!opt.warn.set)
		parse_range_opt("0", &opt.warn, &opt.warn_s, 'w');
	walk_table(&s, oid_server_entry, LEN(oid_server_entry), cols, LEN(cols));
	for (size_t i = 0; i < s.n; i++) {
		const struct row *r = &s.rows[i];

		if (r->idxlen != 1 || r->c[R_ADMIN].v != 1) /* drained or down by the operator: not a fault */
			continue;
		if (r->c[R_OPER].v == 1) {
			up++;
			maxl = maxl < 0 || r->c[R_LOAD].v > maxl ? r->c[R_LOAD].v : maxl;
			minl = minl < 0 || r->c[R_LOAD].v < minl ? r->c[R_LOAD].v : minl;
		} else if (r->c[R_OPER].v == 2) {
			down++;
			say("server %s down", r->c[R_NAME].s);
		}
		snprintf(l, sizeof(l), "%.100s load", r->c[R_NAME].s);
		perfdata(l, (double)r->c[R_LOAD].v, "", NULL, NULL, "0");
	}
	if (!up && !down)
		unknown("no redirector server admin up on %s", opt.host);
	st = check(&opt.warn, &opt.crit, down);
	if (!up)
		st = ST_CRITICAL;
	raise_state(st);
	/* max/min of the up servers' loads; an idle server counts as 1 byte/s so one busy server is a finite ratio. */
	ratio = up ? (double)(maxl > 0 ? maxl : 0) / (double)(minl > 1 ? minl : 1) : 0;
	if (maxl <= 0)
		ratio = 1;
	st = check(&opt.rwarn, &opt.rcrit, ratio);
	if (st != ST_OK)
		say("load ratio %.2f (max %lld, min %lld)", ratio, maxl, minl);
	raise_state(st);
	if (worst == ST_OK)
		say("%d server%s up, load ratio %.2f", up, up == 1 ? "" : "s", ratio);
	else
		say("%d up, %d down", up, down);
	perfdata("servers up", up, "", NULL, NULL, "0");
	perfdata("servers down", down, "", range_text(&opt.warn, opt.warn_s), range_text(&opt.crit, opt.crit_s), "0");
	perfdata("load ratio", ratio, "", range_text(&opt.rwarn, opt.rwarn_s), range_text(&opt.rcrit, opt.rcrit_s),
	         "1");
	free(s.rows);
}

enum { E_NAME = 2, E_ADMIN = 3, E_OPER = 4, E_ERROR = 5 };

static void mode_engines(void)
{
	static const int cols[] = {E_NAME, E_ADMIN, E_OPER, E_ERROR};
	static const char *const oper[] = {"?", "up", "down", "failed", "unavailable"};
	struct table e = {0};
	int up = 0, bad = 0, admin_down = 0;

	walk_table(&e, oid_engine_entry, LEN(oid_engine_entry), cols, LEN(cols));
	if (!e.n)
		unknown("%s serves no sanEngineTable (is sanagent running under its snmpd?)", opt.host);
	for (size_t i = 0; i < e.n; i++) {
		const struct row *r = &e.rows[i];

		if (r->c[E_ADMIN].v != 1) {
			admin_down++;
			continue;
		}
		if (r->c[E_OPER].v == 1) {
			up++;
			continue;
		}
		bad++;
		say("%s %s%s%s", r->c[E_NAME].s, NAME_OF(oper, r->c[E_OPER].v), r->c[E_ERROR].slen ? ": " : "",
		    r->c[E_ERROR].s);
	}
	raise_state(bad ? ST_CRITICAL : ST_OK);
	if (!bad)
		say("%d engine%s up, %d admin down", up, up == 1 ? "" : "s", admin_down);
	perfdata("engines up", up, "", NULL, NULL, "0");
	perfdata("engines not up", bad, "", "", "0", "0");
	free(e.rows);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	mode_label = !strcmp(opt.mode, "team")         ? "TEAM"
	             : !strcmp(opt.mode, "sessions")   ? "SESSIONS"
	             : !strcmp(opt.mode, "redirector") ? "REDIRECTOR"
	                                               : "ENGINES";
	signal(SIGALRM, on_timeout);
	alarm((unsigned)opt.timeout);
	snmp_open_session();
	if (!strcmp(opt.mode, "team"))
		mode_team();
	else if (!strcmp(opt.mode, "sessions"))
		mode_sessions();
	else if (!strcmp(opt.mode, "redirector"))
		mode_redirector();
	else
		mode_engines();
	snmp_sess_close(sess);
	finish();
}
