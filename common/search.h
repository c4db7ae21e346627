/* search.h: the lower-bound binary search of every sorted table (by index or by any order), written once. */
#ifndef SA_SEARCH_H
#define SA_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The first position of base[0..n) (elements of size bytes, sorted as cmp
 * says) whose element does not sort before key, n when there is none:
 * cmp(elem, key) < 0 when elem sorts before key.  For keys that are not one
 * integer (strings, composite keys, orders that need context).  The one
 * binary search of the tree; cm_lower_bound below is this with an integer key.
 */
static inline size_t cm_lower_bound_cmp(const void *base, size_t n, size_t size, const void *key,
                                        int (*cmp)(const void *elem, const void *key))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp((const char *)base + mid * size, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct cm_int_key {
	int64_t key;
	int64_t (*key_of)(const void *elem);
};

static inline int cm_int_key_cmp(const void *elem, const void *key)
{
	const struct cm_int_key *k = key;
	int64_t e = k->key_of(elem);

	return e < k->key ? -1 : e > k->key;
}

/*
 * The first position of base[0..n) (elements of size bytes, sorted by
 * key_of ascending) whose key is >= key, n when there is none. The key is
 * an int64_t so that "after" lookups may ask for UINT32_MAX + 1 of a
 * 32-bit index without wrapping to 0.
 */
static inline size_t cm_lower_bound(const void *base, size_t n, size_t size, int64_t key,
                                    int64_t (*key_of)(const void *elem))
{
	struct cm_int_key k = {key, key_of};

	return cm_lower_bound_cmp(base, n, size, &k, cm_int_key_cmp);
}

/*
 * cm_lower_bound with a position hint, the last answer, kept by the caller (any value is safe: it is checked
 * before it is used).  A walk asks for the row it was just given, or the one after it (GETNEXT, then GET of the
 * same row): the hint and its successor are tried first, so a walk costs O(1) per varbind.  At 100,000 rows every
 * step of a binary search is a cache miss, which made large walks measurably slower per row.
 */
static inline size_t cm_lower_bound_hint(const void *base, size_t n, size_t size, int64_t key,
                                         int64_t (*key_of)(const void *elem), size_t *hint)
{
#define CM_KEY_AT(i) key_of((const char *)base + (i)*size)
	for (size_t h = *hint; h <= *hint + 1 && h <= n; h++)
		if ((h == n || CM_KEY_AT(h) >= key) && (h == 0 || CM_KEY_AT(h - 1) < key))
			return *hint = h;
#undef CM_KEY_AT
	return *hint = cm_lower_bound(base, n, size, key, key_of);
}

/* Over the same sorted array: the element whose key is key, and the first whose key is above after (a table's
 * GET and GETNEXT); NULL when there is none. */
static inline const void *cm_find_key(const void *base, size_t n, size_t size, int64_t key,
                                      int64_t (*key_of)(const void *elem))
{
	size_t i = cm_lower_bound(base, n, size, key, key_of);
	const void *e = i < n ? (const char *)base + i * size : NULL;

	return e && key_of(e) == key ? e : NULL;
}

static inline const void *cm_next_key(const void *base, size_t n, size_t size, int64_t after,
                                      int64_t (*key_of)(const void *elem))
{
	size_t i = cm_lower_bound(base, n, size, after + 1, key_of);

	return i < n ? (const char *)base + i * size : NULL;
}

#endif
