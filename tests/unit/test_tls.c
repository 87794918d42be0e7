/* test_tls.c - the TLS first-flight dissector on bytes built here, with
 * certificates generated for this test (see below). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/cert_cache.h"
#include "../../dissectors/dissector.h"
#include "../../dissectors/tls.h"
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
    pw_dissect_cache *cache; /* NULL unless a test sets it */
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
    pw_dctx ctx = {.flow = &f->flow, .dir = dir, .frame = ++f->frame, .ts = 0,
                   .emit = on_event, .emit_arg = &f->sink, .cache = f->cache};
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

static void test_client_hello_split(void)
{
    static buf hs, rec;
    hs.n = rec.n = 0;
    client_hello(&hs, "contoso-corpsensorapi.atp.azure.com", "h2", true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    /* Three stream() calls: inside the record header, inside the SNI, the rest. */
    feed(f, 0, rec.b, 3);
    CHECK_INT(f->sink.n, 0);
    CHECK_INT(f->plen[0], 3);
    feed(f, 0, rec.b + 3, 60);
    CHECK_INT(f->sink.n, 0);
    feed(f, 0, rec.b + 63, rec.n - 63);
    CHECK_INT(f->plen[0], 0);
    CHECK(!f->done);
    const pw_event *app = find(&f->sink, PW_EV_APP, 0, 0);
    CHECK(app != NULL);
    if (app)
        CHECK_STR(app->u.app, "tls");
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.version, 0x0304);
        CHECK_STR(e->u.tls.sni, "contoso-corpsensorapi.atp.azure.com");
        CHECK_STR(e->u.tls.alpn, "h2");
        CHECK_INT(e->dir, 0);
        CHECK_INT(e->frame, 3);
    }
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);

    /* Without supported_versions the legacy version is the highest offered. */
    hs.n = rec.n = 0;
    client_hello(&hs, NULL, NULL, false);
    records(&rec, 22, hs.b, hs.n, 16384);
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 0, rec.b, rec.n);
    e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.version, 0x0303);
        CHECK_STR(e->u.tls.sni, "");
        CHECK_STR(e->u.tls.alpn, "");
    }
    feeder_free(f);
}

/* ServerHello (TLS 1.2) + Certificate split over two records + ServerHelloDone. */
static size_t server_flight_12(buf *rec, const uint8_t *c1, size_t n1, const uint8_t *c2, size_t n2)
{
    static buf hs;
    hs.n = 0;
    server_hello(&hs, 0xc02f, "http/1.1", false);
    size_t cert_start = hs.n;
    certificate_msg(&hs, c1, n1, c2, n2);
    size_t cert_end = hs.n;
    server_hello_done(&hs);
    rec->n = 0;
    records(rec, 22, hs.b, cert_start, 16384);
    /* The Certificate message spans two records; the second also holds ServerHelloDone. */
    size_t half = (cert_end - cert_start) / 2;
    records(rec, 22, hs.b + cert_start, half, 16384);
    records(rec, 22, hs.b + cert_start + half, hs.n - cert_start - half, 16384);
    return hs.n;
}

static void check_leaf(const pw_event *e)
{
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_INT(e->dir, 1);
    CHECK_STR(e->u.tls.subject_cn, "dc01.contoso.local");
    CHECK_STR(e->u.tls.subject, "CN=dc01.contoso.local,O=Contoso");
    CHECK_STR(e->u.tls.issuer, "CN=Contoso Test Root CA,O=Contoso Test,C=US");
    CHECK_STR(e->u.tls.issuer_cn, "Contoso Test Root CA");
    CHECK(!e->u.tls.self_signed);
    CHECK_INT(e->u.tls.n_san, 3);
    CHECK_STR(e->u.tls.san[0], "dc01.contoso.local");
    CHECK_STR(e->u.tls.san[1], "dc01");
    CHECK_STR(e->u.tls.san[2], "ldap.contoso.local");
    CHECK_INT(e->u.tls.chain_len, 2);
    CHECK_INT(e->u.tls.version, 0x0303);
}

