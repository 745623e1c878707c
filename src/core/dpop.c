/* dpop.c - being written */
#include "ekey.h"
