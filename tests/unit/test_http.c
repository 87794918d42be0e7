/* test_http.c - HTTP request/response heads, proxy CONNECT and the TLS
 * handshake inside the tunnel, on bytes built here with certificates
 * generated for this test. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dissector.h"
#include "check.h"

/* Test certificates generated for portwitness with the openssl CLI (EC P-256):
 * ca_der:   self-signed "C=US, O=Contoso Test, CN=Contoso Test Root CA"
 * leaf_der: "O=Contoso, CN=dc01.contoso.local" issued by ca_der,
 *           SAN DNS:dc01.contoso.local, DNS:dc01, DNS:ldap.contoso.local
 * ss_der:   self-signed "CN=WS042.contoso.local", SAN DNS:WS042.contoso.local */
static const uint8_t ca_der[] = {
    0x30, 0x82, 0x01, 0xda, 0x30, 0x82, 0x01, 0x81, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x3c,
    0x86, 0x3a, 0x3f, 0x7f, 0xc5, 0x55, 0x13, 0xff, 0xa9, 0x50, 0x78, 0xdf, 0x9d, 0x11, 0x40, 0x2f,
    0xbe, 0x34, 0x2f, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x43, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x15,
    0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0c, 0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f,
    0x20, 0x54, 0x65, 0x73, 0x74, 0x31, 0x1d, 0x30, 0x1b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x14,
    0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x20, 0x54, 0x65, 0x73, 0x74, 0x20, 0x52, 0x6f, 0x6f,
    0x74, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x32, 0x30, 0x30,
    0x32, 0x30, 0x33, 0x37, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x31, 0x39, 0x30, 0x30, 0x32,
    0x30, 0x33, 0x37, 0x5a, 0x30, 0x43, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13,
    0x02, 0x55, 0x53, 0x31, 0x15, 0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0c, 0x43, 0x6f,
    0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x20, 0x54, 0x65, 0x73, 0x74, 0x31, 0x1d, 0x30, 0x1b, 0x06, 0x03,
    0x55, 0x04, 0x03, 0x0c, 0x14, 0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x20, 0x54, 0x65, 0x73,
    0x74, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    0x03, 0x42, 0x00, 0x04, 0x8e, 0xfe, 0x36, 0xc4, 0x46, 0x00, 0xc5, 0x0f, 0xd1, 0x73, 0x8b, 0x49,
    0x55, 0x36, 0x12, 0x07, 0x31, 0xbc, 0x55, 0xd3, 0x43, 0x96, 0x23, 0x18, 0xce, 0xdf, 0x18, 0xe9,
    0xd7, 0x6c, 0x7b, 0x46, 0x34, 0x3d, 0x73, 0x43, 0x1c, 0x2f, 0xb3, 0x92, 0x4f, 0xed, 0x59, 0x95,
    0xfa, 0x2a, 0xc0, 0x6a, 0xd9, 0x3e, 0x5d, 0xc3, 0xfc, 0xb3, 0xc4, 0xd6, 0x55, 0xfc, 0x50, 0xc9,
    0x62, 0x10, 0x49, 0x32, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04,
    0x16, 0x04, 0x14, 0x44, 0x9f, 0x44, 0x2b, 0x6a, 0x72, 0xf5, 0xd9, 0x37, 0x06, 0x58, 0xaf, 0xd1,
    0x0f, 0x71, 0xa5, 0xb9, 0xfe, 0x8c, 0x43, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18,
    0x30, 0x16, 0x80, 0x14, 0x44, 0x9f, 0x44, 0x2b, 0x6a, 0x72, 0xf5, 0xd9, 0x37, 0x06, 0x58, 0xaf,
    0xd1, 0x0f, 0x71, 0xa5, 0xb9, 0xfe, 0x8c, 0x43, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
    0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x5e, 0xb8, 0x85, 0x54,
    0x4e, 0x93, 0xf0, 0x27, 0xe2, 0xb2, 0x4f, 0xbe, 0x4f, 0x96, 0xb9, 0xad, 0x40, 0x91, 0xf6, 0x81,
    0x71, 0x36, 0x83, 0x46, 0xc2, 0x94, 0xdc, 0x81, 0x56, 0x3f, 0x17, 0x77, 0x02, 0x20, 0x06, 0x85,
    0x72, 0xf9, 0x39, 0x7b, 0xea, 0x7c, 0x7f, 0xb1, 0x62, 0x3e, 0xe5, 0x5a, 0x27, 0xa3, 0x13, 0x83,
    0x71, 0x78, 0x04, 0x30, 0x7d, 0xdf, 0x26, 0x87, 0x9d, 0x10, 0xfe, 0xcd, 0x97, 0x6d,
};
static const uint8_t leaf_der[] = {
    0x30, 0x82, 0x01, 0xee, 0x30, 0x82, 0x01, 0x95, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x73,
    0x0b, 0x02, 0xc9, 0x2e, 0xca, 0x0a, 0x28, 0x4c, 0xcc, 0x33, 0x95, 0x98, 0x55, 0xfe, 0xde, 0x12,
    0x46, 0x21, 0xe6, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x43, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31, 0x15,
    0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0c, 0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f,
    0x20, 0x54, 0x65, 0x73, 0x74, 0x31, 0x1d, 0x30, 0x1b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x14,
    0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x20, 0x54, 0x65, 0x73, 0x74, 0x20, 0x52, 0x6f, 0x6f,
    0x74, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x32, 0x30, 0x30,
    0x32, 0x30, 0x33, 0x37, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x31, 0x39, 0x30, 0x30, 0x32,
    0x30, 0x33, 0x37, 0x5a, 0x30, 0x2f, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c,
    0x07, 0x43, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x31, 0x1b, 0x30, 0x19, 0x06, 0x03, 0x55, 0x04,
    0x03, 0x0c, 0x12, 0x64, 0x63, 0x30, 0x31, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e,
    0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    0xb7, 0x69, 0x91, 0x50, 0x1b, 0xbd, 0x50, 0x88, 0xfe, 0x87, 0x12, 0x33, 0x11, 0xdc, 0xa8, 0x1c,
    0x35, 0x8f, 0xfc, 0x76, 0x58, 0x96, 0x3a, 0x0e, 0x3a, 0x51, 0x8e, 0xb3, 0x2b, 0x81, 0x5b, 0xf4,
    0x22, 0x1b, 0x49, 0xf3, 0x7c, 0x6e, 0xc3, 0xba, 0x7d, 0xf3, 0x69, 0x73, 0xd0, 0x79, 0xc6, 0xb8,
    0xce, 0x0e, 0xde, 0x59, 0x38, 0x3d, 0x74, 0xcf, 0x63, 0x7b, 0x82, 0x11, 0xaf, 0x1a, 0x9f, 0x9e,
    0xa3, 0x7b, 0x30, 0x79, 0x30, 0x37, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x30, 0x30, 0x2e, 0x82,
    0x12, 0x64, 0x63, 0x30, 0x31, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e, 0x6c, 0x6f,
    0x63, 0x61, 0x6c, 0x82, 0x04, 0x64, 0x63, 0x30, 0x31, 0x82, 0x12, 0x6c, 0x64, 0x61, 0x70, 0x2e,
    0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30, 0x1d, 0x06,
    0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x7c, 0x15, 0x64, 0x66, 0xf5, 0x63, 0xfa, 0xf2,
    0x38, 0x14, 0x3f, 0xfd, 0x98, 0x0f, 0x0d, 0xd0, 0x85, 0x5a, 0x53, 0x71, 0x30, 0x1f, 0x06, 0x03,
    0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x44, 0x9f, 0x44, 0x2b, 0x6a, 0x72, 0xf5,
    0xd9, 0x37, 0x06, 0x58, 0xaf, 0xd1, 0x0f, 0x71, 0xa5, 0xb9, 0xfe, 0x8c, 0x43, 0x30, 0x0a, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20,
    0x73, 0x46, 0xc5, 0x87, 0x9d, 0x5d, 0x93, 0x6b, 0xe9, 0xcf, 0xbc, 0x8a, 0x6e, 0x1e, 0x95, 0xd8,
    0xde, 0x73, 0x07, 0x52, 0x30, 0xfa, 0xb7, 0xec, 0xf8, 0xe0, 0x26, 0x16, 0xea, 0x91, 0xcf, 0x8e,
    0x02, 0x20, 0x0b, 0x6b, 0x61, 0x0b, 0xe3, 0x67, 0x7a, 0x96, 0xef, 0x19, 0x8b, 0x5b, 0x17, 0xa1,
    0x4b, 0xfa, 0x69, 0xae, 0x39, 0x24, 0xf9, 0xeb, 0xaf, 0x7e, 0x38, 0xc9, 0xc1, 0x88, 0xa3, 0x5b,
    0x54, 0xf6,
};
static const uint8_t ss_der[] = {
    0x30, 0x82, 0x01, 0xb1, 0x30, 0x82, 0x01, 0x57, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x37,
    0x5c, 0xcf, 0x86, 0xd8, 0xe4, 0xf4, 0x61, 0x42, 0xc9, 0x6f, 0x8e, 0xb5, 0xcc, 0xf6, 0x9e, 0x5a,
    0xa2, 0xa5, 0xc4, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x1e, 0x31, 0x1c, 0x30, 0x1a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x13, 0x57, 0x53, 0x30, 0x34,
    0x32, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30,
    0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x32, 0x30, 0x30, 0x32, 0x30, 0x33, 0x37, 0x5a,
    0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x31, 0x39, 0x30, 0x30, 0x32, 0x30, 0x33, 0x37, 0x5a, 0x30,
    0x1e, 0x31, 0x1c, 0x30, 0x1a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x13, 0x57, 0x53, 0x30, 0x34,
    0x32, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30,
    0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x21, 0xed, 0x75, 0xa4, 0xc0, 0x67,
    0xbc, 0x10, 0x96, 0x7b, 0xc5, 0x55, 0x00, 0xa7, 0x8d, 0x0f, 0x50, 0x32, 0x17, 0x0c, 0x9a, 0xb4,
    0x14, 0x63, 0x15, 0x8d, 0xf6, 0x11, 0x94, 0x5f, 0xe1, 0xa7, 0x72, 0x41, 0x14, 0x2f, 0x62, 0xe0,
    0xea, 0xe3, 0xd6, 0x40, 0xd3, 0xe5, 0x20, 0x70, 0x45, 0x9c, 0xad, 0xa7, 0x51, 0xad, 0x6c, 0xf8,
    0xc8, 0x6a, 0x2c, 0xa9, 0x94, 0xe7, 0xcb, 0x25, 0x0b, 0x5a, 0xa3, 0x73, 0x30, 0x71, 0x30, 0x1d,
    0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xe8, 0x6b, 0x1e, 0x77, 0xdb, 0x07, 0x00,
    0x3a, 0xe9, 0x4d, 0x98, 0xed, 0x28, 0xa3, 0xac, 0xa2, 0x50, 0x2d, 0x62, 0x54, 0x30, 0x1f, 0x06,
    0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xe8, 0x6b, 0x1e, 0x77, 0xdb, 0x07,
    0x00, 0x3a, 0xe9, 0x4d, 0x98, 0xed, 0x28, 0xa3, 0xac, 0xa2, 0x50, 0x2d, 0x62, 0x54, 0x30, 0x0f,
    0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30,
    0x1e, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x17, 0x30, 0x15, 0x82, 0x13, 0x57, 0x53, 0x30, 0x34,
    0x32, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x6f, 0x73, 0x6f, 0x2e, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30,
    0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00, 0x30, 0x45,
    0x02, 0x20, 0x2d, 0xf4, 0xe4, 0x69, 0xa7, 0x61, 0x5d, 0x4d, 0xaa, 0x2d, 0xab, 0xc6, 0xf9, 0xb1,
    0xd5, 0x96, 0x02, 0x5a, 0x80, 0xd2, 0x7a, 0xad, 0x31, 0x5a, 0xf6, 0x98, 0x12, 0x35, 0xca, 0xb7,
    0x26, 0x30, 0x02, 0x21, 0x00, 0xa9, 0x5f, 0xf1, 0x3f, 0xdf, 0x30, 0x97, 0xe3, 0xa1, 0xf4, 0x85,
    0x65, 0x14, 0xad, 0x4b, 0x96, 0x9c, 0x98, 0x07, 0x54, 0xce, 0x0b, 0xcc, 0x70, 0x47, 0xf5, 0x83,
    0xe6, 0xbc, 0x8e, 0x92, 0x58,
};

