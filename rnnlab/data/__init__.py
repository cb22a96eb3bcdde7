"""Data for the course: every data set is generated here or ships with the package.

One module per kind of data; import the one you need, e.g. ``from rnnlab.data import text``.
Nothing is ever downloaded.
"""
