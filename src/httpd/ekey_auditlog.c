/* ekey_auditlog.c - being written */
#include "ekey.h"