/* ---- byte builders ---- */
typedef struct buf {
    uint8_t b[80000];
    size_t n;
} buf;

static void put8(buf *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void put16(buf *b, unsigned v) { put8(b, v >> 8); put8(b, v); }
static void put24(buf *b, unsigned v) { put8(b, v >> 16); put16(b, v & 0xffff); }
static void putn(buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void puts_(buf *b, const char *s) { putn(b, s, strlen(s)); }
/* Length-prefixed blocks: open returns the mark, close patches the length. */
static size_t open_(buf *b, int width) { size_t m = b->n; b->n += (size_t)width; return m; }
static void close_(buf *b, size_t m, int width)
{
    size_t v = b->n - m - (size_t)width;
    for (int i = width - 1; i >= 0; i--, v >>= 8)
        b->b[m + (size_t)i] = (uint8_t)v;
}

/* Wraps a handshake byte string into TLS records of at most `frag` bytes. */
static void records(buf *out, uint8_t type, const uint8_t *p, size_t n, size_t frag)
{
    size_t off = 0;
    do {
        size_t k = n - off < frag ? n - off : frag;
        put8(out, type);
        put16(out, 0x0303);
        put16(out, (unsigned)k);
        putn(out, p + off, k);
        off += k;
    } while (off < n);
}

static void client_hello(buf *hs, const char *sni, const char *alpn, bool tls13)
{
    put8(hs, 1);
    size_t m = open_(hs, 3);
    put16(hs, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(hs, i);
    put8(hs, 32);
    for (int i = 0; i < 32; i++)
        put8(hs, 0xa0 + i);
    put16(hs, 6);
    put16(hs, 0x1301);
    put16(hs, 0xc02f);
    put16(hs, 0x009c);
    put8(hs, 1);
    put8(hs, 0);
    size_t ext = open_(hs, 2);
    put16(hs, 0x2a2a); /* GREASE extension */
    put16(hs, 0);
    if (sni) {
        put16(hs, 0);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, 0);
        put16(hs, (unsigned)strlen(sni));
        puts_(hs, sni);
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (alpn) {
        put16(hs, 16);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, (unsigned)strlen(alpn));
        puts_(hs, alpn);
        put8(hs, 8);
        puts_(hs, "http/1.1");
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (tls13) {
        put16(hs, 43);
        size_t e = open_(hs, 2);
        put8(hs, 6);
        put16(hs, 0x3a3a); /* GREASE version */
        put16(hs, 0x0304);
        put16(hs, 0x0303);
        close_(hs, e, 2);
    }
    close_(hs, ext, 2);
    close_(hs, m, 3);
}

static void server_hello(buf *hs, uint16_t cipher, const char *alpn, bool tls13)
{
    put8(hs, 2);
    size_t m = open_(hs, 3);
    put16(hs, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(hs, 0x40 + i);
    put8(hs, 0);
    put16(hs, cipher);
    put8(hs, 0);
    size_t ext = open_(hs, 2);
    if (alpn) {
        put16(hs, 16);
        size_t e = open_(hs, 2);
        size_t l = open_(hs, 2);
        put8(hs, (unsigned)strlen(alpn));
        puts_(hs, alpn);
        close_(hs, l, 2);
        close_(hs, e, 2);
    }
    if (tls13) {
        put16(hs, 43);
        put16(hs, 2);
        put16(hs, 0x0304);
    }
    close_(hs, ext, 2);
    close_(hs, m, 3);
}

static void certificate_msg(buf *hs, const uint8_t *c1, size_t n1, const uint8_t *c2, size_t n2)
{
    put8(hs, 11);
    size_t m = open_(hs, 3);
    size_t l = open_(hs, 3);
    put24(hs, (unsigned)n1);
    putn(hs, c1, n1);
    if (c2) {
        put24(hs, (unsigned)n2);
        putn(hs, c2, n2);
    }
    close_(hs, l, 3);
    close_(hs, m, 3);
}

static void server_hello_done(buf *hs)
{
    put8(hs, 14);
    put24(hs, 0);
}

/* ---- event sink ---- */
#define MAX_EVENTS 64
typedef struct sink {
    pw_event ev[MAX_EVENTS];
    int n;
    int malformed;
} sink;

static void on_event(void *arg, const pw_event *ev)
{
    sink *s = arg;
    if (ev->type == PW_EV_MALFORMED)
        s->malformed++;
    if (s->n < MAX_EVENTS)
        s->ev[s->n++] = *ev;
}

/* Finds the i-th event of a type (and TLS/HTTP/RDP kind when kind != 0). */
static const pw_event *find(const sink *s, pw_event_type type, int kind, int nth)
{
    for (int i = 0; i < s->n; i++) {
        const pw_event *e = &s->ev[i];
        if (e->type != type)
            continue;
        if (kind && type == PW_EV_TLS && e->u.tls.kind != kind)
            continue;
        if (kind && type == PW_EV_HTTP && e->u.http.kind != kind)
            continue;
        if (kind && type == PW_EV_RDP && e->u.rdp.kind != kind)
            continue;
        if (nth-- == 0)
            return e;
    }
    return NULL;
}

static int count(const sink *s, pw_event_type type)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->ev[i].type == type;
    return n;
}

/* ---- a stand-in for capture: keeps unconsumed bytes per direction ---- */
typedef struct feeder {
    const pw_dissector *d;
    void *state;
    pw_flow flow;
    sink sink;
    uint8_t pend[2][140000];
    size_t plen[2];
    bool done;
    uint64_t frame;
} feeder;

static feeder *feeder_new(const pw_dissector *d, uint16_t server_port)
{
    feeder *f = calloc(1, sizeof *f);
    f->d = d;
    f->state = calloc(1, d->state_size);
    if (d->stream_init)
        d->stream_init(f->state);
    f->flow.proto = 6;
    uint8_t a[4] = {10, 0, 0, 5}, b[4] = {10, 0, 0, 1};
    pw_addr_v4(&f->flow.client, a);
    pw_addr_v4(&f->flow.server, b);
    f->flow.client_port = 50000;
    f->flow.server_port = server_port;
    return f;
}

static void feed(feeder *f, int dir, const uint8_t *p, size_t n)
{
    if (f->done)
        return;
    memcpy(f->pend[dir] + f->plen[dir], p, n);
    f->plen[dir] += n;
    pw_dctx ctx = {.flow = &f->flow, .dir = dir, .frame = ++f->frame, .emit = on_event, .emit_arg = &f->sink};
    size_t used = f->d->stream(&ctx, f->state, f->pend[dir], f->plen[dir], &f->done);
    if (used > f->plen[dir]) {
        fprintf(stderr, "consumed %zu of %zu\n", used, f->plen[dir]);
        abort();
    }
    memmove(f->pend[dir], f->pend[dir] + used, f->plen[dir] - used);
    f->plen[dir] -= used;
}

/* Feeds in chunks of `step` bytes. */
static void feed_steps(feeder *f, int dir, const uint8_t *p, size_t n, size_t step)
{
    for (size_t off = 0; off < n; off += step)
        feed(f, dir, p + off, n - off < step ? n - off : step);
}

static void feeder_free(feeder *f)
{
    if (f->d->stream_free)
        f->d->stream_free(f->state);
    free(f->state);
    free(f);
}

static const char connect_req[] =
    "CONNECT contoso-corpsensorapi.atp.azure.com:443 HTTP/1.1\r\n"
    "Host: contoso-corpsensorapi.atp.azure.com:443\r\n"
    "User-Agent: Azure Advanced Threat Protection Sensor\r\n"
    "Proxy-Connection: Keep-Alive\r\n\r\n";

static void test_connect_tunnel(void)
{
    static buf ch, chr, srv, hs;
    ch.n = chr.n = srv.n = hs.n = 0;
    client_hello(&ch, "contoso-corpsensorapi.atp.azure.com", "http/1.1", true);
    records(&chr, 22, ch.b, ch.n, 16384);
    puts_(&srv, "HTTP/1.1 200 Connection established\r\n\r\n");
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    server_hello_done(&hs);
    records(&srv, 22, hs.b, hs.n, 16384);

    feeder *f = feeder_new(&pw_dissector_http, 3128);
    /* the request head arrives in two pieces */
    feed(f, 0, (const uint8_t *)connect_req, 40);
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, (const uint8_t *)connect_req + 40, sizeof connect_req - 1 - 40);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "CONNECT");
        CHECK_STR(e->u.http.host, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.http.port, 443);
        CHECK_INT(e->dir, 0);
    }
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "http");
    /* 200 and the ServerHello may share a segment; the client's hello is first */
    feed_steps(f, 0, chr.b, chr.n, 64);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.sni, "contoso-corpsensorapi.atp.azure.com");
        CHECK_INT(e->u.tls.version, 0x0304);
        CHECK_INT(e->flow.server_port, 3128);
    }
    feed_steps(f, 1, srv.b, srv.n, 200);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 200);
        CHECK_STR(e->u.http.reason, "Connection established");
        CHECK_INT(e->dir, 1);
    }
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
        CHECK_STR(e->u.tls.issuer_cn, "Contoso Test Root CA");
        CHECK_INT(e->u.tls.chain_len, 2);
    }
    CHECK_INT(count(&f->sink, PW_EV_APP), 1);
    CHECK_INT(f->sink.malformed, 0);
    CHECK(f->done);
    feeder_free(f);
}

