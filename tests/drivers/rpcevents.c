/* rpcevents.c - a test-only driver (the capture -> dissector glue is
 * drive.h's) that prints the DCE/RPC facts as tab-separated lines for the
 * script tests to compare with tshark:
 *
 *   dcerpc <frame> <dir> <server_port> <pipe or -> <ptype> <call_id> <auth_type> <iface>
 *   ntlm   <frame> <dir> <server_port> <msg_type> <nb_computer> <dns_computer>
 *   epm    <frame> <dir> <server_port> <pipe or -> <proto> <port> <iface>
 *   malformed <frame> <text>
 *
 * NTLMSSP events say nothing of their carrier: an ntlm line follows the
 * dcerpc line of the PDU that carried it (same frame), or none (SMB
 * SESSION_SETUP, LDAP...). */
#include "drive.h"

static void on_event(void *arg, const pw_event *ev)
{
    (void)arg;
    unsigned long long fr = (unsigned long long)ev->frame;
    unsigned sp = ev->flow.server_port;
    if (ev->type == PW_EV_DCERPC) {
        const pw_ev_dcerpc *d = &ev->u.dcerpc;
        printf("dcerpc\t%llu\t%d\t%u\t%s\t%u\t%u\t%u\t%s\n", fr, ev->dir, sp, d->pipe[0] ? d->pipe : "-", d->ptype,
               d->call_id, d->auth_type, d->iface[0] ? d->iface : "-");
    } else if (ev->type == PW_EV_NTLMSSP) {
        const pw_ev_ntlmssp *n = &ev->u.ntlmssp;
        printf("ntlm\t%llu\t%d\t%u\t%u\t%s\t%s\n", fr, ev->dir, sp, n->msg_type, n->nb_computer, n->dns_computer);
    } else if (ev->type == PW_EV_EPM_PORT) {
        const pw_ev_epm_port *e = &ev->u.epm;
        printf("epm\t%llu\t%d\t%u\t%s\t%u\t%u\t%s\n", fr, ev->dir, sp, e->pipe[0] ? e->pipe : "-", e->proto, e->port,
               e->iface);
    } else if (ev->type == PW_EV_MALFORMED) {
        printf("malformed\t%llu\t%s\n", fr, ev->u.malformed);
    }
}

int main(int argc, char **argv)
{
    return drive_main(argc, argv, true, "rpcevents");
}
