/* test_tgtctl.c: tgtadm output parsers on outputs captured from tgt 1.0.85, and the storage model's counters. */
#define _GNU_SOURCE /* nftw */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "engines/storage/stor_private.h"
#include "iscsi/tgtctl.h"
#include "common/evloop.h"
#include "tests/unit/evloop_stub.h" /* the parsers and the model run no loop */
#include "tests/unit/tmpdir.h"

/* `tgtadm --lld iscsi --op show --mode target`: two targets (tids 1 and 3), one session each, iscsi-perf running. */
static const char show_out[] = "Target 1: iqn.2024-01.test:a\n"
                               "    System information:\n"
                               "        Driver: iscsi\n"
                               "        State: ready\n"
                               "    I_T nexus information:\n"
                               "        I_T nexus: 1\n"
                               "            Initiator: iqn.1994-05.test:client1 alias: none\n"
                               "            Connection: 0\n"
                               "                IP Address: 127.0.0.1\n"
                               "    LUN information:\n"
                               "        LUN: 0\n"
                               "            Type: controller\n"
                               "            SCSI ID: IET     00010000\n"
                               "            SCSI SN: beaf10\n"
                               "            Size: 0 MB, Block size: 1\n"
                               "            Online: Yes\n"
                               "            Removable media: No\n"
                               "            Prevent removal: No\n"
                               "            Readonly: No\n"
                               "            SWP: No\n"
                               "            Thin-provisioning: No\n"
                               "            Backing store type: null\n"
                               "            Backing store path: None\n"
                               "            Backing store flags: \n"
                               "        LUN: 1\n"
                               "            Type: disk\n"
                               "            SCSI ID: IET     00010001\n"
                               "            SCSI SN: beaf11\n"
                               "            Size: 67 MB, Block size: 512\n"
                               "            Online: Yes\n"
                               "            Removable media: No\n"
                               "            Prevent removal: No\n"
                               "            Readonly: No\n"
                               "            SWP: No\n"
                               "            Thin-provisioning: No\n"
                               "            Backing store type: rdwr\n"
                               "            Backing store path: /tmp/stor-cap/d0.img\n"
                               "            Backing store flags: \n"
                               "    Account information:\n"
                               "        user1\n"
                               "        user2 (outgoing)\n"
                               "    ACL information:\n"
                               "        ALL\n"
                               "        10.0.0.0/8\n"
                               "        iqn.2024-01.test:host1\n"
                               "Target 3: iqn.2024-01.test:b\n"
                               "    System information:\n"
                               "        Driver: iscsi\n"
                               "        State: ready\n"
                               "    I_T nexus information:\n"
                               "        I_T nexus: 2\n"
                               "            Initiator: iqn.1994-05.test:client2 alias: none\n"
                               "            Connection: 0\n"
                               "                IP Address: 127.0.0.1\n"
                               "    LUN information:\n"
                               "        LUN: 0\n"
                               "            Type: controller\n"
                               "            SCSI ID: IET     00030000\n"
                               "            SCSI SN: beaf30\n"
                               "            Size: 0 MB, Block size: 1\n"
                               "            Online: Yes\n"
                               "            Removable media: No\n"
                               "            Prevent removal: No\n"
                               "            Readonly: No\n"
                               "            SWP: No\n"
                               "            Thin-provisioning: No\n"
                               "            Backing store type: null\n"
                               "            Backing store path: None\n"
                               "            Backing store flags: \n"
                               "        LUN: 1\n"
                               "            Type: disk\n"
                               "            SCSI ID: IET     00030001\n"
                               "            SCSI SN: beaf31\n"
                               "            Size: 34 MB, Block size: 512\n"
                               "            Online: Yes\n"
                               "            Removable media: No\n"
                               "            Prevent removal: No\n"
                               "            Readonly: No\n"
                               "            SWP: No\n"
                               "            Thin-provisioning: No\n"
                               "            Backing store type: rdwr\n"
                               "            Backing store path: /tmp/stor-cap/d1.img\n"
                               "            Backing store flags: \n"
                               "        LUN: 2\n"
                               "            Type: disk\n"
                               "            SCSI ID: IET     00030002\n"
                               "            SCSI SN: beaf32\n"
                               "            Size: 67 MB, Block size: 512\n"
                               "            Online: Yes\n"
                               "            Removable media: No\n"
                               "            Prevent removal: No\n"
                               "            Readonly: No\n"
                               "            SWP: No\n"
                               "            Thin-provisioning: No\n"
                               "            Backing store type: rdwr\n"
                               "            Backing store path: /tmp/stor-cap/d0.img\n"
                               "            Backing store flags: \n"
                               "    Account information:\n"
                               "    ACL information:\n"
                               "        ALL\n";