static void test_connect_denied(void)
{
    /* 407 with a body, then a retry with credentials answered 403 */
    static const char r407[] =
        "HTTP/1.1 407 Proxy Authentication Required\r\n"
        "Proxy-Authenticate: Negotiate\r\nContent-Length: 5\r\n\r\nhello";
    static const char r403[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, (const uint8_t *)connect_req, sizeof connect_req - 1);
    feed(f, 1, (const uint8_t *)r407, 50);
    feed(f, 1, (const uint8_t *)r407 + 50, sizeof r407 - 1 - 50);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 407);
        CHECK_STR(e->u.http.reason, "Proxy Authentication Required");
    }
    CHECK(!f->done);
    feed(f, 0, (const uint8_t *)connect_req, sizeof connect_req - 1);
    CHECK(find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 1) != NULL);
    feed(f, 1, (const uint8_t *)r403, sizeof r403 - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 403);
        CHECK_STR(e->u.http.reason, "Forbidden");
    }
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a bracketed IPv6 authority */
    static const char v6[] = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 3128);
    feed(f, 0, (const uint8_t *)v6, sizeof v6 - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.host, "2001:db8::1");
        CHECK_INT(e->u.http.port, 8443);
    }
    feeder_free(f);
}

static void test_get(void)
{
    static const char get[] = "GET /index.html HTTP/1.1\r\nhost:  www.contoso.com:8000 \r\nAccept: */*\r\n\r\n";
    static const char ok[] = "HTTP/1.0 301 Moved Permanently\r\nLocation: /x\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8000);
    feed_steps(f, 0, (const uint8_t *)get, sizeof get - 1, 5);
    const pw_event *e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "GET");
        CHECK_STR(e->u.http.host, "www.contoso.com");
        CHECK_INT(e->u.http.port, 8000);
    }
    CHECK(!f->done);
    feed(f, 1, (const uint8_t *)ok, sizeof ok - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_RESPONSE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.http.status, 301);
        CHECK_STR(e->u.http.reason, "Moved Permanently");
    }
    CHECK(f->done);
    feeder_free(f);

    /* a proxy GET with an absolute URI and no Host header */
    static const char abs[] = "GET http://crl.microsoft.com/pki/crl.crl HTTP/1.1\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 3128);
    feed(f, 0, (const uint8_t *)abs, sizeof abs - 1);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.host, "crl.microsoft.com");
        CHECK_INT(e->u.http.port, 80);
    }
    feeder_free(f);

    CHECK(pw_dissector_http.probe((const uint8_t *)"CONNECT a:443 HTTP/1.1\r\n", 24));
    CHECK(pw_dissector_http.probe((const uint8_t *)get, sizeof get - 1));
    CHECK(!pw_dissector_http.probe((const uint8_t *)"GETX / HTTP/1.1", 15));
    CHECK(!pw_dissector_http.probe((const uint8_t *)"\x16\x03\x01", 3));
    CHECK(pw_dissector_for_port(6, 3128) == &pw_dissector_http);
}

