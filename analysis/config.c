/* config.c - defaults for the analysis settings. */
#include "config.h"

#include <string.h>

void pw_config_defaults(pw_config *c)
{
    memset(c, 0, sizeof *c);
    c->tcp_timeout = 10 * PW_USEC_PER_SEC;
    c->udp_timeout = 5 * PW_USEC_PER_SEC;
    c->nnr_alert_threshold = 0.9;
    c->max_evidence = 10;
}
