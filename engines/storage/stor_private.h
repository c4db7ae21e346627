/* stor_private.h: what storage.c shares with the other files of engines/storage/ (not for other layers). */
#ifndef SA_ENGINES_STOR_PRIVATE_H
#define SA_ENGINES_STOR_PRIVATE_H

#include "engines/storage/storage.h"

#define STOR_TAG "storage"

/* The targets of the last round, sorted by tid, for the feedback side to sample and annotate. */
struct stor_target *stor_targets_mut(size_t *n);

#endif
