/*
 * ekey_release.h - frees libekey's per-process state when httpd throws a configuration away.
 */
#ifndef EKEY_RELEASE_H
#define EKEY_RELEASE_H

/* Each module links its own copy of libekey, so each registers this (in register_hooks). */
void ekey_release_register(void);

#endif
