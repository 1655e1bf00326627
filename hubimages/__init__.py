"""Build, test and publish the SKA JupyterHub image matrix."""

RECIPE_VERSION = "3"  # bump when the build logic changes what an image contains or its labels
