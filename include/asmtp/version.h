/*
 * Version numbers and the export macro every public declaration carries.
 */
#ifndef ASMTP_VERSION_H
#define ASMTP_VERSION_H

#define ASMTP_VERSION_MAJOR  0
#define ASMTP_VERSION_MINOR  1
#define ASMTP_VERSION_PATCH  0
#define ASMTP_VERSION_STRING "0.1.0"

#if defined(ASMTP_BUILDING) && defined(__GNUC__)
#define ASMTP_EXTERN __attribute__((visibility("default")))
#else
#define ASMTP_EXTERN
#endif

#endif
