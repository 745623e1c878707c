/* ekey_authn.c - being written */
#include "ekey.h"
