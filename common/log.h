/* log.h - diagnostics on stderr.  Messages name the file and frame when they
 * are about input ("file.pcap: frame 12: ..."), per the CLI conventions. */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdarg.h>

enum { PW_LOG_QUIET = 0, PW_LOG_ERROR = 1, PW_LOG_WARN = 2, PW_LOG_INFO = 3, PW_LOG_DEBUG = 4 };

extern int pw_log_level;

void pw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pw_error(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pw_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pw_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pw_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif
