/*
 * The session's private structures, shared between session.c (the state
 * machine) and the unit tests that look inside it.
 */
#ifndef ASMTP_SESSION_INTERNAL_H
#define ASMTP_SESSION_INTERNAL_H

#include "asmtp/session.h"
#include "body.h"
#include "buf.h"
#include "ext.h"
#include "reply.h"
#include "sasl.h"

#define ASMTP__DEFAULT_TIMEOUT_MS   60000u
#define ASMTP__DEFAULT_MAX_INFLIGHT 16384u
#define ASMTP__OUTPUT_HIGH_WATER    (64u * 1024u) /* content stops here */
#define ASMTP__CONTENT_SLICE        (16u * 1024u) /* encoded per step */
#define ASMTP__BDAT_CHUNK           (64u * 1024u) /* streamed BDAT chunk */

/* What a command in flight was, so its reply can be routed. */
enum cmd_kind {
    CMD_GREETING = 1, /* the 220 expected on connect */
    CMD_EHLO,
    CMD_HELO,
    CMD_STARTTLS,
    CMD_AUTH,        /* AUTH and every SASL response line */
    CMD_AUTH_CANCEL, /* "*" after a challenge we cannot answer */
    CMD_MAIL,
    CMD_RCPT,
    CMD_DATA,
    CMD_DOT,      /* the final dot after the content */
    CMD_LONE_DOT, /* a lone dot: DATA accepted with no recipient */
    CMD_BDAT,
    CMD_BDAT_LAST,
    CMD_RSET,
    CMD_SIMPLE, /* NOOP, VRFY, EXPN, HELP, RAW */
    CMD_QUIT,
};

struct op;

typedef struct cmd {
    int kind;      /* enum cmd_kind */
    struct op *op; /* NULL for the session's own commands */
    size_t index;  /* RCPT: which recipient */
    size_t bytes;  /* octets of the command line */
} cmd;

/* A transaction's envelope, content and replies. */
typedef struct txn {
    char *sender;
    size_t rcpt_count;
    char **addresses;
    unsigned *notify;
    char **orcpt;
    int body;
    int ret;
    char *envid;
    asmtp_content content;

    uint64_t size; /* RFC 1870 size, 0 when unknown */
    bool eight_bit;
    bool bdat;     /* use BDAT for this transaction */
    bool smtputf8; /* an address needs SMTPUTF8 */
    bool warned;

    asmtp_reply *mail_reply;
    asmtp_reply **rcpt_replies;
    asmtp_reply *data_reply;
    asmtp_reply *final_reply;
    asmtp_recipient_result *results;
    size_t next_rcpt; /* next RCPT to queue */
    size_t accepted;
    bool mail_refused;
    const asmtp_reply *refusal; /* data_reply or final_reply, if refused */
    int body_param;             /* the BODY= actually sent */

    asmtp_bytes *parts; /* in-memory content */
    size_t part_count;
    size_t part_index; /* the part being encoded */
    asmtp__body_encoder encoder;
    size_t content_off;  /* octets of that part handed to the encoder */
    bool source_done;    /* the read callback reported the end */
    uint64_t end_offset; /* output offset just past the terminator */
    bool end_queued;
    bool end_shutdown; /* the end of data was answered with 421 */
    bool behind;       /* MAIL went out behind unanswered commands */
    uint64_t mail_at;  /* output offset just past its MAIL */
    bool redone;       /* sent again once after a 503 to a MAIL behind */
    bool confused;     /* MAIL refused, yet the content was accepted */
} txn;

typedef struct op {
    struct op *next;
    int kind; /* enum asmtp_op */
    asmtp_done_cb cb;
    void *user_data;

    int step;       /* emission progress, per kind */
    size_t pending; /* commands in flight for this op */
    bool emitted;   /* every command has been queued */
    bool done;      /* the outcome is decided */

    int error;
    asmtp_reply *reply;                /* owned */
    const asmtp_reply *borrowed_reply; /* the session's or the txn's */
    char message[200];

    char *arg; /* VRFY, EXPN, HELP, RAW */
    /* AUTH */
    unsigned allowed;
    asmtp__buf username, secret, authzid;
    bool has_token;
    asmtp__sasl sasl;
    bool sasl_started;
    int auth_error; /* set when the exchange was cancelled */
    /* SEND */
    txn *txn;
} op;

enum session_state {
    STATE_OPEN = 0, /* talking */
    STATE_TLS,      /* paused for the TLS handshake */
    STATE_CLOSED,   /* nothing more is sent */
};

struct asmtp_session {
    const asmtp_mem *mem;
    asmtp_session_config config;
    char *local_hostname;

    int state; /* enum session_state */
    asmtp__reply_parser parser;
    asmtp__extensions ext;
    asmtp_reply *ehlo_reply;
    bool ehlo_done; /* extensions are known for this connection */
    bool esmtp;     /* EHLO (not HELO) succeeded */
    bool tls_active;
    bool starttls_pending; /* STARTTLS is to be sent */
    bool starttls_sent;    /* and awaits its reply */
    bool need_rset;
    bool closed_by_reply; /* a 421 answered a command: nothing after it
                             was taken in */
    bool quit_queued;     /* no more operations are accepted */
    bool quit_sent;
    bool want_close;
    bool tls_notified; /* start_tls has been called for this pause */

    int error; /* sticky */
    asmtp_reply *fatal_reply;
    char fatal_message[200];

    asmtp__buf out;
    uint64_t out_appended; /* octets ever appended to out */
    uint64_t out_written;  /* octets ever written */
    uint64_t secret_end;   /* out_appended just past the last SASL line */
    asmtp__buf chunk;      /* a streamed BDAT chunk being built */
    unsigned char *read_buf;

    op *ops_head, *ops_tail;
    op *emit;                 /* first op with commands still to queue */
    op *content_op;           /* op whose content is being produced */
    op *resend;               /* first op to be sent again, after RSET */
    uint64_t failed_bdat_end; /* offset past the last failed BDAT LAST */
    uint64_t rset_at;         /* offset past the last RSET */

    cmd *inflight; /* ring of commands awaiting replies */
    size_t inflight_cap, inflight_head, inflight_count;
    size_t inflight_bytes;
    bool barrier; /* the last command queued must be answered first */

    uint64_t activity; /* when bytes last moved */
    bool clock_stale;  /* activity must be restarted at the next time */

    int depth; /* nesting of calls that may run callbacks */
    bool free_pending;
    bool freeing;
};

#include "session_hooks.h"

#endif
