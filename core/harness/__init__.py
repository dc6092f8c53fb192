"""The deterministic harness: the real maker in virtual time, and the swarm that runs it.

``loop`` jumps a virtual clock from one due time to the next, ``scenario`` draws one seed's
faults, market and operator script, ``invariants`` checks every rule after every event, and
``swarm`` runs many seeds across processes.  The exchange it runs against is the embedded one
in ``core.venues.sim``: that is a venue (the program's default one, also on the wall clock);
this is the test bench around it.  They were both called ``sim`` once, and newcomers mixed
them up.
"""
