/* crypto.c - being written */
#include "ekey.h"
