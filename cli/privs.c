/* privs.c - -Z USER: the interfaces are open, the rest runs as USER.
 * Order matters: supplementary groups and the gid must change while we
 * still may, the uid last. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

bool pw_drop_privileges(const char *user, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user%s%s", user, errno ? ": " : "", errno ? strerror(errno) : "");
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot become that user: %s", user, strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "-Z %s: root could be regained; refusing to go on", user);
        return false;
    }
    return true;
}
