/* keyset.c - being written */
#include "ekey.h"
