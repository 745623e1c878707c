/* mod_ekey_issuer.c - being written */
#include "ekey.h"
