/* url.c - being written */
#include "ekey.h"
