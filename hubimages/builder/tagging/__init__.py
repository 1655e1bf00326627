"""Tags of a built image, as in jupyter/docker-stacks' tagging: one plain function per rule.

release_tag.py  the immutable <date>-<sha> tag: decided once per build run, kept in a label
taggers.py      the rules (latest, release tag, python, lab/notebook/hub, tag_packages)
tags.py         applying the rules to what the image holds
"""
