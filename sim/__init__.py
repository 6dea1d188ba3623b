"""geosim: states and great powers trade, invest, lend, threaten and join blocs under scenario rules."""

__version__ = "0.1.0"
