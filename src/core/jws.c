/* jws.c - being written */
#include "ekey.h"