static void test_server_tls12(void)
{
    static buf ch, chr, rec;
    ch.n = chr.n = 0;
    client_hello(&ch, "dc01.contoso.local", NULL, false);
    records(&chr, 22, ch.b, ch.n, 16384);
    server_flight_12(&rec, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);

    feeder *f = feeder_new(&pw_dissector_tls, 636);
    feed(f, 0, chr.b, chr.n);
    /* Segments of 100 bytes: records and the certificate cross them. */
    feed_steps(f, 1, rec.b, rec.n, 100);
    const pw_event *sh = find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0);
    CHECK(sh != NULL);
    if (sh) {
        CHECK_INT(sh->u.tls.version, 0x0303);
        CHECK_INT(sh->u.tls.cipher, 0xc02f);
        CHECK_STR(sh->u.tls.alpn, "http/1.1");
    }
    check_leaf(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0));
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0) == NULL);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    CHECK_INT(count(&f->sink, PW_EV_APP), 1);
    feeder_free(f);

    /* The same flight one byte at a time gives the same certificate. */
    f = feeder_new(&pw_dissector_tls, 636);
    feed_steps(f, 0, chr.b, chr.n, 1);
    feed_steps(f, 1, rec.b, rec.n, 1);
    check_leaf(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0));
    CHECK(f->done);
    feeder_free(f);

    /* A self-signed certificate. */
    server_flight_12(&rec, ss_der, sizeof ss_der, NULL, 0);
    f = feeder_new(&pw_dissector_tls, 3389);
    feed(f, 1, rec.b, rec.n);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->u.tls.subject_cn, "WS042.contoso.local");
        CHECK_STR(e->u.tls.issuer_cn, "WS042.contoso.local");
        CHECK(e->u.tls.self_signed);
        CHECK_INT(e->u.tls.n_san, 1);
        CHECK_STR(e->u.tls.san[0], "WS042.contoso.local");
        CHECK_INT(e->u.tls.chain_len, 1);
    }
    CHECK(f->done);
    feeder_free(f);
}

static void test_server_tls13(void)
{
    static buf hs, rec;
    hs.n = rec.n = 0;
    server_hello(&hs, 0x1301, NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    /* middlebox-compat CCS and an encrypted flight follow */
    put8(&rec, 20); put16(&rec, 0x0303); put16(&rec, 1); put8(&rec, 1);
    put8(&rec, 23); put16(&rec, 0x0303); put16(&rec, 4); put16(&rec, 0xdead); put16(&rec, 0xbeef);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, rec.b, rec.n);
    const pw_event *sh = find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0);
    CHECK(sh != NULL);
    if (sh) {
        CHECK_INT(sh->u.tls.version, 0x0304);
        CHECK_INT(sh->u.tls.cipher, 0x1301);
    }
    const pw_event *h = find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0);
    CHECK(h != NULL);
    if (h)
        CHECK_INT(h->u.tls.version, 0x0304);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) == NULL);
    CHECK(f->done);
    CHECK_INT(f->sink.malformed, 0);
    feeder_free(f);
}

static void test_hello_retry(void)
{
    static const uint8_t hrr[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    };
    static buf hs, rec;
    hs.n = rec.n = 0;
    server_hello(&hs, 0x1301, NULL, true);
    memcpy(hs.b + 6, hrr, 32);
    records(&rec, 22, hs.b, hs.n, 16384);
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, rec.b, rec.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0) == NULL);
    CHECK(!f->done);
    /* the client answers with CCS + a second ClientHello */
    rec.n = hs.n = 0;
    put8(&rec, 20); put16(&rec, 0x0303); put16(&rec, 1); put8(&rec, 1);
    client_hello(&hs, "again.example", NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feed(f, 0, rec.b, rec.n);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->u.tls.sni, "again.example");
    rec.n = hs.n = 0;
    server_hello(&hs, 0x1302, NULL, true);
    records(&rec, 22, hs.b, hs.n, 16384);
    feed(f, 1, rec.b, rec.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_SERVER_HELLO, 0) != NULL);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERT_HIDDEN, 0) != NULL);
    CHECK(f->done);
    feeder_free(f);
}