static void test_http_malformed(void)
{
    /* not HTTP */
    static const uint8_t junk[] = "SSH-2.0-OpenSSH_9.6\r\n";
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, junk, sizeof junk - 1);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    feeder_free(f);

    /* a head that never ends gives up after 8 KiB */
    static buf big;
    big.n = 0;
    puts_(&big, "GET / HTTP/1.1\r\n");
    while (big.n < 9000)
        puts_(&big, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    f = feeder_new(&pw_dissector_http, 8080);
    feed_steps(f, 0, big.b, big.n, 1000);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    CHECK(find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0) == NULL);
    feeder_free(f);

    /* a bad status line */
    static const char bad[] = "HTTP/1.1 2x0 OK\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 1, (const uint8_t *)bad, sizeof bad - 1);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);

    /* every prefix and every corruption of a tunnel exchange */
    static buf c2s, s2c, hs;
    c2s.n = s2c.n = hs.n = 0;
    puts_(&c2s, connect_req);
    client_hello(&hs, "contoso-corpsensorapi.atp.azure.com", NULL, true);
    records(&c2s, 22, hs.b, hs.n, 16384);
    hs.n = 0;
    puts_(&s2c, "HTTP/1.1 200 OK\r\n\r\n");
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, ss_der, sizeof ss_der, NULL, 0);
    server_hello_done(&hs);
    records(&s2c, 22, hs.b, hs.n, 16384);
    int snis = 0;
    for (size_t cut = 0; cut <= c2s.n; cut++) {
        f = feeder_new(&pw_dissector_http, 3128);
        feed(f, 0, c2s.b, cut);
        feed(f, 1, s2c.b, cut < s2c.n ? cut : s2c.n);
        snis += find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) != NULL;
        feeder_free(f);
    }
    CHECK_INT(snis, 1);
    static buf mut;
    for (size_t i = 0; i < c2s.n; i++) {
        mut = c2s;
        mut.b[i] ^= 0x21;
        f = feeder_new(&pw_dissector_http, 3128);
        feed_steps(f, 0, mut.b, mut.n, 77);
        feed_steps(f, 1, s2c.b, s2c.n, 77);
        feeder_free(f);
    }
    for (size_t i = 0; i < s2c.n; i++) {
        mut = s2c;
        mut.b[i] ^= 0x21;
        f = feeder_new(&pw_dissector_http, 3128);
        feed(f, 0, c2s.b, c2s.n);
        feed_steps(f, 1, mut.b, mut.n, 77);
        feeder_free(f);
    }
    CHECK(1);
}

