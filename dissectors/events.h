/* events.h - the typed events dissectors emit: the seam between dissectors/
 * and analysis/.
 *
 * A dissector turns bytes into these facts about one protocol; it knows
 * nothing of NNR, policy or output.  analysis/ consumes them and never sees
 * packet bytes.  An event lives on the emitting dissector's stack for the
 * duration of the emit call: copy what you keep.  Strings are NUL-terminated
 * UTF-8 (UTF-16 names are converted), truncated to their field size. */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../common/pwtime.h"

/* The flow a dissector works on.  client is the side that opened the TCP
 * connection, or for UDP the side that is not on the dissector's port. */
typedef struct pw_flow {
    uint32_t source;  /* input index */
    uint8_t proto;    /* 6 = TCP, 17 = UDP */
    pw_addr client, server;
    uint16_t client_port, server_port;
    bool midstream;   /* TCP: first seen mid-stream (handshake not captured); client and
                         server were inferred from the ports and the dissectors' probes */
} pw_flow;

typedef enum pw_event_type {
    PW_EV_APP = 1,   /* the flow carries this application protocol (sets attempt "app") */
    PW_EV_MALFORMED, /* a message was truncated or malformed (counted, reported) */
    PW_EV_NBNS,      /* one NBNS message */
    PW_EV_DNS,       /* one DNS message */
    PW_EV_DCERPC,    /* one DCE/RPC connection-oriented PDU */
    PW_EV_EPM_PORT,  /* the endpoint mapper handed out an endpoint (one per tower) */
    PW_EV_NTLMSSP,   /* one NTLMSSP message */
    PW_EV_RDP,       /* X.224 connection request / confirm */
    PW_EV_TLS,       /* a TLS handshake fact */
    PW_EV_HTTP,      /* HTTP CONNECT request or the proxy's status line */
    PW_EV_HTTP2,     /* an HTTP/2 connection fact (preface, SETTINGS, GOAWAY, RST_STREAM...) */
    PW_EV_GRPC,      /* one HTTP/2 request stream (a gRPC call when is_grpc) that ended */
    PW_EV_SSRP,      /* one SQL Server Browser (MS-SQLR, UDP 1434) message */
    PW_EV_TDS,       /* a TDS fact: PRELOGIN, LOGINACK, ERROR, DONE, login encrypted */
    PW_EV_COUNT
} pw_event_type;

#define PW_NAME_MAX 256

/* ---- NBNS (RFC 1002) ---- */
enum { PW_NBNS_QTYPE_NB = 0x20, PW_NBNS_QTYPE_NBSTAT = 0x21 };
#define PW_NBNS_MAX_NAMES 32
#define PW_NBNS_MAX_ADDRS 8
typedef struct pw_ev_nbns {
    uint16_t txid;
    bool response;
    uint8_t opcode;     /* 0 query, 5 registration, 6 release, 7 WACK, 8 refresh */
    uint8_t rcode;      /* 0 ok; 3 = name error (negative response) ... */
    uint16_t qtype;     /* PW_NBNS_QTYPE_* of the question (or of the answer in a response) */
    char qname[17];     /* first-level decoded name, trailing spaces trimmed; "*" for wildcard */
    uint8_t qsuffix;    /* 16th byte of the name (0x00 workstation, 0x20 server, ...) */
    uint8_t n_addrs;    /* positive name query response: NB addresses */
    pw_addr addrs[PW_NBNS_MAX_ADDRS];
    bool has_mac;
    uint8_t mac[6];     /* node status "unit id" */
    uint8_t n_names;    /* node status response: the name table */
    struct {
        char name[16];  /* trailing spaces trimmed */
        uint8_t suffix;
        bool group;
        uint16_t flags; /* raw NAME_FLAGS */
    } names[PW_NBNS_MAX_NAMES]; /* last: pw_event_size() stops after n_names */
} pw_ev_nbns;

/* ---- DNS (RFC 1035), UDP or TCP ---- */
#define PW_DNS_MAX_ANSWERS 8
typedef struct pw_ev_dns {
    uint16_t txid;
    bool response;
    uint8_t opcode;
    uint8_t rcode;      /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED */
    uint16_t qdcount, ancount;
    uint16_t qtype, qclass;
    bool reverse;            /* qname is under in-addr.arpa or ip6.arpa and well-formed */
    pw_addr reverse_addr;    /* the address being resolved */
    uint8_t n_answers;       /* A, AAAA, PTR and CNAME answers, in order */
    /* first question, dotted, no trailing dot; with no answer,
     * pw_event_size() stops after its NUL */
    char qname[PW_NAME_MAX];
    struct {
        uint16_t type;            /* 1 A, 28 AAAA, 12 PTR, 5 CNAME */
        uint32_t ttl;
        pw_addr addr;             /* A / AAAA */
        char target[PW_NAME_MAX]; /* PTR / CNAME target */
    } answers[PW_DNS_MAX_ANSWERS]; /* last: pw_event_size() stops after n_answers */
} pw_ev_dns;