static void test_alert(void)
{
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, alert, sizeof alert);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_ALERT, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->u.tls.alert_level, 2);
        CHECK_INT(e->u.tls.alert_desc, 40);
        CHECK_INT(e->dir, 1);
    }
    CHECK(f->done);
    feeder_free(f);

    /* An encrypted alert (length != 2) is not reported. */
    static const uint8_t enc[] = {21, 3, 3, 0, 4, 1, 2, 3, 4};
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, enc, sizeof enc);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_ALERT, 0) == NULL);
    feeder_free(f);
}

static void test_not_tls(void)
{
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    feeder *f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 0, junk, sizeof junk - 1);
    CHECK_INT(f->sink.malformed, 1);
    CHECK(f->done);
    CHECK_INT(count(&f->sink, PW_EV_TLS), 0);
    feeder_free(f);

    /* probe */
    static buf hs, rec;
    hs.n = rec.n = 0;
    client_hello(&hs, "x", NULL, false);
    records(&rec, 22, hs.b, hs.n, 16384);
    CHECK(pw_dissector_tls.probe(rec.b, rec.n));
    CHECK(!pw_dissector_tls.probe(junk, sizeof junk - 1));
    CHECK(pw_dissector_by_name("tls") == &pw_dissector_tls);
    CHECK(pw_dissector_for_port(6, 443) == &pw_dissector_tls);

    /* a bad certificate is malformed, not a crash */
    static buf bad;
    bad.n = 0;
    uint8_t garbage[64];
    memset(garbage, 0x30, sizeof garbage);
    server_flight_12(&bad, garbage, sizeof garbage, NULL, 0);
    f = feeder_new(&pw_dissector_tls, 443);
    feed(f, 1, bad.b, bad.n);
    CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) == NULL);
    CHECK(f->sink.malformed >= 1);
    feeder_free(f);
}

/* Every prefix of both flights, and every single-byte corruption: no crash. */
static void test_truncation(void)
{
    static buf ch, chr, rec;
    ch.n = chr.n = 0;
    client_hello(&ch, "dc01.contoso.local", "h2", true);
    records(&chr, 22, ch.b, ch.n, 16384);
    server_flight_12(&rec, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der);
    int certs = 0;
    for (size_t cut = 0; cut <= rec.n; cut++) {
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed(f, 0, chr.b, cut < chr.n ? cut : chr.n);
        feed(f, 1, rec.b, cut);
        certs += find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0) != NULL;
        feeder_free(f);
    }
    /* the certificate appears once the second Certificate record is whole */
    CHECK(certs > 0 && certs < (int)rec.n);
    /* a record whose handshake message claims more than it holds */
    static buf hs, r2;
    for (size_t cut = 0; cut < ch.n; cut++) {
        hs.n = r2.n = 0;
        putn(&hs, ch.b, cut);
        records(&r2, 22, hs.b, hs.n, 16384);
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed(f, 0, r2.b, r2.n);
        CHECK(find(&f->sink, PW_EV_TLS, PW_TLS_CLIENT_HELLO, 0) == NULL);
        feeder_free(f);
    }
    static buf mut;
    for (size_t i = 0; i < rec.n; i++) {
        mut = rec;
        mut.b[i] ^= 0xff;
        feeder *f = feeder_new(&pw_dissector_tls, 443);
        feed_steps(f, 1, mut.b, mut.n, 333);
        feeder_free(f);
    }
    CHECK(1);
}

/* One server flight through a new flow (client port `cport`) with `cache`;
 * returns the flow's CERTIFICATE event (copied to *out) or false. */
static bool cert_flow(pw_dissect_cache *cache, uint16_t cport, const uint8_t *c1, size_t n1,
                      const uint8_t *c2, size_t n2, pw_event *out, int *malformed)
{
    static buf rec;
    server_flight_12(&rec, c1, n1, c2, n2);
    feeder *f = feeder_new(&pw_dissector_tls, 636);
    f->cache = cache;
    f->flow.client_port = cport;
    feed_steps(f, 1, rec.b, rec.n, 700);
    const pw_event *e = find(&f->sink, PW_EV_TLS, PW_TLS_CERTIFICATE, 0);
    if (e && out)
        *out = *e;
    if (malformed)
        *malformed = f->sink.malformed;
    bool ok = e != NULL;
    feeder_free(f);
    return ok;
}

