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

/* Inserts elem (size bytes) at position i of the array at arrp (*n elements), growing it as cm_grow does; the
 * elements from i on move up one.  0, or -ENOMEM with nothing changed. */
static inline int cm_insert(void *arrp, size_t *n, size_t *cap, size_t size, size_t i, const void *elem, size_t first)
{
	char *a;

	if (cm_grow(arrp, cap, *n, size, first) < 0)
		return -ENOMEM;
	memcpy(&a, arrp, sizeof(a));
	memmove(a + (i + 1) * size, a + i * size, (*n - i) * size);
	memcpy(a + i * size, elem, size);
	(*n)++;
	return 0;
}

/* Removes the element at position i of base[0..*n) (size bytes each): those after it move down one. */
static inline void cm_remove(void *base, size_t *n, size_t size, size_t i)
{
	char *a = base;

	memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

#endif
