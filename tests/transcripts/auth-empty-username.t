# An auth with an empty username can never be sent: it is refused at
# submission, not later through the callback.
REFUSE BAD_ARGUMENT auth pass=s3cret
S: 220 mx
NOTHING
