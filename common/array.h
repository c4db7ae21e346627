/* array.h: the doubling growth of the arrays that tables and lists keep their rows in, written once. */
#ifndef SA_COMMON_ARRAY_H
#define SA_COMMON_ARRAY_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * Room for element n (the first unused one) of the array whose pointer is at arrp, an element type's T ** (*cap
 * elements of size bytes allocated): when it is full it doubles, first elements the first time.  0, or -ENOMEM with
 * the array and *cap as they were.  The pointer is read and written as bytes, so one function serves every T.
 */
static inline int cm_grow(void *arrp, size_t *cap, size_t n, size_t size, size_t first)
{
	void *a, *na;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	memcpy(&a, arrp, sizeof(a));
	if (!(na = realloc(a, nc * size)))
		return -ENOMEM;
	memcpy(arrp, &na, sizeof(na));
	*cap = nc;
	return 0;
}

#endif
