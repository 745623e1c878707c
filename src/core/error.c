/* error.c - being written */
#include "ekey.h"
