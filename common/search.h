/* search.h: the lower-bound binary search of the engines' sorted tables (O(log n) lookups by index), written once. */
#ifndef SA_SEARCH_H
#define SA_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The first position of base[0..n) (elements of size bytes, sorted by
 * key_of ascending) whose key is >= key, n when there is none. The key is
 * an int64_t so that "after" lookups may ask for UINT32_MAX + 1 of a
 * 32-bit index without wrapping to 0.
 */
static inline size_t sa_lower_bound(const void *base, size_t n, size_t size, int64_t key,
                                    int64_t (*key_of)(const void *elem))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_of((const char *)base + mid * size) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
