/*
 * Return-URL checks.  Where a user goes after login or logout comes from a
 * query parameter an attacker controls, so only a relative path on our own
 * host passes: "/" followed by anything but "/" or "\", with no control
 * character, no backslash, and the same after one round of
 * percent-decoding.
 */

#ifndef AA_URL_H
#define AA_URL_H

#include "aa_core.h"


#define AA_RETURN_URL_MAX   4096


/* 1 when url (already percent-decoded once by the caller) may be used. */
int aa_return_url_ok(const u_char *url, size_t len);

#endif /* AA_URL_H */
