#ifndef EKEY_AUDITLOG_H
#define EKEY_AUDITLOG_H
#endif