/* `tgtadm --lld iscsi --op stat --mode sys` of the same moment: one row per (tid, lun, sid). */
static const char stat_out[] =
    "tgt lun sid rd_subm(bytes,cmds) rd_done(bytes,cmds) wr_subm(bytes,cmds) wr_done(bytes,cmds) errs\n"
    "  1   0   1            0      0            0      0            0      0            0      0    0\n"
    "  1   1   1    101261344  24723    101257248  24722            0      0            0      0    1\n"
    "  3   0   2            0      0            0      0            0      0            0      0    0\n"
    "  3   1   2            0      0            0      0            0      0            0      0    0\n"
    "  3   2   2    100782112  24606    100782112  24606            0      0            0      0    1\n";

static const char portal_out[] = "Portal: [::1]:13919,1\n"
                                 "Portal: 127.0.0.3:13918,1\n"
                                 "Portal: 127.0.0.1:13917,1\n";

START_TEST(test_show_full)
{
	struct tgtc_show sh;
	const struct tgtc_target_info *t;

	ck_assert_int_eq(tgtc_parse_show_full(show_out, sizeof(show_out) - 1, &sh), 0);
	ck_assert_uint_eq(sh.ntargets, 2);
	t = &sh.targets[0];
	ck_assert_uint_eq(t->tid, 1);
	ck_assert_str_eq(t->name, "iqn.2024-01.test:a");
	ck_assert_uint_eq(t->nluns, 2);
	ck_assert_str_eq(t->luns[0].type, "controller");
	ck_assert_str_eq(t->luns[0].backing, "None");
	ck_assert_str_eq(t->luns[1].type, "disk");
	ck_assert_str_eq(t->luns[1].serial, "beaf11");
	ck_assert_str_eq(t->luns[1].scsi_id, "IET     00010001");
	ck_assert_uint_eq(t->luns[1].size_mb, 67);
	ck_assert_str_eq(t->luns[1].backing, "/tmp/stor-cap/d0.img");
	ck_assert_uint_eq(t->nacls, 3);
	ck_assert_str_eq(t->acls[0].rule, "ALL");
	ck_assert_str_eq(t->acls[1].rule, "10.0.0.0/8");
	ck_assert_str_eq(t->acls[2].rule, "iqn.2024-01.test:host1");
	ck_assert_uint_eq(sh.targets[1].nacls, 1);
	ck_assert_uint_eq(t->nbound, 2);
	ck_assert_str_eq(t->bound[0].user, "user1");
	ck_assert_int_eq(t->bound[0].outgoing, 0);
	ck_assert_str_eq(t->bound[1].user, "user2");
	ck_assert_int_eq(t->bound[1].outgoing, 1);
	ck_assert_uint_eq(sh.targets[1].nbound, 0);
	ck_assert_uint_eq(t->nnexus, 1);
	ck_assert_uint_eq(t->nexus[0].sid, 1);
	ck_assert_str_eq(t->nexus[0].initiator, "iqn.1994-05.test:client1");
	ck_assert_uint_eq(t->nexus[0].nconns, 1);
	ck_assert_uint_eq(t->nexus[0].conns[0].cid, 0);
	ck_assert_str_eq(t->nexus[0].conns[0].addr, "127.0.0.1");
	t = &sh.targets[1];
	ck_assert_uint_eq(t->tid, 3);
	ck_assert_uint_eq(t->nluns, 3);
	ck_assert_uint_eq(t->luns[1].size_mb, 34); /* a 32 MiB file: tgt rounds to the nearest 10^6 bytes */
	ck_assert_uint_eq(t->nexus[0].sid, 2);
	ck_assert_str_eq(t->nexus[0].initiator, "iqn.1994-05.test:client2");
	tgtc_show_free(&sh);
	/* Nothing to parse is no target, not an error. */
	ck_assert_int_eq(tgtc_parse_show_full("", 0, &sh), 0);
	ck_assert_uint_eq(sh.ntargets, 0);
	tgtc_show_free(&sh);
}
END_TEST

