"""Integration with other frameworks; one lazily imported module per framework.

Import the one you need (``shiftaug.adapters.torchvision``, ``.albumentations``, ``.kornia``,
``.loader``); importing this package imports none of the frameworks.
"""
