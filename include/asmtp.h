/*
 * asmtp: an asynchronous SMTP client library.
 *
 * This umbrella header includes the whole public API.
 */
#ifndef ASMTP_H
#define ASMTP_H

#include "asmtp/version.h"
#include "asmtp/error.h"
#include "asmtp/types.h"
#include "asmtp/session.h"
#include "asmtp/tls.h"
#include "asmtp/client.h"
#include "asmtp/sync.h"
#include "asmtp/pool.h"

#endif