START_TEST(test_stat_portals)
{
	struct tgtc_counter *c;
	struct tgtc_portal *p;
	size_t n;

	ck_assert_int_eq(tgtc_parse_stat(stat_out, sizeof(stat_out) - 1, &c, &n), 0);
	ck_assert_uint_eq(n, 5); /* the header line is not a row */
	ck_assert_uint_eq(c[4].tid, 3);
	ck_assert_uint_eq(c[4].lun, 2);
	ck_assert_uint_eq(c[4].sid, 2);
	ck_assert_uint_eq(c[4].rd_bytes, 100782112ull); /* rd_done, not rd_subm */
	ck_assert_uint_eq(c[4].rd_cmds, 24606);
	ck_assert_uint_eq(c[4].wr_bytes, 0);
	ck_assert_uint_eq(c[4].bytes, 100782112ull);
	ck_assert_uint_eq(c[1].rd_bytes, 101257248ull);
	free(c);
	ck_assert_int_eq(tgtc_parse_portals(portal_out, sizeof(portal_out) - 1, &p, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p[0].host, "::1");
	ck_assert_uint_eq(p[0].port, 13919);
	ck_assert_uint_eq(p[0].tpgt, 1);
	ck_assert_str_eq(p[1].host, "127.0.0.3");
	ck_assert_uint_eq(p[1].port, 13918);
	free(p);
	ck_assert_int_eq(tgtc_parse_portals("Portal: 127.0.0.1:0,1\nPortal: garbage\n", 37, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(p);
}
END_TEST

/* One target, sessions coming and going: per-target sums never go back. */
START_TEST(test_model_monotonic)
{
	struct tgtc_nexus_conn conn = {0, "127.0.0.1"};
	struct tgtc_nexus nx[2] = {{5, "iqn.x:a", &conn, 1}, {6, "iqn.x:b", &conn, 1}};
	struct tgtc_lun lun[2] = {{0, "controller", 0, "None", "s0", ""}, {1, "disk", 67, "/d", "s1", ""}};
	struct tgtc_target_info ti = {7, "iqn.x:t", lun, 2, nx, 2, NULL, 0, NULL, 0};
	struct tgtc_show sh = {&ti, 1};
	struct tgtc_counter c[3] = {
	    {7, 1, 5, 0, 1000, 10, 500, 5},
	    {7, 0, 5, 0, 1, 1, 0, 0},
	    {7, 1, 6, 0, 2000, 20, 0, 0},
	};
	const struct stor_target *t;
	const struct stor_session *s;

	stor_reset();
	ck_assert_int_eq(stor_ingest_targets(&sh, c, 3), 0);
	t = stor_target_find(7);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->nluns, 2);
	ck_assert_uint_eq(stor_lun_find(t, 1)->size_mib, 64);
	ck_assert_uint_eq(t->nsessions, 2);
	s = stor_session_find(t, 5);
	ck_assert_uint_eq(s->ctr.rd_bytes, 1001); /* summed over its LUNs */
	ck_assert_uint_eq(t->ctr.rd_bytes, 3001);
	ck_assert_uint_eq(t->ctr.wr_cmds, 5);
	ck_assert_ptr_eq(stor_session_next(t, -1), s);
	ck_assert_ptr_null(stor_session_next(t, 6));
	ck_assert_uint_eq(stor_lun_next(t, -1)->lun, 0);
	ck_assert_ptr_eq(stor_lun_next(t, 0), stor_lun_find(t, 1));
	ck_assert_ptr_null(stor_lun_next(t, 1));

	/* Session 5 ends; 6 grows; the stat misses nothing else. */
	ti.nexus = &nx[1];
	ti.nnexus = 1;
	c[0] = (struct tgtc_counter){7, 1, 6, 0, 2500, 25, 0, 0};
	ck_assert_int_eq(stor_ingest_targets(&sh, c, 1), 0);
	t = stor_target_find(7);
	ck_assert_uint_eq(t->nsessions, 1);
	ck_assert_uint_eq(t->ctr.rd_bytes, 1001 + 2500);
	ck_assert_uint_eq(t->ctr.wr_bytes, 500);

	/* A stat that missed session 6 (it ran after the show) keeps its last values. */
	ck_assert_int_eq(stor_ingest_targets(&sh, NULL, 0), 0);
	t = stor_target_find(7);
	ck_assert_uint_eq(t->ctr.rd_bytes, 1001 + 2500);

	/* tgt reuses id 6 for another initiator: the old session's bytes stay in the base. */
	snprintf(nx[1].initiator, sizeof(nx[1].initiator), "iqn.x:c");
	c[0] = (struct tgtc_counter){7, 1, 6, 0, 10, 1, 0, 0};
	ck_assert_int_eq(stor_ingest_targets(&sh, c, 1), 0);
	t = stor_target_find(7);
	ck_assert_uint_eq(t->ctr.rd_bytes, 1001 + 2500 + 10);

	/* Another target under the same tid counts from zero. */
	snprintf(ti.name, sizeof(ti.name), "iqn.x:other");
	ck_assert_int_eq(stor_ingest_targets(&sh, c, 1), 0);
	ck_assert_uint_eq(stor_target_find(7)->ctr.rd_bytes, 10);
	ck_assert_ptr_null(stor_target_next(7));
	stor_reset();
	ck_assert_ptr_null(stor_target_next(0));
}
END_TEST

/* `--op show --mode account` and the iSNS part of `--op show --mode sys`. */
START_TEST(test_accounts_isns)
{
	static const char acc[] = "Account list:\n    u2\n    u1\n";
	static const char sys[] = "System:\n    State: ready\n    debug: off\nLLDs:\n    iscsi: ready\niSNS:\n"
	                          "    iSNS=On\n    iSNSServerIP=127.0.0.9\n    iSNSServerPort=3206\n"
	                          "    iSNSAccessControl=Off\n";
	char(*users)[TGTC_NAME_MAX] = NULL;
	struct tgtc_isns isns;
	size_t n = 9;

	ck_assert_int_eq(tgtc_parse_accounts(acc, sizeof(acc) - 1, &users, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(users[0], "u2");
	ck_assert_str_eq(users[1], "u1");
	free(users);
	ck_assert_int_eq(tgtc_parse_accounts("Account list:\n", 14, &users, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(users);
	ck_assert_int_eq(tgtc_parse_isns(sys, sizeof(sys) - 1, &isns), 0);
	ck_assert_int_eq(isns.seen, 1);
	ck_assert_int_eq(isns.on, 1);
	ck_assert_str_eq(isns.server, "127.0.0.9");
	ck_assert_uint_eq(isns.port, 3206);
	ck_assert_int_eq(tgtc_parse_isns("iSNS:\n    iSNS=Off\n    iSNSServerIP=\n", 36, &isns), 0);
	ck_assert_int_eq(isns.on, 0);
	ck_assert_str_eq(isns.server, "");
}
END_TEST

static struct stor_conf mk(int kind, uint32_t k0, uint32_t k1, const char *name, const char *text, uint32_t size)
{
	struct stor_conf c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.k[0] = k0;
	c.k[1] = k1;
	c.storage = STOR_ST_VOLATILE;
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.text, sizeof(c.text), "%s", text);
	c.size_mib = size;
	return c;
}

/* What the storage engine accepts of rows created over SNMP: the LUN directory above all. */
START_TEST(test_conf_validate)
{
	static const char owner = 0;
	char dir[256], luns[300], other[300], link[320], path[400];
	struct sa_storage_config cfg;
	struct stor_conf c;
	struct stat sb;

	ut_tmpdir_make(dir, sizeof(dir), "test_tgtctl");
	snprintf(luns, sizeof(luns), "%s/luns", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(link, sizeof(link), "%s/link", luns);
	ck_assert_int_eq(mkdir(luns, 0700), 0);
	ck_assert_int_eq(mkdir(other, 0700), 0);
	ck_assert_int_eq(symlink(other, link), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.lun_dir = luns;
	stor_conf_start(&cfg, 1, &owner);

	c = mk(STOR_K_TARGET, 5, 0, "iqn.2026-12.test:t5", "alias", 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	c = mk(STOR_K_TARGET, 5, 0, "t5", "", 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);
	c = mk(STOR_K_TARGET, 5, 0, "iqn.2026-12.test:t5", "two\nlines", 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);

	/* LUNs: inside the directory only, a missing file needs a size, the target must exist. */
	snprintf(path, sizeof(path), "%s/a.img", luns);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -ENOENT);
	c.size_mib = 0;
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EDOM);
	c.size_mib = STOR_SIZE_MAX + 1;
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	snprintf(path, sizeof(path), "%s/a.img", other);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	snprintf(path, sizeof(path), "%s/../other/a.img", luns);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	snprintf(path, sizeof(path), "%s/a.img", link);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	c = mk(STOR_K_LUN, 5, 1, "", "a.img", 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	snprintf(path, sizeof(path), "%s/", luns);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	c = mk(STOR_K_LUN, 5, 0, "", "x", 8);
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL); /* LUN 0 is tgt's controller */

	/* Created (volatile: no state file here): the target, then its LUN on a new sparse file. */
	c = mk(STOR_K_TARGET, 5, 0, "iqn.2026-12.test:t5", "alias", 0);
	ck_assert_int_eq(stor_conf_create(&c), 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EEXIST);
	c = mk(STOR_K_TARGET, 6, 0, "iqn.2026-12.test:t5", "", 0);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EEXIST); /* the same name under another tid */
	snprintf(path, sizeof(path), "%s/a.img", luns);
	c = mk(STOR_K_LUN, 5, 1, "", path, 8);
	ck_assert_int_eq(stor_conf_create(&c), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 8 << 20);
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EEXIST);
	c.k[1] = 2;
	c.size_mib = 0;
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0); /* an existing file needs no size */
	ck_assert_ptr_nonnull(stor_conf_find(STOR_K_LUN, 5, 1));
	ck_assert_int_eq(stor_conf_set_alias(5, "new alias"), 0);
	ck_assert_str_eq(stor_conf_find(STOR_K_TARGET, 5, 0)->text, "new alias");

	/* Accounts: lengths and characters of the secret and the user. */
	c = mk(STOR_K_ACCOUNT, 1, 0, "user1", "", 0);
	snprintf(c.secret, sizeof(c.secret), "%s", "Secret-0123");
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EMSGSIZE);
	snprintf(c.secret, sizeof(c.secret), "%s", "Secret-01234");
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	snprintf(c.name, sizeof(c.name), "%s", "two words");
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);
	snprintf(c.name, sizeof(c.name), "%s", "user1");
	ck_assert_int_eq(stor_conf_create(&c), 0);
	c.k[0] = 2;
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EEXIST); /* the same user */

	/* Bindings: one outgoing account per target. */
	c = mk(STOR_K_BIND, 5, 1, "", "", 0);
	c.flag = STOR_BIND_OUT;
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	ck_assert_int_eq(stor_conf_create(&c), 0);
	c.k[1] = 2;
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EEXIST);
	c.flag = 3;
	ck_assert_int_eq(stor_conf_validate(&c, 1), -EINVAL);
	c = mk(STOR_K_BIND, 5, 9, "", "", 0);
	c.flag = STOR_BIND_IN;
	ck_assert_int_eq(stor_conf_validate(&c, 0), -ENOENT); /* no account 9 */

	/* ACLs: names are iSCSI names, addresses ALL, an address or a subnet. */
	c = mk(STOR_K_ACL, 5, 1, "iqn.2026-12.test:host", "", 0);
	c.flag = STOR_ACL_NAME;
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	c.flag = STOR_ACL_ADDRESS;
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);
	snprintf(c.name, sizeof(c.name), "%s", "ALL");
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	snprintf(c.name, sizeof(c.name), "%s", "10.0.0.0/8");
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	snprintf(c.name, sizeof(c.name), "%s", "10.0.0.0/33");
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);
	snprintf(c.name, sizeof(c.name), "%s", "fd00::/64");
	ck_assert_int_eq(stor_conf_validate(&c, 0), 0);
	c.flag = STOR_ACL_NAME;
	ck_assert_int_eq(stor_conf_validate(&c, 0), -EINVAL);

	/* The merged row order of the target and LUN tables: configured rows tgt does not list yet are rows too. */
	{
		uint32_t tid = 0, lun = 0;

		ck_assert_int_eq(stor_target_row_next(1, 0, &tid), 0);
		ck_assert_uint_eq(tid, 5);
		ck_assert_int_eq(stor_target_row_next(0, 5, &tid), -ENOENT);
		ck_assert_int_eq(stor_lun_row_next(1, 0, 0, &tid, &lun), 0);
		ck_assert_uint_eq(tid, 5);
		ck_assert_uint_eq(lun, 1);
		ck_assert_int_eq(stor_lun_row_next(0, 5, 1, &tid, &lun), -ENOENT);
	}
	stor_conf_stop();
	ck_assert_ptr_null(stor_conf_find(STOR_K_TARGET, 5, 0));
	ut_tmpdir_remove(dir);
}
END_TEST

