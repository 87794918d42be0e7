/* ssrp.h - the SQL Server Browser (MS-SQLR) classifier that analysis may use
 * without the dissector: a datagram from UDP 1434 that is an SVR_RESP is the
 * answer to a browser request (often a broadcast one), never a new attempt. */
#ifndef PW_SSRP_H
#define PW_SSRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the bytes are an SSRP SVR_RESP: opcode 0x05 followed either by
 * the DAC answer (RESP_SIZE 6, version 1, port) or by RESP_DATA that starts
 * with "ServerName;" (any case).  Pure: looks only at the bytes given. */
bool pw_ssrp_is_response(const uint8_t *data, size_t len);

#endif