static void test_bare_tls_and_probe(void)
{
    /* TLS spoken directly on an HTTP port */
    static buf ch, srv, hs;
    ch.n = srv.n = hs.n = 0;
    client_hello(&hs, "portal.contoso.com", NULL, false);
    records(&ch, 22, hs.b, hs.n, 16384);
    hs.n = 0;
    server_hello(&hs, 0xc02f, NULL, false);
    certificate_msg(&hs, ss_der, sizeof ss_der, NULL, 0);
    server_hello_done(&hs);
    records(&srv, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_http, 8080);
    feed(f, 0, ch.b, 4); /* too short to tell: waits */
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, ch.b + 4, ch.n - 4);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->u.tls.sni, "portal.contoso.com");
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "tls");
    feed(f, 1, srv.b, srv.n);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->u.tls.subject_cn, "WS042.contoso.local");
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* SIP shares method names: the probe wants an HTTP version */
    static const char sip[] = "OPTIONS sip:probe@edge.test SIP/2.0\r\nVia: x\r\n";
    CHECK(!pw_dissector_http.probe((const uint8_t *)sip, sizeof sip - 1));
    static const char opt[] = "OPTIONS * HTTP/1.1\r\n";
    CHECK(pw_dissector_http.probe((const uint8_t *)opt, sizeof opt - 1));

    /* RPC over HTTP methods carry an underscore */
    static const char rpc[] = "RPC_IN_DATA /rpc/rpcproxy.dll?mail.contoso.com:6001 HTTP/1.1\r\n"
                              "Host: mail.contoso.com\r\n\r\n";
    f = feeder_new(&pw_dissector_http, 80);
    feed_steps(f, 0, (const uint8_t *)rpc, sizeof rpc - 1, 16);
    e = find(&f->sink, PW_EV_HTTP, PW_HTTP_REQUEST, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.http.method, "RPC_IN_DATA");
        CHECK_STR(e->u.http.host, "mail.contoso.com");
    }
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

