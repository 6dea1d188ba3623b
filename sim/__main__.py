"""`python -m sim` runs the geosim command line."""

from sim.cli import entry

if __name__ == "__main__":
    entry()
