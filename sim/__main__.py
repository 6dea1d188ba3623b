"""`python -m sim` runs the geosim command line."""

from sim.cli import main

main()
