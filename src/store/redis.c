/* redis.c - being written */
#include "ekey.h"
