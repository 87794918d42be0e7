#include "log.h"

#include <stdio.h>

int pw_log_level = PW_LOG_WARN;

void pw_log(int level, const char *fmt, ...)
{
    if (level > pw_log_level)
        return;
    static const char *const tag[] = {"", "error", "warning", "info", "debug"};
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "portwitness: %s: ", tag[level < 0 || level > 4 ? 0 : level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