/* ---- DCE/RPC connection-oriented (C706 ch. 12, MS-RPCE) ---- */
enum {
    PW_DCERPC_REQUEST = 0, PW_DCERPC_RESPONSE = 2, PW_DCERPC_FAULT = 3, PW_DCERPC_BIND = 11,
    PW_DCERPC_BIND_ACK = 12, PW_DCERPC_BIND_NAK = 13, PW_DCERPC_ALTER_CONTEXT = 14,
    PW_DCERPC_ALTER_CONTEXT_RESP = 15, PW_DCERPC_AUTH3 = 16
};
enum { PW_AUTHN_NONE = 0, PW_AUTHN_SPNEGO = 9, PW_AUTHN_WINNT = 10 /* NTLMSSP */, PW_AUTHN_KERBEROS = 16 };
typedef struct pw_ev_dcerpc {
    uint8_t ptype;          /* PW_DCERPC_* */
    uint32_t call_id;
    uint16_t frag_len;
    char iface[37];         /* bind/alter_context: first context's abstract syntax UUID, lower case; "" otherwise */
    uint16_t iface_ver;
    bool iface_is_epm;      /* e1af8308-5d1f-11c9-91a4-08002b14a0fa */
    uint16_t opnum;         /* request */
    uint16_t ack_result;    /* bind_ack/alter_context_resp: 0 when any context was accepted, else the first result (2 provider rejection) */
    uint16_t reject_reason; /* bind_nak provider_reject_reason */
    uint32_t status;        /* fault status */
    char sec_addr[64];      /* bind_ack secondary address (port string), "" if none */
    uint8_t auth_type;      /* PW_AUTHN_*, 0 if no auth verifier */
    uint8_t auth_level;
    char pipe[16];          /* carried over this SMB named pipe ("samr", "epmapper"); "" on TCP */
} pw_ev_dcerpc;

typedef struct pw_ev_epm_port {
    uint8_t proto;          /* 6 TCP, 17 UDP */
    bool has_addr;
    pw_addr addr;           /* IP floor of the tower (0.0.0.0 means "the server itself") */
    uint16_t port;
    char iface[37];         /* interface UUID of the tower, lower case */
    uint16_t opnum;         /* 3 ept_map, 2 ept_lookup */
    char pipe[16];          /* answered over this SMB named pipe; "" on TCP */
} pw_ev_epm_port;

/* ---- NTLMSSP (MS-NLMP) ---- */
enum { PW_NTLM_NEGOTIATE = 1, PW_NTLM_CHALLENGE = 2, PW_NTLM_AUTHENTICATE = 3 };
typedef struct pw_ev_ntlmssp {
    uint32_t msg_type;
    uint32_t flags;
    /* CHALLENGE */
    char target_name[PW_NAME_MAX];
    char nb_computer[PW_NAME_MAX], nb_domain[PW_NAME_MAX];
    char dns_computer[PW_NAME_MAX], dns_domain[PW_NAME_MAX], dns_tree[PW_NAME_MAX];
    bool has_timestamp;
    uint64_t timestamp;     /* FILETIME */
    /* AUTHENTICATE */
    char user[PW_NAME_MAX], domain[PW_NAME_MAX], workstation[PW_NAME_MAX];
} pw_ev_ntlmssp;

/* ---- RDP X.224 (MS-RDPBCGR 2.2.1.1 / 2.2.1.2) ---- */
enum { PW_RDP_CONNECTION_REQUEST = 1, PW_RDP_CONNECTION_CONFIRM = 2 };
typedef struct pw_ev_rdp {
    uint8_t kind;
    char cookie[128];          /* value of "Cookie: mstshash=" */
    bool has_neg;              /* RDP_NEG_REQ / RDP_NEG_RSP / RDP_NEG_FAILURE present */
    uint32_t requested_protocols;
    uint32_t selected_protocol;
    bool failure;              /* RDP_NEG_FAILURE */
    uint32_t failure_code;
} pw_ev_rdp;

