/* stor_private.h: what storage.c shares with the other files of engines/storage/ (not for other layers). */
#ifndef SA_ENGINES_STOR_PRIVATE_H
#define SA_ENGINES_STOR_PRIVATE_H

#include "engines/storage/storage.h"

#define STOR_TAG "storage"

/* The targets of the last round, sorted by tid, for the feedback side to sample and annotate. */
struct stor_target *stor_targets_mut(size_t *n);
/* conf.c, from the round: what tgt listed, then what is missing from it is applied. */
struct tgtc_isns;
void stor_conf_round(const struct tgtc_show *show, char (*accounts)[TGTC_NAME_MAX], size_t naccounts,
                     const struct tgtc_isns *isns);
void stor_conf_start(const struct sa_storage_config *cfg, int control, const void *owner);
void stor_conf_configure(const struct sa_storage_config *cfg); /* a reload: storage.lun_dir again */
void stor_conf_stop(void);
void stor_round_kick(void); /* a round now (after one that runs) */
int stor_canon_host(const char *in, char *out, size_t size);

#endif