/* What tgtadm 1.0.85 itself sends (x86-64, host order), captured by a unix socket server standing in for tgtd:
 * `tgtadm -C 1 --lld iscsi --op new --mode portal --param portal=192.0.2.3:3261`, `... --op show --mode target`,
 * `... --op delete --mode portal --param portal=[2001:db8::1]:3260`; `tgtadm -C 1 --op show --mode sys`, then with
 * --lld iscsi: `--op show --mode account`, `--op stat --mode sys`, `--op delete --mode conn --tid 1 --sid 7 --cid 0`,
 * `--op show --mode portal`, `--op new --mode account --user alice --password secret123456`. */
static const char req_new_hex[] =
    "030000000000000069736373690000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000099000000ffffffff0000000000000000ffffffffffffffff000000000000000000000000000000000000"
    "000000000000706f7274616c4f707320706f7274616c3d3139322e302e322e333a333236312c00";
static const char req_show_hex[] = "01000000020000006973637369000000000000000000000000000000000000000000000000000000000"
                                   "000000000000000000000000000000000000000000000000000000000000078000000ffffffff000000"
                                   "0000000000ffffffffffffffff000000000000000000000000000000000000000000000000";
static const char req_sys_hex[] = "000000000200000000000000000000000000000000000000000000000000000000000000000000000000"
                                  "00000000000000000000000000000000000000000000000000000000000078000000ffffffff00000000"
                                  "00000000ffffffffffffffff000000000000000000000000000000000000000000000000";
