"""Community environments: a scientist's repository built with repo2docker onto a platform image.

source.py        the repository's files at a commit (git mirror in the cache, or a folder)
config.py        what the repository asks for (requirements.txt, apt.txt, postBuild, start,
                 runtime.txt, a Python package, or its own Dockerfile) and what we refuse
requirements.py  its Python requirements resolved on the host against the platform's lock
engine.py        our repo2docker engine plugin: the Docker API through the docker SDK
buildpacks.py    our repo2docker buildpacks: layered on the platform image, no conda
build.py         one environment in a build run: up to date, or built, labelled and tagged
"""