/* ---- TLS (first flights) ---- */
enum {
    PW_TLS_CLIENT_HELLO = 1, PW_TLS_SERVER_HELLO, PW_TLS_CERTIFICATE,
    PW_TLS_CERT_HIDDEN,        /* TLS 1.3: the certificate is encrypted */
    PW_TLS_ALERT
};
#define PW_TLS_MAX_SAN 8
typedef struct pw_ev_tls {
    uint8_t kind;
    uint16_t version;          /* ClientHello: highest offered; ServerHello: negotiated (supported_versions aware) */
    char sni[PW_NAME_MAX];
    char alpn[64];             /* first ALPN protocol offered / selected */
    uint16_t cipher;           /* ServerHello */
    /* CERTIFICATE: the server's (first) certificate */
    char subject_cn[PW_NAME_MAX];
    char subject[PW_NAME_MAX]; /* one-line DN */
    char issuer[PW_NAME_MAX];  /* one-line DN */
    char issuer_cn[PW_NAME_MAX];
    bool self_signed;
    uint8_t chain_len;         /* certificates in the message */
    /* ALERT */
    uint8_t alert_level, alert_desc;
    /* TLS inside an HTTP CONNECT tunnel: the CONNECT target the handshake is
     * with (host name or address literal, and port); "" / 0 otherwise.  The
     * flow's server is then the proxy, not the certificate's owner. */
    char tunnel_host[PW_NAME_MAX];
    uint16_t tunnel_port;
    /* CERTIFICATE, last: pw_event_size() stops after n_san */
    uint8_t n_san;
    char san[PW_TLS_MAX_SAN][PW_NAME_MAX]; /* subjectAltName dNSName entries */
} pw_ev_tls;

/* ---- HTTP proxy CONNECT ---- */
enum { PW_HTTP_REQUEST = 1, PW_HTTP_RESPONSE = 2 };
typedef struct pw_ev_http {
    uint8_t kind;
    char method[16];           /* REQUEST: "CONNECT", "GET", ... */
    char host[PW_NAME_MAX];    /* CONNECT authority host, or Host header */
    uint16_t port;             /* CONNECT authority port */
    uint16_t status;           /* RESPONSE: 200, 403, 407, ... */
    char reason[64];
} pw_ev_http;

/* ---- HTTP/2 cleartext with prior knowledge (RFC 9113) ---- */
enum {
    PW_HTTP2_PREFACE = 1,  /* the client connection preface (dir 0) */
    PW_HTTP2_SETTINGS,     /* a SETTINGS frame (ack or not) */
    PW_HTTP2_GOAWAY,
    PW_HTTP2_RST_STREAM,
    PW_HTTP2_HPACK_BROKEN, /* header decoding lost its context: the connection is no longer followed */
    PW_HTTP2_END           /* the connection's end as the capture saw it (stream_end) */
};
typedef struct pw_ev_http2 {
    uint8_t kind;
    bool ack;                  /* SETTINGS: the ACK flag */
    uint8_t n_settings;        /* SETTINGS: parameters in the frame */
    /* SETTINGS: the values present (0 when absent; has_* says which were sent) */
    bool has_header_table_size, has_max_concurrent_streams, has_initial_window_size,
        has_max_frame_size, has_max_header_list_size;
    uint32_t header_table_size, max_concurrent_streams, initial_window_size, max_frame_size,
        max_header_list_size;
    uint32_t stream_id;        /* RST_STREAM: the stream; HPACK_BROKEN: the stream of the block */
    uint32_t last_stream_id;   /* GOAWAY */
    uint32_t error_code;       /* GOAWAY / RST_STREAM (RFC 9113 section 7) */
    char error_name[24];       /* "NO_ERROR", "CANCEL", ... or "0x1f" when unknown */
    char detail[64];           /* GOAWAY debug data (printable) / HPACK_BROKEN reason */
    /* END: totals for the connection */
    uint32_t streams_seen;     /* client-initiated streams with a request header block */
    uint32_t streams_dropped;  /* evicted beyond the tracked-stream cap (still emitted) */
    uint64_t frames[2];        /* frames per direction */
} pw_ev_http2;

