#ifndef EKEY_CONFIG_H
#define EKEY_CONFIG_H
#endif
