"""The embedded exchange (``test_sim_*``) and the Hyperliquid connector (``test_hl_*``).

The connector is also tested end to end against the loopback twin.
"""
