/* ekey_respond.c - being written */
#include "ekey.h"
