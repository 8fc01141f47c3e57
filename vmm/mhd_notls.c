/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd without TLS: the gnutls functions its static archive names, never reached (kvmini sets no MHD_USE_TLS). */
#include <stdlib.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "vmm/api.h"

/*
 * Debian builds libmicrohttpd with HTTPS, so libmicrohttpd.a refers to 37 gnutls functions;
 * linking gnutls statically would drag in nettle, gmp, p11-kit (which Debian ships no static
 * archive of) and more. kvmini serves plain HTTP on a Unix socket: the library only calls
 * gnutls_global_init/deinit (its constructor and destructor) and, with MHD_USE_TLS, the rest.
 * Those abort: reaching one is a bug in kvmini, not input to handle.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"

gnutls_alloc_function gnutls_malloc;

int api__notls_linked;	/* api.c refers to it, which pulls this file into every link */

int gnutls_global_init(void)
{
	return 0;
}

void gnutls_global_deinit(void)
{
}

int gnutls_alpn_set_protocols(gnutls_session_t session, const gnutls_datum_t * protocols, unsigned protocols_size, unsigned flags)
{
	abort();
}

int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how)
{
	abort();
}

int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t * res)
{
	abort();
}

void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc)
{
	abort();
}

void gnutls_certificate_server_set_request(gnutls_session_t session, gnutls_certificate_request_t req)
{
	abort();
}

void gnutls_certificate_set_dh_params(gnutls_certificate_credentials_t res, gnutls_dh_params_t dh_params)
{
	abort();
}

void gnutls_certificate_set_retrieve_function2 (gnutls_certificate_credentials_t cred, gnutls_certificate_retrieve_function2 *func)
{
	abort();
}

void gnutls_certificate_set_retrieve_function3 (gnutls_certificate_credentials_t cred, gnutls_certificate_retrieve_function3 *func)
{
	abort();
}

int gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t res, const gnutls_datum_t * cert, const gnutls_datum_t * key, gnutls_x509_crt_fmt_t type)
{
	abort();
}

int gnutls_certificate_set_x509_key_mem2(gnutls_certificate_credentials_t res, const gnutls_datum_t * cert, const gnutls_datum_t * key, gnutls_x509_crt_fmt_t type, const char *pass, unsigned int flags)
{
	abort();
}

int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res, const gnutls_datum_t * ca, gnutls_x509_crt_fmt_t type)
{
	abort();
}

gnutls_cipher_algorithm_t gnutls_cipher_get(gnutls_session_t session)
{
	abort();
}

int gnutls_credentials_set(gnutls_session_t session, gnutls_credentials_type_t type, void *cred)
{
	abort();
}

void gnutls_deinit(gnutls_session_t session)
{
	abort();
}

void gnutls_dh_params_deinit(gnutls_dh_params_t dh_params)
{
	abort();
}

int gnutls_dh_params_import_pkcs3(gnutls_dh_params_t params, const gnutls_datum_t * pkcs3_params, gnutls_x509_crt_fmt_t format)
{
	abort();
}

int gnutls_dh_params_init(gnutls_dh_params_t * dh_params)
{
	abort();
}

int gnutls_handshake(gnutls_session_t session)
{
	abort();
}

int gnutls_init(gnutls_session_t * session, unsigned int flags)
{
	abort();
}

void gnutls_priority_deinit(gnutls_priority_t priority_cache)
{
	abort();
}

int gnutls_priority_init(gnutls_priority_t * priority_cache, const char *priorities, const char **err_pos)
{
	abort();
}

int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t priority)
{
	abort();
}

gnutls_protocol_t gnutls_protocol_get_version(gnutls_session_t session)
{
	abort();
}

int gnutls_psk_allocate_server_credentials(gnutls_psk_server_credentials_t * sc)
{
	abort();
}

void gnutls_psk_free_server_credentials(gnutls_psk_server_credentials_t sc)
{
	abort();
}

void gnutls_psk_set_server_credentials_function(gnutls_psk_server_credentials_t cred, gnutls_psk_server_credentials_function * func)
{
	abort();
}

size_t gnutls_record_check_pending(gnutls_session_t session)
{
	abort();
}

int gnutls_record_get_direction(gnutls_session_t session)
{
	abort();
}

ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size)
{
	abort();
}

ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size)
{
	abort();
}

void *gnutls_session_get_ptr(gnutls_session_t session)
{
	abort();
}

void gnutls_session_set_ptr(gnutls_session_t session, void *ptr)
{
	abort();
}

const char * gnutls_strerror(int error)
{
	abort();
}

void gnutls_transport_set_int2(gnutls_session_t session, int r, int s)
{
	abort();
}