/* ---- NTLM / Negotiate HTTP authentication ---- */
static void le16(buf *b, unsigned v) { put8(b, v & 0xff); put8(b, (v >> 8) & 0xff); }
static void le32(buf *b, uint32_t v) { le16(b, v & 0xffff); le16(b, v >> 16); }
static void setle16(buf *b, size_t at, unsigned v) { b->b[at] = (uint8_t)v; b->b[at + 1] = (uint8_t)(v >> 8); }
static void setle32(buf *b, size_t at, uint32_t v) { setle16(b, at, v & 0xffff); setle16(b, at + 2, v >> 16); }
static size_t utf16(buf *b, const char *s)
{
    size_t start = b->n;
    for (; *s; s++)
        le16(b, (uint8_t)*s);
    return b->n - start;
}
static void secbuf(buf *b, size_t at, size_t len, size_t off)
{
    setle16(b, at, (unsigned)len), setle16(b, at + 2, (unsigned)len), setle32(b, at + 4, (uint32_t)off);
}
static void ntlm_negotiate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 1), le32(b, 0xa2088207);
    for (int i = 0; i < 16; i++)
        put8(b, 0);
}
static void ntlm_challenge(buf *b, const char *nb, const char *dns)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 2);
    for (int i = 0; i < 8; i++)
        put8(b, 0);
    le32(b, 0xa2898205);
    for (int i = 0; i < 32; i++)
        put8(b, (uint8_t)i);
    size_t o = b->n;
    secbuf(b, 12, utf16(b, "WEB"), o);
    size_t tio = b->n;
    struct { unsigned id; const char *v; } av[] = {{2, "WEB"}, {1, nb}, {4, "web.example"}, {3, dns}};
    for (size_t i = 0; i < 4; i++) {
        le16(b, av[i].id);
        size_t at = b->n;
        le16(b, 0);
        setle16(b, at, (unsigned)utf16(b, av[i].v));
    }
    le32(b, 0);
    secbuf(b, 40, b->n - tio, tio);
}
/* AUTHENTICATE with a long NTLMv2 response, so its header line is long. */
static void ntlm_authenticate(buf *b)
{
    b->n = 0;
    putn(b, "NTLMSSP\0", 8), le32(b, 3);
    for (int i = 0; i < 48; i++)
        put8(b, 0);
    le32(b, 0xa2888205);
    size_t o = b->n;
    secbuf(b, 28, utf16(b, "WEB"), o);
    o = b->n;
    secbuf(b, 36, utf16(b, "carol"), o);
    o = b->n;
    secbuf(b, 44, utf16(b, "LAPTOP5"), o);
    o = b->n;
    for (int i = 0; i < 900; i++)
        put8(b, (uint8_t)(i * 7));
    secbuf(b, 20, 900, o);
    secbuf(b, 12, 0, b->n), secbuf(b, 52, 0, b->n);
}
/* SPNEGO negTokenResp around a token (short-form lengths). */
static void spnego_resp(buf *out, const buf *tok)
{
    out->n = 0;
    size_t L = tok->n;
    put8(out, 0xa1), put8(out, 0x81), put8(out, (uint8_t)(L + 20 + 3 + 3 + 3));
    put8(out, 0x30), put8(out, 0x81), put8(out, (uint8_t)(L + 20 + 3));
    putn(out, "\xa0\x03\x0a\x01\x01", 5);
    putn(out, "\xa1\x0c\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 14);
    put8(out, 0xa2), put8(out, 0x81), put8(out, (uint8_t)(L + 3));
    put8(out, 0x04), put8(out, 0x81), put8(out, (uint8_t)L);
    putn(out, tok->b, tok->n);
}
static void b64(buf *out, const buf *in, bool pad)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < in->n; i += 3) {
        uint32_t v = (uint32_t)in->b[i] << 16 | (uint32_t)in->b[i + 1] << 8 | in->b[i + 2];
        for (int k = 3; k >= 0; k--)
            put8(out, (uint8_t)tab[(v >> (6 * k)) & 63]);
    }
    if (in->n - i == 1) {
        uint32_t v = (uint32_t)in->b[i] << 16;
        put8(out, (uint8_t)tab[v >> 18]), put8(out, (uint8_t)tab[(v >> 12) & 63]);
        if (pad)
            puts_(out, "==");
    } else if (in->n - i == 2) {
        uint32_t v = (uint32_t)in->b[i] << 16 | (uint32_t)in->b[i + 1] << 8;
        put8(out, (uint8_t)tab[v >> 18]), put8(out, (uint8_t)tab[(v >> 12) & 63]);
        put8(out, (uint8_t)tab[(v >> 6) & 63]);
        if (pad)
            puts_(out, "=");
    }
}
/* "<name>: <scheme> <base64 token>\r\n" */
static void auth_line(buf *out, const char *name, const char *scheme, const buf *tok)
{
    puts_(out, name);
    puts_(out, ": ");
    puts_(out, scheme);
    if (tok) {
        puts_(out, " ");
        b64(out, tok, tok->n % 3 != 1);
    }
    puts_(out, "\r\n");
}
static const pw_event *nth_ntlm(const sink *s, int k)
{
    return find(s, PW_EV_NTLMSSP, 0, k);
}

