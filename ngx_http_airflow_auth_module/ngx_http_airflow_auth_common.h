/*
 * Types shared by the nginx side of the module: the configuration at each
 * level and the per-request context.  Each .c file has its own .h for its
 * functions; this one holds only what all of them need.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_COMMON_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "aa_core.h"
#include "aa_codec.h"
#include "aa_redis.h"
#include "aa_roles.h"
#include "aa_seal.h"
#include "aa_session.h"


#define NGX_HTTP_AIRFLOW_AUTH_LOG  "airflow_auth: "


typedef struct ngx_http_airflow_auth_redis_s
    ngx_http_airflow_auth_redis_t;
typedef struct ngx_http_airflow_auth_redis_op_s
    ngx_http_airflow_auth_redis_op_t;
typedef struct ngx_http_airflow_auth_cache_s
    ngx_http_airflow_auth_cache_t;


typedef struct {
    ngx_str_t                        secret_file;
    aa_keyring_t                    *keyring;

    ngx_str_t                        redis_url;
    aa_redis_url_t                   redis;
    ngx_addr_t                      *redis_addr;
    ngx_str_t                        redis_name;   /* for logs, no password */
    /* sentinel:// only: the sentinels' addresses, redis.nhosts of them */
    ngx_addr_t                      *redis_sentinels;
#if (NGX_SSL)
    /* rediss:// only: the client TLS context, freed with the cycle */
    ngx_ssl_t                       *redis_ssl;
#endif
    ngx_str_t                        prefix;
    ngx_msec_t                       redis_timeout;

    time_t                           idle_timeout;
    time_t                           max_lifetime;

    ngx_str_t                        roles_mapping;
    aa_roles_map_t                  *roles_map;
    ngx_str_t                        default_role;  /* empty: none */

    ngx_str_t                        csp;

    size_t                           cache_size;    /* 0: off */
    ngx_http_airflow_auth_cache_t   *cache;

    ngx_flag_t                       used;

    /* per worker, made in init_process */
    ngx_http_airflow_auth_redis_t   *redis_client;
} ngx_http_airflow_auth_main_conf_t;


typedef struct {
    ngx_str_t                        endpoint;
    ngx_str_t                        cookie_name;
    ngx_flag_t                       used;
} ngx_http_airflow_auth_srv_conf_t;


typedef struct {
    ngx_int_t                        enable;
    ngx_str_t                        provider;
    ngx_array_t                     *require_roles;   /* of ngx_str_t */
} ngx_http_airflow_auth_loc_conf_t;


typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_LOOKUP_NONE = 0,
    NGX_HTTP_AIRFLOW_AUTH_LOOKUP_PENDING,
    NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND,
    NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT,
    NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE
} ngx_http_airflow_auth_lookup_e;


/* the identity as the variables and upstream headers carry it */
typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_VAR_USER = 0,
    NGX_HTTP_AIRFLOW_AUTH_VAR_EMAIL,
    NGX_HTTP_AIRFLOW_AUTH_VAR_NAME,
    NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES,
    NGX_HTTP_AIRFLOW_AUTH_VAR_GROUPS,
    NGX_HTTP_AIRFLOW_AUTH_VAR_IDP,
    NGX_HTTP_AIRFLOW_AUTH_NVARS
} ngx_http_airflow_auth_var_e;


typedef struct {
    ngx_http_airflow_auth_lookup_e   lookup;
    ngx_http_airflow_auth_redis_op_t *op;

    /* the endpoint asked for, and how far it got */
    ngx_uint_t                       endpoint;
    ngx_uint_t                       step;

    u_char                           id[AA_SESSION_ID_LEN];
    u_char                           hash[AA_REDIS_HASH_LEN];
    ngx_str_t                        key;

    aa_session_t                     session;
    ngx_str_t                        vars[NGX_HTTP_AIRFLOW_AUTH_NVARS];

    unsigned                         has_cookie:1;
    unsigned                         identity:1;
} ngx_http_airflow_auth_ctx_t;


extern ngx_module_t  ngx_http_airflow_auth_module;


#endif /* _NGX_HTTP_AIRFLOW_AUTH_COMMON_H_INCLUDED_ */
