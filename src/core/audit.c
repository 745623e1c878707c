/* audit.c - being written */
#include "ekey.h"
