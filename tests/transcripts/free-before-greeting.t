# Freeing before the greeting arrived: nothing was sent, every op is
# CANCELLED.
OP start
OP auth user=u pass=p
FREE
R: start CANCELLED
R: auth CANCELLED
