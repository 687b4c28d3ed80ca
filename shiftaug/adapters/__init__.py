"""Integration with other frameworks; one lazily imported module per framework.

Import the one you need; importing this package imports none of the frameworks:

- :mod:`shiftaug.adapters.torchvision`: ``transforms.v2`` transforms (``tv_tensors``, PIL,
  per-sample shifts on batches);
- :mod:`shiftaug.adapters.albumentations`: ``DualTransform`` s, serializable to YAML/JSON
  (``import shiftaug`` registers them for ``A.load``);
- :mod:`shiftaug.adapters.kornia`: augmentations for ``AugmentationSequential``;
- :mod:`shiftaug.adapters.loader`: augment batches on the device after a ``DataLoader``, and a
  detection collate.

Every adapter drives a core transform through one mechanism, ``shiftaug.adapters._common``
(whose docstring says how to wrap a new transform).
"""
