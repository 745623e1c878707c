/* mod_ekey.c - being written */
#include "httpd.h"
#include "http_config.h"
module AP_MODULE_DECLARE_DATA ekey_module = { STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, NULL, 0 };