/* ---- one HTTP/2 request stream, with gRPC's view of it ---- */
enum {
    PW_GRPC_END_COMPLETE = 1, /* the server ended the stream (END_STREAM) */
    PW_GRPC_END_RESET,        /* RST_STREAM from either side (reset_code, reset_dir) */
    PW_GRPC_END_GOAWAY,       /* refused by a GOAWAY whose last_stream_id is below it */
    PW_GRPC_END_CUT,          /* the capture or connection ended with the call open */
    PW_GRPC_END_EVICTED,      /* dropped beyond the tracked-stream cap, still open */
    PW_GRPC_END_ABANDONED     /* header decoding broke (HPACK) with the call open */
};
typedef struct pw_ev_grpc {
    uint32_t stream_id;
    uint8_t end;               /* PW_GRPC_END_* */
    char method[16];           /* request :method ("POST") */
    char path[PW_NAME_MAX];    /* request :path, "/package.Service/Method" for gRPC */
    char authority[PW_NAME_MAX]; /* request :authority */
    char content_type[64];     /* request content-type */
    bool is_grpc;              /* request content-type starts with "application/grpc" */
    uint16_t http_status;      /* response :status, 0 when no response headers */
    int16_t grpc_status;       /* grpc-status of the trailers, -1 when none */
    char grpc_status_name[24]; /* "OK", "UNAVAILABLE", ... "" when none, "CODE_n" unknown */
    char grpc_message[PW_NAME_MAX]; /* grpc-message, percent-decoded (invalid UTF-8 -> '?') */
    bool trailers_only;        /* the status came in the single response HEADERS */
    bool response_data;        /* the server sent DATA on the stream */
    bool reset;                /* RST_STREAM ended it */
    uint32_t reset_code;       /* its HTTP/2 error code */
    char reset_name[24];
    int8_t reset_dir;          /* 0 client reset it, 1 server; -1 no reset */
    bool goaway;               /* a GOAWAY was seen on the connection before it ended */
    uint64_t request_frame;    /* frame completing the request header block, 0 if unseen */
    uint64_t response_frame;   /* frame completing the response header block, 0 if none */
    uint64_t trailer_frame;    /* frame completing the trailers (== response_frame for Trailers-Only) */
    pw_usec request_ts, end_ts;
} pw_ev_grpc;

/* ---- SQL Server Resolution Protocol (MS-SQLR), UDP 1434 ---- */
enum {
    PW_SSRP_BCAST_EX = 1,  /* CLNT_BCAST_EX (0x02): every instance, broadcast */
    PW_SSRP_UCAST_EX,      /* CLNT_UCAST_EX (0x03): every instance of one server */
    PW_SSRP_UCAST_INST,    /* CLNT_UCAST_INST (0x04): one named instance */
    PW_SSRP_UCAST_DAC,     /* CLNT_UCAST_DAC (0x0F): the dedicated admin connection port */
    PW_SSRP_RESPONSE,      /* SVR_RESP (0x05) with instance records */
    PW_SSRP_DAC_RESPONSE   /* SVR_RESP (0x05) answering CLNT_UCAST_DAC: dac_port */
};
/* Transports an instance record announces besides tcp/np (PW_SSRP_PROTO_* bits). */
enum {
    PW_SSRP_PROTO_TCP = 1, PW_SSRP_PROTO_NP = 2, PW_SSRP_PROTO_VIA = 4, PW_SSRP_PROTO_RPC = 8,
    PW_SSRP_PROTO_SPX = 16, PW_SSRP_PROTO_ADSP = 32, PW_SSRP_PROTO_BV = 64
};
#define PW_SSRP_MAX_INSTANCES 16
typedef struct pw_ssrp_instance {
    char server_name[64];   /* ServerName (NetBIOS name), printable ASCII, '?' otherwise */
    char instance[33];      /* InstanceName ("MSSQLSERVER" for the default instance) */
    char version[24];       /* Version ("15.0.2000.5") */
    bool is_clustered;      /* IsClustered;Yes */
    uint16_t tcp_port;      /* tcp;<port>, 0 when the instance announces no TCP port */
    char np[80];            /* np;<pipe>, "" when none */
    uint8_t protocols;      /* PW_SSRP_PROTO_* announced */
    bool truncated;         /* a value did not fit its field (cut) or was not a valid port */
} pw_ssrp_instance;
typedef struct pw_ev_ssrp {
    uint8_t kind;           /* PW_SSRP_* */
    uint8_t opcode;         /* first byte on the wire */
    char instance[33];      /* UCAST_INST / UCAST_DAC: the requested instance */
    uint8_t dac_version;    /* UCAST_DAC request / DAC response: protocol version (1) */
    uint16_t dac_port;      /* DAC_RESPONSE: the DAC's TCP port */
    uint16_t resp_size;     /* RESPONSE / DAC_RESPONSE: RESP_SIZE as sent */
    uint8_t n_instances;    /* RESPONSE: complete records held in instances[] */
    uint16_t more_instances;/* RESPONSE: complete records beyond PW_SSRP_MAX_INSTANCES (not held) */
    pw_ssrp_instance instances[PW_SSRP_MAX_INSTANCES]; /* last: see pw_event_size() */
} pw_ev_ssrp;