static void test_http_ntlm(void)
{
    static buf req, resp, tok, sp;
    /* NEGOTIATE -> 401 with CHALLENGE -> AUTHENTICATE -> 200 */
    feeder *f = feeder_new(&pw_dissector_http, 80);
    req.n = 0;
    puts_(&req, "GET /sites/hr HTTP/1.1\r\nHost: intranet.web.example\r\nConnection: Keep-Alive\r\n");
    ntlm_negotiate(&tok);
    auth_line(&req, "Authorization", "NTLM", &tok);
    puts_(&req, "\r\n");
    feed(f, 0, req.b, req.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    const pw_event *e = nth_ntlm(&f->sink, 0);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 1);
        CHECK_INT(e->dir, 0);
    }
    /* the app and the request event come first */
    CHECK_INT(f->sink.ev[0].type, PW_EV_APP);
    CHECK_INT(f->sink.ev[1].type, PW_EV_HTTP);
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-IIS/10.0\r\n");
    ntlm_challenge(&tok, "WEB01", "web01.web.example");
    auth_line(&resp, "WWW-Authenticate", "NTLM", &tok);
    puts_(&resp, "Content-Length: 10\r\n\r\n0123456789");
    feed_steps(f, 1, resp.b, resp.n, 33);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 2);
    e = nth_ntlm(&f->sink, 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 2);
        CHECK_STR(e->u.ntlmssp.nb_computer, "WEB01");
        CHECK_STR(e->u.ntlmssp.dns_computer, "web01.web.example");
        CHECK_STR(e->u.ntlmssp.nb_domain, "WEB");
        CHECK_INT(e->dir, 1);
    }
    CHECK(!f->done);
    req.n = 0;
    puts_(&req, "GET /sites/hr HTTP/1.1\r\nHost: intranet.web.example\r\n");
    ntlm_authenticate(&tok);
    auth_line(&req, "Authorization", "NTLM", &tok);
    CHECK(req.n > 1300); /* longer than a header line buffer */
    puts_(&req, "\r\n");
    feed_steps(f, 0, req.b, req.n, 100);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 3);
    e = nth_ntlm(&f->sink, 2);
    if (e) {
        CHECK_INT(e->u.ntlmssp.msg_type, 3);
        CHECK_STR(e->u.ntlmssp.user, "carol");
        CHECK_STR(e->u.ntlmssp.workstation, "LAPTOP5");
    }
    CHECK(!f->done);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    feed(f, 1, (const uint8_t *)ok, sizeof ok - 1);
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_HTTP), 4);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a first 401 offering Negotiate and NTLM without tokens, then a
     * Negotiate exchange whose CHALLENGE is wrapped in SPNEGO */
    f = feeder_new(&pw_dissector_http, 80);
    static const char get[] = "GET / HTTP/1.1\r\nHost: portal\r\n\r\n";
    static const char r401[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n"
                               "WWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n";
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    feed(f, 1, (const uint8_t *)r401, sizeof r401 - 1);
    CHECK(!f->done);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 0);
    req.n = 0;
    puts_(&req, "GET / HTTP/1.1\r\nHost: portal\r\n");
    ntlm_negotiate(&tok);
    auth_line(&req, "authorization", "Negotiate", &tok);
    puts_(&req, "\r\n");
    feed(f, 0, req.b, req.n);
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\n");
    ntlm_challenge(&tok, "PORTAL", "portal.web.example");
    spnego_resp(&sp, &tok);
    auth_line(&resp, "WWW-Authenticate", "Negotiate", &sp);
    puts_(&resp, "Content-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 2);
    e = nth_ntlm(&f->sink, 1);
    if (e)
        CHECK_STR(e->u.ntlmssp.nb_computer, "PORTAL");
    CHECK(!f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a proxy: 407 with a Proxy-Authenticate list "Negotiate, NTLM <token>" */
    f = feeder_new(&pw_dissector_http, 8080);
    static const char pget[] = "GET http://www.contoso.com/ HTTP/1.1\r\nHost: www.contoso.com\r\n\r\n";
    feed(f, 0, (const uint8_t *)pget, sizeof pget - 1);
    ntlm_challenge(&tok, "PROXY1", "proxy1.web.example");
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"a, NTLM b\", Negotiate, NTLM ");
    b64(&resp, &tok, true);
    puts_(&resp, "\r\nContent-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    e = nth_ntlm(&f->sink, 0);
    if (e)
        CHECK_STR(e->u.ntlmssp.dns_computer, "proxy1.web.example");
    CHECK(!f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* unpadded base64 also decodes */
    f = feeder_new(&pw_dissector_http, 80);
    ntlm_challenge(&tok, "WEB02", "web02.web.example");
    tok.b[tok.n++] = 0; /* make the length not a multiple of 3 */
    if (tok.n % 3 == 0)
        tok.b[tok.n++] = 0;
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM ");
    b64(&resp, &tok, false);
    puts_(&resp, "\r\nContent-Length: 0\r\n\r\n");
    feed(f, 1, resp.b, resp.n);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 1);
    e = nth_ntlm(&f->sink, 0);
    if (e)
        CHECK_STR(e->u.ntlmssp.nb_computer, "WEB02");
    feeder_free(f);

    /* bad base64: malformed, no NTLMSSP; Basic only: plain HTTP, done */
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char bad[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM TlRMTVNT=UAAC\r\n"
                              "Content-Length: 0\r\n\r\n";
    feed(f, 1, (const uint8_t *)bad, sizeof bad - 1);
    CHECK_INT(count(&f->sink, PW_EV_NTLMSSP), 0);
    CHECK_INT(f->sink.malformed, 1);
    feeder_free(f);
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char basic[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
                                "Content-Length: 0\r\n\r\n";
    feed(f, 1, (const uint8_t *)basic, sizeof basic - 1);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* a challenge without a Content-Length: its body runs to the close */
    f = feeder_new(&pw_dissector_http, 80);
    feed(f, 0, (const uint8_t *)get, sizeof get - 1);
    static const char nolen[] = "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n\r\n<html>denied</html>";
    feed(f, 1, (const uint8_t *)nolen, sizeof nolen - 1);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* the auth loop is bounded */
    f = feeder_new(&pw_dissector_http, 80);
    for (int i = 0; i < 20 && !f->done; i++) {
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed(f, 1, (const uint8_t *)r401, sizeof r401 - 1);
    }
    CHECK(f->done);
    feeder_free(f);

    /* every prefix and every corruption of the challenge response */
    static buf mut;
    resp.n = 0;
    puts_(&resp, "HTTP/1.1 401 Unauthorized\r\n");
    ntlm_challenge(&tok, "WEB01", "web01.web.example");
    auth_line(&resp, "WWW-Authenticate", "NTLM", &tok);
    puts_(&resp, "Content-Length: 3\r\n\r\nabc");
    int challenges = 0;
    for (size_t cut = 0; cut <= resp.n; cut++) {
        f = feeder_new(&pw_dissector_http, 80);
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed(f, 1, resp.b, cut);
        challenges += count(&f->sink, PW_EV_NTLMSSP);
        feeder_free(f);
    }
    CHECK_INT(challenges, 4); /* once the head is complete: "abc" trails it */
    for (size_t i = 0; i < resp.n; i++) {
        mut = resp;
        mut.b[i] ^= 0x20;
        f = feeder_new(&pw_dissector_http, 80);
        feed(f, 0, (const uint8_t *)get, sizeof get - 1);
        feed_steps(f, 1, mut.b, mut.n, 9);
        feeder_free(f);
    }
    CHECK(1);
}

int main(void)
{
    test_bare_tls_and_probe();
    test_connect_tunnel();
    test_connect_denied();
    test_get();
    test_http_malformed();
    test_http_ntlm();
    CHECK_DONE();
}
