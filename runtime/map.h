/* runtime/map.h - maps, internal side (sorted key array, binary search). */
#ifndef HV_RUNTIME_MAP_H
#define HV_RUNTIME_MAP_H

#include <stddef.h>

#include "hive/term.h"

/* Index of key in map (which must be a map box), or -1 when absent. */
ptrdiff_t hv__map_find(hv_term map, hv_term key);

#endif /* HV_RUNTIME_MAP_H */