/* ---- TDS (MS-TDS) login phase ---- */
enum {
    PW_TDS_PRELOGIN = 1,    /* a PRELOGIN option list (dir 0 request, dir 1 the server's answer) */
    PW_TDS_LOGINACK,        /* LOGINACK token: the login succeeded */
    PW_TDS_ERROR,           /* ERROR token (18456: login failed) */
    PW_TDS_DONE,            /* DONE token ending the server's answer to the login */
    PW_TDS_ENCRYPTED        /* the TLS handshake inside PRELOGIN ended (or TDS 8.0 TLS first):
                             * the login is encrypted, its outcome cannot be read */
};
/* PRELOGIN ENCRYPTION option values. */
enum { PW_TDS_ENCRYPT_OFF = 0, PW_TDS_ENCRYPT_ON = 1, PW_TDS_ENCRYPT_NOT_SUP = 2, PW_TDS_ENCRYPT_REQ = 3 };
typedef struct pw_ev_tds {
    uint8_t kind;           /* PW_TDS_* */
    /* PRELOGIN (has_* says which options were present) */
    bool has_version, has_encryption, has_instance, has_thread_id, has_mars, has_trace_id,
        has_fedauth_required;
    uint32_t version;       /* UL_VERSION as on the wire (big-endian): 0x0f0007d0 = 15.0.2000 */
    uint16_t subbuild;      /* US_SUBBUILD */
    uint8_t encryption;     /* PW_TDS_ENCRYPT_* (raw value; bit 0x80 ENCRYPT_CLIENT_CERT kept) */
    char instance[33];      /* INSTOPT (client: the instance it wants; server: 0 = match) */
    uint32_t thread_id;
    uint8_t mars;
    uint8_t fedauth_required;
    /* LOGINACK */
    uint8_t interface;      /* 1 = SQL_TSQL */
    uint32_t tds_version;   /* as on the wire, big-endian: 0x74000004 = TDS 7.4 */
    char prog_name[64];     /* "Microsoft SQL Server" */
    uint8_t prog_version[4];/* major, minor, build high, build low */
    /* ERROR */
    uint32_t number;        /* 18456 = login failed */
    uint8_t state, severity;/* State, Class */
    char message[PW_NAME_MAX];
    char server_name[128];
    char proc_name[128];
    uint32_t line;
    /* DONE */
    uint16_t done_status;   /* 0x0002 DONE_ERROR, 0x0100 DONE_SRVERROR ... */
    bool tds5;              /* the token came from a TDS 5.0 (Sybase) login: single-byte strings */
} pw_ev_tds;

typedef struct pw_event {
    pw_event_type type;
    uint32_t source;  /* input index */
    uint64_t frame;   /* frame that completed the message */
    pw_usec ts;
    pw_flow flow;
    int dir;          /* 0 client->server, 1 server->client */
    union {
        char app[16];         /* PW_EV_APP: "netbios", "dns", "dcerpc", "smb", "ldap", "tds", "rdp", "tls", "http", "http2", "grpc", "sql_browser", "smtp", "imap", "pop3", "ftp" */
        char malformed[64];   /* PW_EV_MALFORMED: "dns: truncated answer", ... */
        pw_ev_nbns nbns;
        pw_ev_dns dns;
        pw_ev_dcerpc dcerpc;
        pw_ev_epm_port epm;
        pw_ev_ntlmssp ntlmssp;
        pw_ev_rdp rdp;
        pw_ev_tls tls;
        pw_ev_http http;
        pw_ev_http2 http2;
        pw_ev_grpc grpc;
        pw_ev_ssrp ssrp;
        pw_ev_tds tds;
    } u;
} pw_event;

/* Bytes at the start of an event of this type that hold all of it: the
 * header and the type's member of the union (what pw_event_init zeroes). */
size_t pw_event_type_size(pw_event_type type);
/* Bytes at the start of ev that hold what it says: as above, but a list
 * that ends its member (DNS answers, NBNS names, TLS subject alternative
 * names, SQL Browser instances) only as far as its count.  A copy of that
 * many bytes is read like the whole event (cli/handoff.c copies no more:
 * a DNS query is 400 bytes of an event's 3.7 KB). */
size_t pw_event_size(const pw_event *ev);

#endif
