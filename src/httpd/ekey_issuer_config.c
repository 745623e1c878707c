/* ekey_issuer_config.c - being written */
#include "ekey.h"
