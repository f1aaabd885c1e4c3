"""`python -m dnnexp` runs the command line."""

from dnnexp.cli import app

app(prog_name="dnnexp")
