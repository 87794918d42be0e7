/* privs.h - dropping root after the capture is open (-Z USER), as tcpdump does. */
#ifndef PW_PRIVS_H
#define PW_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* Becomes user (its groups, gid, uid); false with err set.  Checks that
 * root cannot be regained. */
bool pw_drop_privileges(const char *user, char *err, size_t errlen);

#endif
