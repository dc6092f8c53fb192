"""The real ``MarketMaker`` in virtual time.

The scenarios S1-S12, and the rules one file per room of ``core/maker/``.
"""
