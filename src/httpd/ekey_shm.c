/* ekey_shm.c - being written */
#include "ekey.h"