static const char req_account_hex[] =
    "070000000200000069736373690000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000078000000ffffffff0000000000000000ffffffffffffffff000000000000000000000000000000000000"
    "000000000000";
static const char req_stat_hex[] = "00000000060000006973637369000000000000000000000000000000000000000000000000000000000"
                                   "000000000000000000000000000000000000000000000000000000000000078000000ffffffff000000"
                                   "0000000000ffffffffffffffff000000000000000000000000000000000000000000000000";
static const char req_conn_hex[] = "06000000010000006973637369000000000000000000000000000000000000000000000000000000000"
                                   "00000000000000000000000000000000000000000000000000000000000007800000001000000070000"
                                   "0000000000ffffffffffffffff000000000000000000000000000000000000000000000000";
static const char req_portals_hex[] =
    "030000000200000069736373690000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000078000000ffffffff0000000000000000ffffffffffffffff000000000000000000000000000000000000"
    "000000000000";
static const char req_acct_hex[] =
    "070000000000000069736373690000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000099000000ffffffff0000000000000000ffffffffffffffff000000000000000000000000000000000000"
    "000000000000757365723d616c6963652c70617373776f72643d73656372657431323334353600";
static const char req_del6_hex[] =
    "030000000100000069736373690000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000009d000000ffffffff0000000000000000ffffffffffffffff000000000000000000000000000000000000"
    "000000000000706f7274616c4f707320706f7274616c3d5b323030313a6462383a3a315d3a333236302c00";

