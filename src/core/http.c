/* http.c - being written */
#include "ekey.h"
