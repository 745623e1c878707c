/* json.c - being written */
#include "ekey.h"
