/* ekey_config.c - being written */
#include "ekey.h"
