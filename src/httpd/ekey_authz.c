/* ekey_authz.c - being written */
#include "ekey.h"
