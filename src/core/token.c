/* token.c - being written */
#include "ekey.h"
