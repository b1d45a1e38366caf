/* hive/hive.h - the whole public API of hive. */
#ifndef HV_HIVE_H
#define HV_HIVE_H

#include "hive/error.h"
#include "hive/term.h"
#include "hive/process.h"
#include "hive/match.h"
#include "hive/server.h"
#include "hive/supervisor.h"

#endif /* HV_HIVE_H */