static void check_encoded(const char *const *args, size_t nargs, const char *hex)
{
	unsigned char buf[TGTC_REQ_HDR + 512], want[TGTC_REQ_HDR + 512];
	size_t len = 0, wl = strlen(hex) / 2;

	ck_assert_uint_le(wl, sizeof(want));
	for (size_t i = 0; i < wl; i++) {
		unsigned int b;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &b), 1);
		want[i] = (unsigned char)b;
	}
	ck_assert_int_eq(tgtc_encode_req(args, nargs, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, wl);
	ck_assert_int_eq(memcmp(buf, want, wl), 0);
}

START_TEST(test_socket_encoding)
{
	static const char *const new_args[] = {"--lld",  "iscsi",  "--op",    "new",
	                                       "--mode", "portal", "--param", "portal=192.0.2.3:3261"};
	static const char *const show_args[] = {"--lld", "iscsi", "--op", "show", "--mode", "target"};
	static const char *const del_args[] = {"--lld",  "iscsi",  "--op",    "delete",
	                                       "--mode", "portal", "--param", "portal=[2001:db8::1]:3260"};
	static const char *const sys_args[] = {"--op", "show", "--mode", "sys"};
	static const char *const account_args[] = {"--lld", "iscsi", "--op", "show", "--mode", "account"};
	static const char *const stat_args[] = {"--lld", "iscsi", "--op", "stat", "--mode", "sys"};
	static const char *const conn_args[] = {"--lld", "iscsi", "--op",  "delete", "--mode", "conn",
	                                        "--tid", "1",     "--sid", "7",      "--cid",  "0"};
	static const char *const portals_args[] = {"--lld", "iscsi", "--op", "show", "--mode", "portal"};
	static const char *const acct_args[] = {"--lld",   "iscsi",  "--op",  "new",        "--mode",
	                                        "account", "--user", "alice", "--password", "secret123456"};
	static const char *const acctbind_args[] = {"--lld",   "iscsi", "--op", "bind",   "--mode",
	                                            "account", "--tid", "1",    "--user", "alice"};
	static const char *const acctdel_args[] = {"--lld",  "iscsi",   "--op",   "delete",
	                                           "--mode", "account", "--user", "alice"};
	/* Left to the tgtadm child: other modes and verbs, other options, a portal verb without its portal, a
	 * connection without its numbers. */
	static const char *const tgtstat_args[] = {"--lld", "iscsi", "--op", "stat", "--mode", "target"};
	static const char *const conn0_args[] = {"--lld", "iscsi", "--op",  "delete", "--mode", "conn",
	                                         "--tid", "0",     "--sid", "7",      "--cid",  "0"};
	static const char *const connx_args[] = {"--lld", "iscsi", "--op",  "delete", "--mode", "conn",
	                                         "--tid", "1",     "--sid", "7x",     "--cid",  "0"};
	static const char *const connn_args[] = {"--lld", "iscsi", "--op", "delete", "--mode", "conn", "--tid", "1"};
	static const char *const other_args[] = {"--lld", "iser", "--op", "show", "--mode", "target"};
	static const char *const tid_args[] = {"--lld", "iscsi", "--op", "show", "--mode", "target", "--tid", "1"};
	static const char *const bare_args[] = {"--lld", "iscsi", "--op", "new", "--mode", "portal"};
	static const char *const nolld_args[] = {"--op", "show", "--mode", "portal"};
	static const char *const odd_args[] = {"--lld", "iscsi", "--op"};
	static const char *const twice_args[] = {"--lld", "iscsi", "--op", "show", "--op", "show", "--mode", "portal"};
	static const char *const tgtnew_args[] = {"--lld",  "iscsi",  "--op",    "new",
	                                          "--mode", "target", "--param", "portal=1.2.3.4:3260"};
	unsigned char buf[TGTC_REQ_HDR + 512], rsp[TGTC_RSP_HDR] = {17, 0, 0, 0, 8, 0, 0, 0};
	size_t len;
	uint32_t err, outlen;
	char longp[600];

	check_encoded(new_args, 8, req_new_hex);
	check_encoded(show_args, 6, req_show_hex);
	check_encoded(del_args, 8, req_del6_hex);
	check_encoded(sys_args, 4, req_sys_hex);
	check_encoded(account_args, 6, req_account_hex);
	check_encoded(stat_args, 6, req_stat_hex);
	check_encoded(conn_args, 12, req_conn_hex);
	check_encoded(portals_args, 6, req_portals_hex);
	check_encoded(acct_args, 10, req_acct_hex);
	ck_assert_int_eq(tgtc_encode_req(acctbind_args, 10, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(acctdel_args, 8, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(tgtstat_args, 6, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(conn0_args, 12, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(connx_args, 12, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(connn_args, 8, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(other_args, 6, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(tid_args, 8, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(bare_args, 6, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(nolld_args, 4, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(odd_args, 3, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(twice_args, 8, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(tgtnew_args, 8, buf, sizeof(buf), &len), -ENOTSUP);
	ck_assert_int_eq(tgtc_encode_req(show_args, 6, buf, TGTC_REQ_HDR - 1, &len), -ENOSPC);
	ck_assert_int_eq(tgtc_encode_req(new_args, 8, buf, TGTC_REQ_HDR + 10, &len), -ENOSPC);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "portal=", 7);
	{
		const char *const long_args[] = {"--lld", "iscsi", "--op", "new", "--mode", "portal", "--param", longp};

		ck_assert_int_eq(tgtc_encode_req(long_args, 8, buf, sizeof(buf), &len), -ENOSPC);
	}
	/* tgtd's answers: an error alone (17: invalid request, a portal that exists), a listing's length, garbage. */
	ck_assert_int_eq(tgtc_decode_rsp(rsp, &err, &outlen), 0);
	ck_assert_uint_eq(err, 17);
	ck_assert_uint_eq(outlen, 0);
	rsp[0] = 0;
	rsp[4] = 35;
	ck_assert_int_eq(tgtc_decode_rsp(rsp, &err, &outlen), 0);
	ck_assert_uint_eq(err, 0);
	ck_assert_uint_eq(outlen, 27);
	rsp[4] = 7;
	ck_assert_int_eq(tgtc_decode_rsp(rsp, &err, &outlen), -EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tgtctl");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_show_full);
	tcase_add_test(tc, test_stat_portals);
	tcase_add_test(tc, test_model_monotonic);
	tcase_add_test(tc, test_accounts_isns);
	tcase_add_test(tc, test_conf_validate);
	tcase_add_test(tc, test_socket_encoding);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