static pw_cert_cache_stats cstats(const pw_dissect_cache *c)
{
    pw_cert_cache_stats st;
    pw_cert_cache_get_stats(c->cert, &st);
    return st;
}

/* The same certificate in two flows is parsed once and reported identically
 * (and identically to a run without a cache). */
static void test_cert_cache_hit(void)
{
    pw_dissect_cache *cache = pw_dissect_cache_new(0);
    CHECK(cache != NULL && cache->cert != NULL);
    if (!cache || !cache->cert)
        return;
    CHECK_INT(cstats(cache).capacity, PW_CERT_CACHE_ENTRIES);
    static pw_event none, first, second;
    CHECK(cert_flow(NULL, 50001, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &none, NULL));
    CHECK(cert_flow(cache, 50002, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &first, NULL));
    pw_cert_cache_stats st = cstats(cache);
    CHECK_INT(st.misses, 1);
    CHECK_INT(st.hits, 0);
    CHECK_INT(st.entries, 1);
    CHECK(cert_flow(cache, 50003, leaf_der, sizeof leaf_der, ca_der, sizeof ca_der, &second, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 1);
    CHECK_INT(st.hits, 1);
    CHECK_INT(st.entries, 1);
    check_leaf(&first);
    check_leaf(&second);
    CHECK(memcmp(&none.u.tls, &first.u.tls, sizeof none.u.tls) == 0);
    CHECK(memcmp(&first.u.tls, &second.u.tls, sizeof first.u.tls) == 0);
    CHECK_INT(second.flow.client_port, 50003);

    /* Only the first certificate is looked up; a different chain length
     * around the same leaf still hits and reports its own chain_len. */
    static pw_event alone;
    CHECK(cert_flow(cache, 50004, leaf_der, sizeof leaf_der, NULL, 0, &alone, NULL));
    CHECK_INT(cstats(cache).hits, 2);
    CHECK_INT(alone.u.tls.chain_len, 1);
    CHECK_STR(alone.u.tls.subject_cn, "dc01.contoso.local");

    /* A different certificate is a miss with its own fields. */
    static pw_event ss;
    CHECK(cert_flow(cache, 50005, ss_der, sizeof ss_der, NULL, 0, &ss, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 2);
    CHECK_INT(st.entries, 2);
    CHECK_STR(ss.u.tls.subject_cn, "WS042.contoso.local");
    CHECK(ss.u.tls.self_signed);

    /* An unparsable certificate is remembered as such: malformed both times. */
    uint8_t garbage[64];
    memset(garbage, 0x30, sizeof garbage);
    int mal1 = 0, mal2 = 0;
    CHECK(!cert_flow(cache, 50006, garbage, sizeof garbage, NULL, 0, NULL, &mal1));
    CHECK(!cert_flow(cache, 50007, garbage, sizeof garbage, NULL, 0, NULL, &mal2));
    CHECK_INT(mal1, 1);
    CHECK_INT(mal2, 1);
    st = cstats(cache);
    CHECK_INT(st.misses, 3);
    CHECK_INT(st.hits, 3);
    CHECK_INT(st.evictions, 0);
    pw_dissect_cache_free(cache);
    pw_dissect_cache_free(NULL);
}

/* The cache never holds more than its bound; CLOCK spares a recently hit entry. */
static void test_cert_cache_evict(void)
{
    pw_dissect_cache *cache = pw_dissect_cache_new(2);
    CHECK(cache != NULL);
    if (!cache)
        return;
    static pw_event e;
    CHECK(cert_flow(cache, 1, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL)); /* miss */
    CHECK(cert_flow(cache, 2, ca_der, sizeof ca_der, NULL, 0, &e, NULL));     /* miss */
    CHECK(cert_flow(cache, 3, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL)); /* hit */
    pw_cert_cache_stats st = cstats(cache);
    CHECK_INT(st.misses, 2);
    CHECK_INT(st.hits, 1);
    CHECK_INT(st.entries, 2);
    CHECK_INT(st.capacity, 2);
    /* Full: the self-signed one evicts the CA (the leaf was used since). */
    CHECK(cert_flow(cache, 4, ss_der, sizeof ss_der, NULL, 0, &e, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 3);
    CHECK_INT(st.evictions, 1);
    CHECK_INT(st.entries, 2);
    CHECK(cert_flow(cache, 5, leaf_der, sizeof leaf_der, NULL, 0, &e, NULL));
    CHECK_INT(cstats(cache).hits, 2);
    CHECK_STR(e.u.tls.subject_cn, "dc01.contoso.local");
    CHECK(cert_flow(cache, 6, ss_der, sizeof ss_der, NULL, 0, &e, NULL));
    CHECK_INT(cstats(cache).hits, 3);
    CHECK_STR(e.u.tls.subject_cn, "WS042.contoso.local");
    /* The CA was evicted: parsed again, still right. */
    CHECK(cert_flow(cache, 7, ca_der, sizeof ca_der, NULL, 0, &e, NULL));
    st = cstats(cache);
    CHECK_INT(st.misses, 4);
    CHECK_INT(st.evictions, 2);
    CHECK_INT(st.entries, 2);
    CHECK_STR(e.u.tls.subject_cn, "Contoso Test Root CA");
    CHECK_STR(e.u.tls.subject, "CN=Contoso Test Root CA,O=Contoso Test,C=US");
    CHECK(e.u.tls.self_signed);
    CHECK_INT(e.u.tls.n_san, 0);
    pw_dissect_cache_free(cache);

    /* Direct use: keys are whole DER strings (same length, same hash
     * bucket or not, one different byte is a different key); many keys
     * through a small cache keep it at its bound. */
    pw_cert_cache *cc = pw_cert_cache_new(4);
    CHECK(cc != NULL);
    if (!cc)
        return;
    static uint8_t key[300];
    pw_cert_fields f;
    memset(&f, 0, sizeof f);
    f.ok = true;
    for (int i = 0; i < 100; i++) {
        memset(key, 0x55, sizeof key);
        key[sizeof key - 1] = (uint8_t)i;
        CHECK(pw_cert_cache_get(cc, key, sizeof key) == NULL);
        snprintf(f.subject_cn, sizeof f.subject_cn, "key%d", i);
        pw_cert_cache_put(cc, key, sizeof key, &f);
        const pw_cert_fields *got = pw_cert_cache_get(cc, key, sizeof key);
        CHECK(got != NULL);
        if (got)
            CHECK_STR(got->subject_cn, f.subject_cn);
    }
    pw_cert_cache_stats st2;
    pw_cert_cache_get_stats(cc, &st2);
    CHECK_INT(st2.entries, 4);
    CHECK_INT(st2.evictions, 96);
    CHECK_INT(st2.misses, 100);
    CHECK_INT(st2.hits, 100);
    /* the most recent key is still there, an old one is not */
    CHECK(pw_cert_cache_get(cc, key, sizeof key) != NULL);
    key[sizeof key - 1] = 0;
    CHECK(pw_cert_cache_get(cc, key, sizeof key) == NULL);
    /* a shorter prefix of a cached key is another key */
    key[sizeof key - 1] = 99;
    CHECK(pw_cert_cache_get(cc, key, sizeof key - 1) == NULL);
    /* oversized certificates are never cached */
    static uint8_t big[PW_CERT_CACHE_DER_MAX + 1];
    pw_cert_cache_put(cc, big, sizeof big, &f);
    CHECK(pw_cert_cache_get(cc, big, sizeof big) == NULL);
    pw_cert_cache_get_stats(cc, &st2);
    CHECK_INT(st2.uncacheable, 1);
    CHECK_INT(st2.entries, 4);
    pw_cert_cache_free(cc);
}

int main(void)
{
    test_client_hello_split();
    test_server_tls12();
    test_server_tls13();
    test_hello_retry();
    test_alert();
    test_not_tls();
    test_truncation();
    test_cert_cache_hit();
    test_cert_cache_evict();
    CHECK_DONE();
}
