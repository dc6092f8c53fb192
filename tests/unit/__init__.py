"""The core's pure parts, one module at a time.

Orders, fills, exposure, rejections, recovery, strategy, units, key maps.
"""
