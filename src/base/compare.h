/*
 * compare.h
 *	  Three-way comparisons of numbers (-1, 0 or 1, ascending) for qsort and
 *	  list_sort comparators.
 */
#ifndef TS_BASE_COMPARE_H
#define TS_BASE_COMPARE_H

#include "postgres.h"

/* Orders two int64 values ascending. */
static inline int
ts_cmp_int64(int64 a, int64 b)
{
	return (a > b) - (a < b);
}

/* Orders two doubles ascending. */
static inline int
ts_cmp_double(double a, double b)
{
	return (a > b) - (a < b);
}

#endif							/* TS_BASE_COMPARE_H */
