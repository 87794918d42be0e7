/* sqlevents.c - a test-only driver (the capture -> dissector glue is
 * drive.h's, UDP datagrams included) that prints the SQL Server facts as tab-separated lines for the script
 * tests to compare with tshark and with the scenario generator:
 *
 *   tds   <frame> <dir> <server_port> prelogin <encryption> <version hex>
 *   tds   <frame> <dir> <server_port> loginack <prog_name> <tds_version hex>
 *   tds   <frame> <dir> <server_port> error <number> <state> <class> <message> <server_name>
 *   tds   <frame> <dir> <server_port> done <status>
 *   tds   <frame> <dir> <server_port> encrypted
 *   ssrp  <frame> <dir> <kind> <instance> <dac_port> <n_instances>
 *   inst  <frame> <server_name> <instance> <version> <clustered> <tcp_port> <np>
 *   cert  <frame> <dir> <subject_cn> <san,san...>
 *   app   <frame> <name>
 *   malformed <frame> <text> */
#include "drive.h"

static const char *ssrp_kind(uint8_t k)
{
    static const char *const names[] = {"?", "bcast_ex", "ucast_ex", "ucast_inst", "ucast_dac", "response",
                                        "dac_response"};
    return k < sizeof names / sizeof *names ? names[k] : "?";
}

static void on_event(void *arg, const pw_event *ev)
{
    (void)arg;
    unsigned long long fr = (unsigned long long)ev->frame;
    if (ev->type == PW_EV_TDS) {
        const pw_ev_tds *t = &ev->u.tds;
        printf("tds\t%llu\t%d\t%u\t", fr, ev->dir, ev->flow.server_port);
        switch (t->kind) {
        case PW_TDS_PRELOGIN:
            printf("prelogin\t%d\t0x%08x\n", t->has_encryption ? t->encryption : -1, t->version);
            break;
        case PW_TDS_LOGINACK:
            printf("loginack\t%s\t0x%08x\n", t->prog_name, t->tds_version);
            break;
        case PW_TDS_ERROR:
            printf("error\t%u\t%u\t%u\t%s\t%s\n", t->number, t->state, t->severity, t->message,
                   t->server_name);
            break;
        case PW_TDS_DONE:
            printf("done\t%u\n", t->done_status);
            break;
        default:
            printf("encrypted\n");
            break;
        }
    } else if (ev->type == PW_EV_SSRP) {
        const pw_ev_ssrp *s = &ev->u.ssrp;
        printf("ssrp\t%llu\t%d\t%s\t%s\t%u\t%u\n", fr, ev->dir, ssrp_kind(s->kind), s->instance,
               s->dac_port, s->n_instances);
        for (int i = 0; i < s->n_instances; i++) {
            const pw_ssrp_instance *in = &s->instances[i];
            printf("inst\t%llu\t%s\t%s\t%s\t%d\t%u\t%s\n", fr, in->server_name, in->instance,
                   in->version, in->is_clustered, in->tcp_port, in->np);
        }
    } else if (ev->type == PW_EV_TLS && ev->u.tls.kind == PW_TLS_CERTIFICATE) {
        printf("cert\t%llu\t%d\t%s\t", fr, ev->dir, ev->u.tls.subject_cn);
        for (int i = 0; i < ev->u.tls.n_san; i++)
            printf("%s%s", i ? "," : "", ev->u.tls.san[i]);
        printf("\n");
    } else if (ev->type == PW_EV_APP) {
        printf("app\t%llu\t%s\n", fr, ev->u.app);
    } else if (ev->type == PW_EV_MALFORMED) {
        printf("malformed\t%llu\t%s\n", fr, ev->u.malformed);
    }
}

int main(int argc, char **argv)
{
    return drive_main(argc, argv, true, "sqlevents");
}
