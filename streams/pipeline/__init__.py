"""The per-batch logic: intake, processor, customer records, timers, commands, dead letters
and the commit protocol. It imports no Faust, aiokafka or Redis: it speaks to them through
the ports of ``streams.pipeline.ports``, which ``streams.edge`` implements."""
