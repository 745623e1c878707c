/* jwk.c - being written */
#include "ekey.h"
