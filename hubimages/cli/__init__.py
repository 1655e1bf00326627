"""The command line: the invoke tasks' bodies. The only layer that prints or exits."""
